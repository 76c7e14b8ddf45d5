"""Relay latency: a message posted to the service -> the `notifications/progress` line an MCP client gets.

The target run is an interactive `Echo` run (it stays alive waiting for input). While an MCP
client waits on it with `wait_for_agent_runs` (an `mcp-agents serve` stdio subprocess), the
client library's own `messages.stream` follows it directly: the path the server itself uses,
without MCP. Messages are posted one at a time; each one yields a pair (through MCP, direct),
both timed from just before its POST, so the ratio is taken on the very same message.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio

from mcp_agents.bench.harness import Harness, Service, log
from mcp_agents.bench.report import Figure, Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.bench.stats import paired_ratio, summarize
from mcp_agents.bench.waits import Pulse, Seen, Tap, keep_waiting, wait_for
from mcp_agents.client import AgentRunsClient

TARGET = 1.5
PATTERN = r"relay-(\d+)\b"
GAP_SECONDS = 0.01  # lets both paths go idle before the next message
PER_MESSAGE_SECONDS = 10.0
WAIT_CALL_SECONDS = 120.0
MAX_LOST = 5


async def _direct(client: AgentRunsClient, run_id: str, since: int, seen: Seen) -> None:
    async for message in client.messages.stream(run_id, since=since):
        seen.add(message.message)


async def measure(harness: Harness, service: Service, sizes: Sizes) -> Figure:
    figure = Figure("relay_latency", "posted message -> notifications/progress at the MCP client")
    pulse = Pulse()
    tap, seen = Tap(PATTERN, pulse), Seen(PATTERN, pulse)
    mcp_ms: list[float] = []
    direct_ms: list[float] = []
    lost_mcp = lost_direct = 0
    async with harness.api_client(service) as client:
        run = await client.runs.create(interaction="Echo", interactive=True, data={"task": "relay latency"})
        await anyio.sleep(0.2)  # let the run post its first answer
        history = await client.messages.retrieve(run.id)
        cursor = max((message.timestamp or 0 for message in history), default=0)
        async with harness.stdio_client(harness.server_env(service), log_name="relay.log") as mcp, \
                anyio.create_task_group() as group:
            group.start_soon(keep_waiting, mcp, [run.id], {run.id: cursor}, tap, WAIT_CALL_SECONDS)
            group.start_soon(_direct, client, run.id, cursor, seen)

            def arrived(key: str) -> Callable[[], bool]:
                return lambda: key in tap.seen and key in seen.seen

            # warm-up until both paths are live: posts before a subscription exists are not timed
            warm, deadline = 0, time.monotonic() + sizes.timeout
            while not (str(warm - 1) in tap.seen and str(warm - 1) in seen.seen):
                if time.monotonic() > deadline:
                    raise TimeoutError("the MCP wait or the direct stream never delivered a message")
                await client.messages.post(run.id, message=f"relay-{warm}")
                await wait_for(arrived(str(warm)), pulse, 0.5)
                warm += 1
            for _ in range(5):  # steady state
                await client.messages.post(run.id, message=f"relay-{warm}")
                await wait_for(arrived(str(warm)), pulse, PER_MESSAGE_SECONDS)
                warm += 1
            log(f"relay latency: {sizes.relay_messages} messages, one at a time")
            for index in range(warm, warm + sizes.relay_messages):
                key = str(index)
                await anyio.sleep(GAP_SECONDS)
                started = time.perf_counter()
                await client.messages.post(run.id, message=f"relay-{index}")
                await wait_for(arrived(key), pulse, PER_MESSAGE_SECONDS)
                if key not in tap.seen:
                    lost_mcp += 1
                if key not in seen.seen:
                    lost_direct += 1
                if key in tap.seen and key in seen.seen:
                    mcp_ms.append((tap.seen[key] - started) * 1000)
                    direct_ms.append((seen.seen[key] - started) * 1000)
                if lost_mcp + lost_direct >= MAX_LOST:  # a broken path: report it rather than wait on
                    figure.notes.append(f"stopped after {MAX_LOST} lost messages")
                    break
            group.cancel_scope.cancel()
    if not mcp_ms:
        raise RuntimeError("no message reached both the MCP client and the direct subscriber")
    ratio = paired_ratio(mcp_ms, direct_ms)
    measured = summarize(mcp_ms)
    direct = summarize(direct_ms)
    figure.lines.append(Line("post -> progress notification (MCP stdio, `wait_for_agent_runs`)", "ms", measured,
                             "client `messages.stream` (direct SSE)", direct, ratio,
                             f"<= {TARGET}x at p50, 0 lost", ratio.p50 <= TARGET and lost_mcp == 0,
                             note=f"+{measured.p50 - direct.p50:.2f} ms at p50"))
    figure.lines.append(Line("messages lost through MCP / direct", "messages", lost_mcp, "direct", lost_direct,
                             target="0", ok=lost_mcp == 0,
                             note=f"{tap.duplicates} duplicated through MCP, {seen.duplicates} direct"))
    figure.notes.append("each pair is one message timed from just before its POST to its arrival on each path; "
                        "one message in flight at a time; the MCP server uses the service as a remote backend")
    return figure
