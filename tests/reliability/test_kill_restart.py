"""The local service killed with SIGKILL mid-run and started again on the same port and data dir.

Nothing the service acknowledged is lost, a wait in progress in the MCP server carries on to the
end of the run, a call made during the outage fails with a clear error, and the next one succeeds.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_agents.models.cursor import Cursor
from tests.reliability.helpers import (
    STEP_TIMEOUT,
    assert_clean_error,
    data,
    expected_lines,
    fast_client,
    mcp_over,
    stored_messages,
)
from tests.support.processes import LocalServiceProcess, free_port
from tests.support.progress import Progress

pytestmark = pytest.mark.timeout(150)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[LocalServiceProcess]:
    process = LocalServiceProcess(tmp_path / "data", f"sk-rel-{secrets.token_hex(16)}", port=free_port())
    await process.astart()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def mcp(service: LocalServiceProcess) -> AsyncIterator[Client]:
    async with fast_client(service.base_url, service.sts_url, service.api_key) as client, mcp_over(client) as mcp:
        yield mcp


@pytest.mark.parametrize("stop", ["sigkill", "sigterm"])
async def test_a_restart_mid_wait_loses_nothing_and_the_wait_carries_on(service: LocalServiceProcess, mcp: Client,
                                                                        stop: str) -> None:
    started = data(await mcp.call_tool("start_agent_run", {
        "interaction": "Demo", "interactive": False, "data": {"task": "crash", "steps": 60, "step_delay_ms": 40}}))
    run_id = started["runs"][0]["run_id"]
    progress = Progress()
    outcome: dict[str, Any] = {}

    async def waiting() -> None:
        result = await mcp.call_tool("wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 90},
                                     progress_callback=progress)
        outcome["result"] = result

    with anyio.fail_after(STEP_TIMEOUT * 3):
        async with anyio.create_task_group() as group:
            group.start_soon(waiting)
            while len(progress.lines) < 4:
                await progress.seen.wait()
                progress.seen = anyio.Event()
            service.kill() if stop == "sigkill" else service.stop()
            acknowledged = list(progress.lines)

            during = await mcp.call_tool("get_agent_run", {"run_id": run_id})
            assert_clean_error(during, "failed", "check the base url")
            await service.astart()
            # the next call after recovery succeeds
            assert data(await mcp.call_tool("get_agent_run", {"run_id": run_id}))["run"]["id"] == run_id

    waited = data(outcome["result"])["runs"][0]
    stored = await stored_messages(service.base_url, service.sts_url, service.api_key, run_id)
    lines = expected_lines(run_id, stored)
    # A wait relays the newest part of the history it starts with (its last 20 messages), then
    # everything live: what it relayed is the stored tail, exactly once and in order, across the restart.
    first = len(lines) - len(progress.lines)
    assert first >= 0
    assert lines[first: first + len(acknowledged)] == acknowledged  # relayed before the kill, still stored
    assert progress.lines == lines[first:]
    # Demo cannot resume: the service fails it after the restart, and the wait reports that end.
    assert waited["done"] and waited["status"] == "failed" and Cursor.parse(waited["cursor"]).ts == stored[-1].timestamp
    assert "restart" in (waited.get("error") or "").lower()
    assert service.process is not None and service.process.poll() is None


async def test_acknowledged_updates_survive_sigkill(service: LocalServiceProcess, mcp: Client) -> None:
    run_id = data(await mcp.call_tool("start_agent_run", {"interaction": "Echo", "interactive": True,
                                                          "data": {"task": "notes"}}))["runs"][0]["run_id"]
    acknowledged: list[str] = []

    async def post(number: int) -> None:
        result = await mcp.call_tool("post_agent_update", {"run_id": run_id, "message": f"note {number}"})
        if not result.is_error:
            acknowledged.append(f"note {number}")

    async with anyio.create_task_group() as group:
        for number in range(40):
            group.start_soon(post, number)
    assert len(acknowledged) == 40
    service.kill()
    await service.astart()
    with anyio.fail_after(STEP_TIMEOUT):
        stored = await stored_messages(service.base_url, service.sts_url, service.api_key, run_id)
    texts = [m.message for m in stored]
    assert set(acknowledged) <= set(texts)
    assert len([t for t in texts if t and t.startswith("note ")]) == 40  # none doubled either
    result = data(await mcp.call_tool("get_agent_messages", {"run_id": run_id, "limit": 500}))
    assert len(result["messages"]) == len(stored)
    assert data(await mcp.call_tool("cancel_agent_run", {"run_id": run_id}))["runs"][0]["done"]
