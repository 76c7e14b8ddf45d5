"""Relay latency: a message posted to the service -> the `notifications/progress` line an MCP client gets.

The target run is an interactive `Echo` run (it stays alive waiting for input). While an MCP
client waits on it with `wait_for_agent_runs` (an `mcp-agents serve` subprocess, over stdio, then
over streamable HTTP), the client library's own `messages.stream` follows it directly: the path
the server itself uses, without MCP. Messages are posted one at a time; each one yields a pair
(through MCP, direct), both timed from just before its POST, so the ratio is taken on the very
same message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

import anyio
import httpx2
from mcp import Client

from mcp_agents.bench.harness import Harness, Service, log
from mcp_agents.bench.report import Figure, Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.bench.stats import paired_ratio, summarize
from mcp_agents.bench.waits import Pulse, Seen, Tap, keep_waiting, latest_cursor, wait_for
from mcp_agents.client import AgentRunsClient

TARGET = 1.5
GAP_SECONDS = 0.01  # lets both paths go idle before the next message
PER_MESSAGE_SECONDS = 10.0
WAIT_CALL_SECONDS = 120.0
MAX_LOST = 5
STEADY = 5


@dataclass
class Phase:
    mcp_ms: list[float] = field(default_factory=list)
    direct_ms: list[float] = field(default_factory=list)
    lost_mcp: int = 0
    lost_direct: int = 0
    duplicated_mcp: int = 0
    duplicated_direct: int = 0
    stopped_early: bool = False


async def _direct(client: AgentRunsClient, run_id: str, since: str, seen: Seen) -> None:
    async for message in client.messages.stream(run_id, since=since):
        seen.add(message.message)


async def _phase(client: AgentRunsClient, run_id: str, connect: AbstractAsyncContextManager[Client], prefix: str,
                 sizes: Sizes) -> Phase:
    pulse = Pulse()
    pattern = rf"\b{prefix}-(\d+)\b"
    tap, seen = Tap(pattern, pulse), Seen(pattern, pulse)
    phase = Phase()
    cursor = await latest_cursor(client, run_id)

    def arrived(key: str) -> Callable[[], bool]:
        return lambda: key in tap.seen and key in seen.seen

    async with connect as mcp, anyio.create_task_group() as group:
        group.start_soon(keep_waiting, mcp, [run_id], {run_id: cursor}, tap, WAIT_CALL_SECONDS)
        group.start_soon(_direct, client, run_id, cursor, seen)
        # warm-up until both paths are live (posts before a subscription exists are not timed), then steady state
        index, deadline, live = 0, time.monotonic() + sizes.timeout, 0
        while live < STEADY:
            if time.monotonic() > deadline:
                raise TimeoutError("the MCP wait or the direct stream never delivered a message")
            await client.messages.post(run_id, message=f"{prefix}-{index}")
            if await wait_for(arrived(str(index)), pulse, 0.5 if live == 0 else PER_MESSAGE_SECONDS):
                live += 1
            index += 1
        log(f"relay latency ({prefix}): {sizes.relay_messages} messages, one at a time")
        first = index
        for number in range(first, first + sizes.relay_messages):
            key = str(number)
            await anyio.sleep(GAP_SECONDS)
            started = time.perf_counter()
            await client.messages.post(run_id, message=f"{prefix}-{number}")
            await wait_for(arrived(key), pulse, PER_MESSAGE_SECONDS)
            phase.lost_mcp += key not in tap.seen
            phase.lost_direct += key not in seen.seen
            if key in tap.seen and key in seen.seen:
                phase.mcp_ms.append((tap.seen[key] - started) * 1000)
                phase.direct_ms.append((seen.seen[key] - started) * 1000)
            if phase.lost_mcp + phase.lost_direct >= MAX_LOST:  # a broken path: report it rather than wait on
                phase.stopped_early = True
                break
        group.cancel_scope.cancel()
    phase.duplicated_mcp, phase.duplicated_direct = tap.duplicates, seen.duplicates
    return phase


def _lines(label: str, phase: Phase) -> list[Line]:
    if not phase.mcp_ms:
        raise RuntimeError(f"{label}: no message reached both the MCP client and the direct subscriber")
    ratio = paired_ratio(phase.mcp_ms, phase.direct_ms)
    measured, direct = summarize(phase.mcp_ms), summarize(phase.direct_ms)
    stopped = f"; stopped after {MAX_LOST} lost" if phase.stopped_early else ""
    return [
        Line(f"post -> progress notification ({label})", "ms", measured, "client `messages.stream` (direct SSE)",
             direct, ratio, f"<= {TARGET}x at p50", ratio.p50 <= TARGET,
             note=f"{measured.p50 - direct.p50:+.2f} ms at p50"),
        Line(f"messages lost ({label} / direct)", "messages", phase.lost_mcp, "direct",
             phase.lost_direct, target="0 lost", ok=phase.lost_mcp == 0,
             note=f"{phase.duplicated_mcp} duplicated through MCP, {phase.duplicated_direct} direct{stopped}"),
    ]


async def measure(harness: Harness, service: Service, sizes: Sizes) -> Figure:
    figure = Figure("relay_latency", "posted message -> notifications/progress at the MCP client")
    async with harness.api_client(service) as client:
        run = await client.runs.create(interaction="Echo", interactive=True, data={"task": "relay latency"})
        stdio = harness.stdio_client(harness.server_env(service), log_name="relay.log")
        figure.lines.extend(_lines("MCP stdio", await _phase(client, run.id, stdio, "relay", sizes)))
        async with harness.http_server(service) as server, \
                httpx2.AsyncClient(timeout=httpx2.Timeout(WAIT_CALL_SECONDS + 30, connect=10.0)) as http:
            over_http = harness.http_client(server, http)
            figure.lines.extend(_lines("MCP streamable HTTP", await _phase(client, run.id, over_http, "hrelay",
                                                                           sizes)))
        await client.runs.terminate(run.id)
    figure.notes.append("each pair is one message timed from just before its POST to its arrival on each path; "
                        "one message in flight at a time; the MCP servers use the service as a remote backend")
    return figure
