"""What a wait reports is consistent: `done` comes with the final status, and with the final answer.

These run against the scripted Agent Runs API (a real HTTP server on loopback) because they need
what the local service never does on its own: a run record that lags its end-of-run message, and
messages that share a timestamp (both seen on the live service).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.types import ElicitResult

from mcp_agents.client import AgentRunsClient, RetryPolicy, StreamPolicy
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.settings import TOOLSETS, Settings
from tests.server.tools_helpers import MODES, call, data
from tests.support.scripted_api import ScriptedAPI

pytestmark = pytest.mark.parametrize("mode", MODES)
STEP_TIMEOUT = 15.0
FAST_RETRY = RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.05, jitter=0.1, max_total=5.0,
                         max_retry_after=1.0)
FAST_STREAM = StreamPolicy(read_timeout=2.0, connect_timeout=2.0, base_delay=0.01, max_delay=0.05, jitter=0.1,
                           max_attempts=5, stable_after=5.0, poll_interval=0.02, sse_retry_interval=0.3,
                           max_poll_failures=50)


@asynccontextmanager
async def scripted_mcp(mode: str, **options: Any) -> AsyncIterator[tuple[ScriptedAPI, Client]]:
    """An in-memory MCP client over a server whose backend is the scripted API."""
    api = ScriptedAPI()
    async with api.serve() as root, AgentRunsClient(base_url=f"{root}/api/v1", sts_url=root, api_key=api.api_key,
                                                     retry_policy=FAST_RETRY, stream_policy=FAST_STREAM) as client:
        settings = Settings(toolsets=TOOLSETS)
        server = build_server(settings, deps=ServerDeps(settings, client))
        async with Client(server, mode=mode, **options) as mcp:
            yield api, mcp


class Lines:
    """Progress lines, with a way to wait for one."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._changed = anyio.Event()

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.lines.append(message or "")
        self._changed.set()
        self._changed = anyio.Event()

    async def wait_for(self, *fragments: str) -> None:
        with anyio.fail_after(STEP_TIMEOUT):
            while not any(all(f in line for f in fragments) for line in self.lines):
                await self._changed.wait()


async def test_done_comes_with_the_final_status_in_a_fan_out(mode: str) -> None:
    """Run A's end-of-run message arrives before its record says so; run B ends meanwhile.

    The wait must not report A `done` with the status it read before A's end (the fan-out race).
    """
    async with scripted_mcp(mode) as (api, mcp):
        first, second = api.create_run(interaction="Demo")["id"], api.create_run(interaction="Demo")["id"]
        lines = Lines()
        result: dict[str, Any] = {}

        async def waiting() -> None:
            result.update(data(await call(mcp, "wait_for_agent_runs", {
                "run_ids": [first, second], "until": "all", "timeout_seconds": 20}, progress_callback=lines)))

        async with anyio.create_task_group() as group:
            group.start_soon(waiting)
            api.emit(first, "UPDATE", "working")
            api.emit(second, "UPDATE", "working")
            await lines.wait_for(first[-6:], "UPDATE")
            await lines.wait_for(second[-6:], "UPDATE")
            api.emit(first, "COMPLETE", "Run completed")  # the record still says `running`
            await lines.wait_for(first[-6:], "COMPLETE")
            await anyio.sleep(0.15)
            api.emit(second, "COMPLETE", "Run completed")
            api.finish(second)
            await anyio.sleep(0.15)
            api.finish(first)  # the record catches up
        runs = {run["run_id"]: run for run in result["runs"]}
        for run in runs.values():
            assert not run["done"] or run["status"] == "completed", run
        assert runs[first]["done"] and runs[second]["done"]


async def test_the_answer_is_reported_even_when_it_shares_the_questions_timestamp(mode: str) -> None:
    """After the user answers (elicitation), the run's ANSWER lands at the question's timestamp.

    The wait's cursor is that timestamp, so the ANSWER is not newer than it; the done run must
    still come back with its answer.
    """
    api_ref: list[ScriptedAPI] = []
    asked: list[str] = []
    question_ts = int(time.time() * 1000) - 1000

    async def human(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        api, run_id = api_ref[0], next(iter(api_ref[0].runs))
        api.emit(run_id, "ANSWER", "Done: the chart is teal.", ts=question_ts)
        api.emit(run_id, "COMPLETE", "Run completed", ts=question_ts)
        api.finish(run_id)
        return ElicitResult(action="accept", content={"answer": "teal"})

    async with scripted_mcp(mode, elicitation_callback=human) as (api, mcp):
        api_ref.append(api)
        run_id = api.create_run(interaction="Demo")["id"]
        api.emit(run_id, "UPDATE", "working", ts=question_ts - 10)
        api.emit(run_id, "QUESTION", "Which colour?", ts=question_ts)
        with anyio.fail_after(STEP_TIMEOUT):
            result = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 10}))
        run = result["runs"][0]
        assert len(asked) == 1 and api.signals == [(run_id, "UserInput", {"message": "teal"})]
        assert run["done"] and run["status"] == "completed"
        assert run.get("answer") == "Done: the chart is teal."

        again = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 5,
                                                             "since": {run_id: run["cursor"]}}))
        assert again["runs"][0]["done"] and again["runs"][0].get("answer") == "Done: the chart is teal."
