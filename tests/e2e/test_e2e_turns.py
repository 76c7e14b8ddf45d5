"""Turns that end: an interactive run's answered turn ends the wait, over stdio and HTTP, in both protocol eras.

The local service runs with same-millisecond bursts (the module's service), so a turn's ANSWER and its
IDLE share a millisecond, as on the hosted service. The waits have a long timeout; `timed_out` false
proves they returned on the turn's end, not on the clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from mcp import Client

from tests.e2e.clients import MODES, call, http, start, stdio
from tests.e2e.processes import HttpServer, Service

pytestmark = pytest.mark.anyio
LONG = 60  # seconds: never reached when a turn's end ends the wait
TRANSPORTS = ["stdio", "http"]


@asynccontextmanager
async def connect(transport: str, mode: str, service: Service, server: HttpServer) -> AsyncIterator[Client]:
    if transport == "stdio":
        async with stdio(service, mode) as mcp:
            yield mcp
    else:
        async with http(server, mode) as mcp:
            yield mcp


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_answered_turns_end_the_wait(service: Service, http_server: HttpServer, transport: str,
                                           mode: str) -> None:
    async with connect(transport, mode, service, http_server) as mcp:
        run_ids = [await start(mcp, "Echo", data={"task": f"hello {n}"}, interactive=True) for n in range(2)]
        # Fan-out over interactive runs: until="all" returns once every run's turn is over.
        waited = await call(mcp, "wait_for_agent_runs", {"run_ids": run_ids, "until": "all", "timeout_seconds": LONG})
        assert not waited["timed_out"]
        for n, run in enumerate(waited["runs"]):
            assert run["status"] == "running" and not run["done"] and run["turn"] == "waiting_for_input"
            assert run["answer"] == f"hello {n}" and run["messages"]["by_type"] == {"ANSWER": 1, "IDLE": 1}
        assert "send_agent_input" in waited["next_step"] and "cancel_agent_run" in waited["next_step"]

        # The next turn: send_agent_input with wait_seconds returns when it ends, with its own answer only.
        first = run_ids[0]
        replied = await call(mcp, "send_agent_input", {"run_id": first, "message": "again", "wait_seconds": LONG})
        run = replied["runs"][0]
        assert not replied["timed_out"] and run["turn"] == "waiting_for_input" and run["answer"] == "again"
        assert run["messages"]["count"] == 2

        # A resumed wait on the other run goes on from its cursor: only the next turn's messages.
        cursor = waited["runs"][1]["cursor"]
        await call(mcp, "send_agent_input", {"run_id": run_ids[1], "message": "more"})
        resumed = await call(mcp, "wait_for_agent_runs", {"run_ids": [run_ids[1]], "since": {run_ids[1]: cursor},
                                                          "timeout_seconds": LONG})
        assert not resumed["timed_out"] and resumed["runs"][0]["answer"] == "more"

        # Ending the conversation: the run is done.
        for run_id in run_ids:
            cancelled = await call(mcp, "cancel_agent_run", {"run_id": run_id})
            assert cancelled["runs"][0]["status"] == "cancelled" and cancelled["runs"][0]["done"]
