"""The Python SDK client over stdio (`python -m mcp_agents serve` as a subprocess), in both protocol eras."""

from __future__ import annotations

from typing import Any

import pytest
from mcp.types import ElicitResult

from tests.e2e.clients import MODES, call, demo, start, stdio, wait_until_answered
from tests.e2e.processes import Service
from tests.support.progress import Progress

pytestmark = pytest.mark.anyio

@pytest.mark.parametrize("mode", MODES)
async def test_delegate_and_wait_with_live_progress(wired_service: Service, mode: str) -> None:
    async with stdio(wired_service, mode) as mcp:
        assert mcp.server_info is not None and mcp.server_info.name == "mcp-agents"
        run_id = await start(mcp, data=demo(steps=3))
        progress = Progress()
        runs = await wait_until_answered(mcp, [run_id], progress_callback=progress)
        assert runs[run_id]["status"] == "completed" and runs[run_id]["answer"].startswith("Done: e2e")
        assert progress.lines and all(0 < len(line) <= 200 for line in progress.lines)
        assert any("PLAN" in line for line in progress.lines)
        values = [value for value, _, _ in progress.events]
        assert values == sorted(values)


@pytest.mark.parametrize("mode", MODES)
async def test_a_question_is_answered_by_elicitation(wired_service: Service, mode: str) -> None:
    asked: list[str] = []

    async def human(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"answer": "teal"})

    async with stdio(wired_service, mode, elicitation_callback=human) as mcp:
        run_id = await start(mcp, data=demo(ask="Which colour?"), interactive=True)
        runs = await wait_until_answered(mcp, [run_id])
        assert asked and "Which colour?" in asked[0]
        assert runs[run_id]["turn"] == "waiting_for_input" and "You said: teal" in runs[run_id]["answer"]


@pytest.mark.parametrize("mode", MODES)
async def test_read_only_mode_offers_only_read_only_tools(service: Service, mode: str) -> None:
    async with stdio(service, mode, env={"MCP_AGENTS_READ_ONLY": "true", "MCP_AGENTS_TOOLSETS": "all"}) as mcp:
        tools = (await mcp.list_tools()).tools
        names = {tool.name for tool in tools}
        assert {"get_agent_run", "list_agent_runs", "wait_for_agent_runs", "read_agent_artifact"} <= names
        assert not names & {"start_agent_run", "cancel_agent_run", "send_agent_input", "upload_agent_artifact"}
        assert all(tool.annotations is not None and tool.annotations.read_only_hint for tool in tools)
        listed = await call(mcp, "list_agent_runs", {})
        assert isinstance(listed, dict)
