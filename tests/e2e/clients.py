"""MCP clients of the end-to-end tests: the Python SDK over stdio and over streamable HTTP."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from tests.e2e.processes import HttpServer, Service

MODES = ["auto", "legacy"]
CALL_TIMEOUT = 40.0  # one tool call, never reached when things work
MAX_WAITS = 10


@asynccontextmanager
async def stdio(service: Service, mode: str, **options: Any) -> AsyncIterator[Client]:
    env = service.env(**options.pop("env", {}))
    params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_agents", "serve"], env=env)
    async with Client(params, mode=mode, **options) as mcp:
        yield mcp


@asynccontextmanager
async def http(server: HttpServer, mode: str, *, bearer: str | None = None, **options: Any) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60)) as transport_client, \
            Client(streamable_http_client(server.url, http_client=transport_client), mode=mode, **options) as mcp:
        yield mcp


async def call(mcp: Client, tool: str, arguments: dict[str, Any], **options: Any) -> dict[str, Any]:
    """A successful call's structured content (the test fails with the tool's text otherwise)."""
    with anyio.fail_after(CALL_TIMEOUT):
        result: CallToolResult = await mcp.call_tool(tool, arguments, **options)
    text = " ".join(getattr(item, "text", "") for item in result.content)
    assert not result.is_error, f"{tool} failed: {text}"
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def start(mcp: Client, interaction: str = "Demo", **fields: Any) -> str:
    fields.setdefault("interactive", False)
    started = await call(mcp, "start_agent_run", {"interaction": interaction, **fields})
    return str(started["runs"][0]["run_id"])


def demo(**data: Any) -> dict[str, Any]:
    return {"task": "e2e", "steps": 2, "step_delay_ms": 5, **data}


def answered(run: dict[str, Any]) -> bool:
    """Done, or its turn is over with no question pending (an interactive run that answered goes IDLE)."""
    return bool(run.get("done") or (run.get("turn") == "waiting_for_input" and not run.get("question")))


async def wait_until_answered(mcp: Client, run_ids: list[str], **options: Any) -> dict[str, dict[str, Any]]:
    """wait_for_agent_runs (until=all) repeated with its cursors until every run is done or answered.

    A done run comes with its final status and answer in the same result, an answered turn with its
    answer: the tests check them.
    """
    since: dict[str, str] = {}
    runs: dict[str, dict[str, Any]] = {}
    for _ in range(MAX_WAITS):
        waited = await call(mcp, "wait_for_agent_runs", {"run_ids": run_ids, "since": since, "timeout_seconds": 30},
                            **options)
        for run in waited["runs"]:
            runs[run["run_id"]] = run
            if run.get("cursor"):
                since[run["run_id"]] = run["cursor"]
        if all(answered(run) for run in runs.values()) and len(runs) == len(run_ids):
            return runs
    raise AssertionError(f"runs not done after {MAX_WAITS} waits: {runs}")
