"""Replicas share the sealing of `requestState` (MCP_AGENTS_REQUEST_STATE_KEY): a retry may reach any of them."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from mcp.server import MCPServer
from mcp.types import ElicitResult, InputRequiredResult

from mcp_agents.client import AgentRunsClient
from mcp_agents.local import RunningService
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.server.http import HttpConfigError, HttpOptions, request_state_security
from mcp_agents.settings import OPTION_BY_NAME, Settings
from tests.server.serving_helpers import STEP_TIMEOUT, api_client, fast_demo

SHARED = "correct horse battery staple replicated"


def replica(client: AgentRunsClient, key: str) -> MCPServer[ServerDeps]:
    settings = Settings()
    return build_server(settings, deps=ServerDeps(settings, client), http=HttpOptions(request_state_key=key))


async def never_asked(context: Any, params: Any) -> ElicitResult:
    raise AssertionError("the retry carries the answer; nobody is asked again")


async def test_a_retry_sealed_by_one_replica_is_accepted_by_another_with_the_same_key(
        local_service: RunningService) -> None:
    async with api_client(local_service) as client:
        run = await client.runs.create(interaction="Demo", data=fast_demo(ask="Which colour?"), interactive=True)
        arguments = {"run_ids": [run.id], "timeout_seconds": 30}
        with anyio.fail_after(STEP_TIMEOUT):
            async with Client(replica(client, SHARED), elicitation_callback=never_asked) as first:
                asked = await first.session.call_tool("wait_for_agent_runs", arguments, allow_input_required=True)
        assert isinstance(asked, InputRequiredResult) and asked.request_state
        (key,) = asked.input_requests or {}
        answer = {key: ElicitResult(action="accept", content={"answer": "teal"})}

        async with Client(replica(client, SHARED + "!"), elicitation_callback=never_asked) as stranger:
            with pytest.raises(MCPError, match="requestState"):
                await stranger.session.call_tool("wait_for_agent_runs", arguments, input_responses=answer,
                                                 request_state=asked.request_state, allow_input_required=True)
        assert (await client.runs.retrieve(run.id)).status == "running"  # the refused retry sent nothing

        with anyio.fail_after(STEP_TIMEOUT * 2):
            async with Client(replica(client, SHARED), elicitation_callback=never_asked) as second:
                result = await second.session.call_tool("wait_for_agent_runs", arguments, input_responses=answer,
                                                        request_state=asked.request_state,
                                                        allow_input_required=True)
        assert not isinstance(result, InputRequiredResult) and not result.is_error
        waited = (result.structured_content or {})["runs"][0]
        assert waited["turn"] == "waiting_for_input" and "You said: teal" in waited["answer"]


def test_the_key_comes_from_the_environment_and_is_never_shown() -> None:
    option = OPTION_BY_NAME["request_state_key"]
    assert option.secret and option.help.startswith("HTTP:") and option.flag is None
    options = HttpOptions.load({"MCP_AGENTS_REQUEST_STATE_KEY": SHARED})
    assert options.request_state_key == SHARED and SHARED not in repr(options)
    assert request_state_security("") is None
    exact = "k" * 32  # exactly 32 bytes: used as is; a longer value is hashed into 32 bytes
    token = request_state_security(exact).codec.seal(b"x")  # type: ignore[union-attr]
    assert request_state_security(exact).codec.unseal(token) == b"x"  # type: ignore[union-attr]
    old, new = request_state_security(SHARED), request_state_security(f"{SHARED}-new, {SHARED}")  # rotation
    sealed_by_old = old.codec.seal(b"z")  # type: ignore[union-attr]
    assert new.codec.unseal(sealed_by_old) == b"z"  # type: ignore[union-attr]
    assert request_state_security(f"{SHARED}-new").codec.unseal(new.codec.seal(b"w")) == b"w"  # type: ignore[union-attr]


def test_a_key_shorter_than_32_bytes_is_refused_with_its_reason() -> None:
    for value in ("short", "k" * 31, f"{SHARED}, short"):  # a short rotation key is as guessable
        with pytest.raises(HttpConfigError, match="fewer than 32"):
            request_state_security(value)
        with pytest.raises(HttpConfigError, match="MCP_AGENTS_REQUEST_STATE_KEY"):
            HttpOptions.load({"MCP_AGENTS_REQUEST_STATE_KEY": value})
    done = subprocess.run([sys.executable, "-m", "mcp_agents", "serve", "--transport", "http", "--port", "0"],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={**os.environ, "MCP_AGENTS_REQUEST_STATE_KEY": "hunter2"})
    assert done.returncode == 2 and "fewer than 32" in done.stderr and "hunter2" not in done.stderr + done.stdout
