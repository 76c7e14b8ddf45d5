"""An assistant with the default toolsets finds the agents it can start in one call (`list_agents`), and starts
one by the name it found: through real MCP clients, over stdio and streamable HTTP, with the server talking to
the local service as a remote Agent Runs API (as it talks to the hosted one)."""

from __future__ import annotations

import pytest
from mcp.types import PromptReference

from tests.e2e.clients import MODES, call, http, stdio, wait_until_answered
from tests.e2e.processes import HttpServer, Service

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", MODES)
async def test_find_an_agent_in_one_call_then_start_it_by_that_name(service: Service, mode: str) -> None:
    async with stdio(service, mode) as mcp:
        tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
        listing = tools["list_agents"]
        assert listing.annotations is not None and listing.annotations.read_only_hint
        assert "list_agents" in (tools["start_agent_run"].input_schema["properties"]["interaction"]["description"])

        found = await call(mcp, "list_agents", {})
        by_name = {agent["name"]: agent for agent in found["agents"]}
        assert {"Demo", "Echo"} <= set(by_name)
        assert all(agent["description"] and isinstance(agent["interactive"], bool) for agent in found["agents"])
        assert "demo" in by_name["Demo"]["tags"]

        (chosen,) = (await call(mcp, "list_agents", {"query": "research report"}))["agents"]
        started = await call(mcp, "start_agent_run", {"interaction": chosen["name"], "interactive": False,
                                                      "data": {"task": "e2e", "steps": 1, "step_delay_ms": 5}})
        run_id = started["runs"][0]["run_id"]
        runs = await wait_until_answered(mcp, [run_id])
        assert runs[run_id]["status"] == "completed" and runs[run_id]["interaction"] == "Demo"

        guessed = await mcp.call_tool("start_agent_run", {"interaction": "NoSuchAgent"})
        assert guessed.is_error and "list_agents" in guessed.content[0].text  # type: ignore[union-attr]

        none = await mcp.call_tool("list_agents", {"query": "no-such-agent-anywhere"})
        assert not none.is_error and none.structured_content == {"agents": []}
        assert "no agent matches" in none.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", MODES)
async def test_allow_interactions_limits_what_is_listed(service: Service, mode: str) -> None:
    async with stdio(service, mode, env={"MCP_AGENTS_ALLOW_INTERACTIONS": "Echo"}) as mcp:
        found = await call(mcp, "list_agents", {})
        assert [agent["name"] for agent in found["agents"]] == ["Echo"]


async def test_over_http_with_the_callers_bearer_and_completion_and_prompt(service: Service,
                                                                           http_server: HttpServer) -> None:
    async with http(http_server, "auto", bearer=service.alice_key) as mcp:
        found = await call(mcp, "list_agents", {"query": "echo"})
        assert [agent["name"] for agent in found["agents"]] == ["Echo"]
        prompt = PromptReference(name="delegate_task")
        names = (await mcp.complete(prompt, {"name": "interaction", "value": "de"})).completion.values
        assert names == ["Demo"]
        delegate = await mcp.get_prompt("delegate_task", {"task": "Count the widgets"})
        assert "list_agents" in delegate.messages[0].content.text  # type: ignore[union-attr]
