"""`mcp-agents serve` (stdio, a real subprocess) through repeated fault cycles: it never crashes and its memory
stays flat."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from mcp_agents.local import RunningService
from tests.reliability.helpers import STEP_TIMEOUT, assert_clean_error, data, rss_kb
from tests.support.fault_proxy import FaultProxy
from tests.support.processes import clean_env

pytestmark = pytest.mark.timeout(180)
WARM_UP = 8
CYCLES = 30
GROWTH_LIMIT_KB = 30 * 1024


def server_pid() -> int:
    """The `mcp_agents serve` child of this test process."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"mcp_agents" in command and b"serve" in command:
            return int(entry.name)
    raise AssertionError("the mcp-agents serve subprocess was not found")


async def cycle(mcp: Client, proxy: FaultProxy, number: int) -> None:
    """One round of ordinary work and of faults."""
    proxy.fail_next(1, status=429, retry_after="0", path_contains="/api/v1/agents")
    started = await mcp.call_tool("start_agent_run", {
        "interaction": "Demo", "interactive": False, "wait_seconds": 20,
        "data": {"task": f"memory {number} " + "x" * 2000, "steps": 2, "step_delay_ms": 1}})
    run = data(started)["runs"][0]
    assert run["done"], run
    data(await mcp.call_tool("get_agent_messages", {"run_id": run["run_id"], "detail": "full"}))
    data(await mcp.call_tool("list_agent_runs", {"limit": 50}))
    assert_clean_error(await mcp.call_tool("get_agent_run", {"run_id": f"missing-{number}"}), "404")
    assert_clean_error(await mcp.call_tool("read_agent_artifact", {"run_id": run["run_id"], "path": "../x"}), "path")
    assert (await mcp.call_tool("get_agent_run", {"run_id": 5})).is_error
    if number % 12 == 0:  # a stream cut (the subprocess reconnects with its production backoff, ~1 s)
        proxy.cut_streams_after(events=1, times=1)
        again = await mcp.call_tool("start_agent_run", {"interaction": "Demo", "interactive": False,
                                                        "wait_seconds": 20, "data": {"steps": 2, "step_delay_ms": 30}})
        assert data(again)["runs"][0]["done"]


async def test_the_server_process_survives_fault_cycles_with_flat_memory(local_service: RunningService) -> None:
    async with FaultProxy(local_service.sts_url, seed=9) as proxy:
        env = clean_env(VERTESIA_API_URL=proxy.url + "/api/v1", VERTESIA_STS_URL=proxy.url,
                        VERTESIA_API_KEY=local_service.api_key, MCP_AGENTS_LOG_LEVEL="warning")
        params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_agents", "serve"], env=env)
        samples: list[int] = []
        async with Client(params) as mcp:
            pid = server_pid()
            with anyio.fail_after(STEP_TIMEOUT * 4):
                for number in range(WARM_UP + CYCLES):
                    await cycle(mcp, proxy, number)
                    if number == WARM_UP - 1 or number == WARM_UP + CYCLES - 1:
                        samples.append(rss_kb(pid))
            alive: Any = await mcp.call_tool("list_agent_runs", {"limit": 1})
            assert not alive.is_error
        growth = samples[1] - samples[0]
        print(f"server RSS after warm-up {samples[0]} kB, after {CYCLES} more cycles {samples[1]} kB "
              f"({growth:+d} kB)")
        assert growth < GROWTH_LIMIT_KB
