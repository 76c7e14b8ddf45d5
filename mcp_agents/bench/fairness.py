"""Fairness on one replica: one caller's heavy wait must not slow another caller's short calls.

On one `mcp-agents serve --transport http` replica, caller B (its own API key, a distinct principal)
samples `get_agent_run` while idle; then caller A (another key) follows `fanout_runs` runs with one
`wait_for_agent_runs` while the bench keeps posting to those runs, and B samples again. The per-caller
upstream limits (`MCP_AGENTS_CALLER_*`) are what keeps B's p95 near its idle value (target <= 2x).
"""

from __future__ import annotations

import time

import anyio
import httpx2
from mcp import Client

from mcp_agents.bench.fanout import PATTERN, create_runs, post_all, ready_all, stop_runs, warm
from mcp_agents.bench.harness import Harness, Service, caller_http, log, structured
from mcp_agents.bench.report import Figure, Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.bench.stats import summarize
from mcp_agents.bench.waits import Pulse, Tap, keep_waiting, latest_cursor
from mcp_agents.client import AgentRunsClient

FAIRNESS_TARGET = 2.0
WAIT_CALL_SECONDS = 300.0
TIMEOUT = httpx2.Timeout(WAIT_CALL_SECONDS + 30, connect=30.0)
SAMPLE_GAP_SECONDS = 0.05  # between samples: the busy ones then span several of the heavy wait's poll rounds


async def _sample(mcp: Client, run_id: str, count: int, gap: float = SAMPLE_GAP_SECONDS) -> list[float]:
    out: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        structured(await mcp.call_tool("get_agent_run", {"run_id": run_id}))
        out.append((time.perf_counter() - started) * 1000)
        await anyio.sleep(gap)
    return out


async def _keep_posting(client: AgentRunsClient, runs: list[str], posted: list[int]) -> None:
    """One message to every run, again and again (the heavy caller's runs stay busy), until cancelled."""
    round_ = 0
    while True:
        await post_all(client, [(run_id, f"busy-{index}-{round_}") for index, run_id in enumerate(runs)])
        posted[0] += len(runs)
        round_ += 1
        await anyio.sleep(0.2)


async def measure(harness: Harness, service: Service, sizes: Sizes) -> Figure:
    count = sizes.fanout_runs
    figure = Figure("fairness", f"one caller follows {count} runs; another caller's get_agent_run meanwhile")
    heavy_key, light_key = service.caller_keys[-2:]
    async with harness.api_client(service) as client:
        runs, _ = await create_runs(client, count + 1)
        light_run, runs = runs[0], runs[1:]
        cursors = {run_id: await latest_cursor(client, run_id) for run_id in runs}
        async with harness.http_server(service) as server, httpx2.AsyncHTTPTransport() as transport:
            light_http, heavy_http = caller_http(transport, light_key, TIMEOUT), caller_http(transport, heavy_key,
                                                                                            TIMEOUT)
            async with harness.http_client(server, light_http) as light, \
                    harness.http_client(server, heavy_http) as heavy:
                await warm(heavy, runs[0], cursors)
                await _sample(light, light_run, 5, 0)  # warm: the light caller's bearer check and token
                idle = await _sample(light, light_run, sizes.repeat)
                pulse = Pulse()
                tap = Tap(PATTERN, pulse)
                posted = [0]
                async with anyio.create_task_group() as group:
                    group.start_soon(keep_waiting, heavy, runs, cursors, tap, WAIT_CALL_SECONDS)
                    await ready_all(client, runs, lambda index: tap, pulse, sizes.timeout)
                    log(f"fairness: the heavy caller follows {count} runs")
                    group.start_soon(_keep_posting, client, runs, posted)
                    busy = await _sample(light, light_run, sizes.repeat)
                    group.cancel_scope.cancel()
        await stop_runs(client, [light_run, *runs])
    idle_stats, busy_stats = summarize(idle), summarize(busy)
    ratio = busy_stats.p95 / idle_stats.p95 if idle_stats.p95 else float("inf")
    figure.lines.append(Line(
        f"another caller's `get_agent_run` while one follows {count} runs (HTTP, 2026-07-28)", "ms", busy_stats,
        "the same caller, the replica idle", idle_stats, summarize([ratio]), target=f"<= {FAIRNESS_TARGET:.0f}x at p95",
        ok=ratio <= FAIRNESS_TARGET,
        note=f"ratio of the p95s; {posted[0]:,} messages posted to the followed runs during the busy samples, "
             f"{tap.lines:,} progress lines relayed"))
    gap_ms = SAMPLE_GAP_SECONDS * 1000
    figure.notes.append(f"each caller has its own API key (a distinct principal); samples {gap_ms:.0f} ms apart;"
                        " the busy ones run while the bench posts a message to each of the heavy caller's "
                        "runs every 0.2 s or so and its wait relays them (16 runs over streams, the rest by polling)")
    return figure
