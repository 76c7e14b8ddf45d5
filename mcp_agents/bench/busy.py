"""One busy replica: many concurrent `wait_for_agent_runs` callers over streamable HTTP, each on its own run.

For each protocol era (2026-07-28, and 2025-11-25 sessions), a fresh `mcp-agents serve --transport http`
(the local service as its remote backend) gets `busy_callers` MCP clients, each following one
interactive `Echo` run with `wait_for_agent_runs` (re-called with its cursors when a wait ends). Once
every run is followed, one message is posted to each run at once (the burst a busy replica meets) while
direct SSE subscribers (`messages.stream`, the client library alone) follow a sample of the same runs:
- memory per wait: the server's VmRSS growth from before the callers to every run followed, / callers;
- CPU per relayed message: the server's CPU time during the burst / messages;
- progress latency: POST -> `notifications/progress` at the caller, p50/p95 over every run, and paired
  with the direct subscriber's arrival of the very same message on the sampled runs;
- nothing lost or duplicated.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import anyio
import httpx2
from mcp.client.client import ConnectMode

from mcp_agents.bench import procs
from mcp_agents.bench.fanout import PATTERN, create_runs, post_all, ready_all, stop_runs, warm
from mcp_agents.bench.harness import Harness, HttpServer, Service, caller_http, log
from mcp_agents.bench.report import Figure, Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.bench.stats import paired_ratio, summarize
from mcp_agents.bench.waits import Pulse, Seen, Tap, keep_waiting, latest_cursor, wait_for
from mcp_agents.client import AgentRunsClient

WAIT_CALL_SECONDS = 300.0
SAMPLED = 50  # runs also followed by a direct SSE subscriber
CONNECT_CONCURRENCY = 50  # callers connecting at once (the bench process is one Python process too)


@dataclass
class Burst:
    rss_before_kb: int = 0
    rss_following_kb: int = 0
    cpu_seconds: float = 0.0
    seconds: float = 0.0
    lost: int = 0
    duplicated: int = 0
    messages: int = 0
    failed_posts: int = 0  # POSTs the bench's own client lost on the connection: not expected, not counted
    seconds_to_follow: float = 0.0
    mcp_ms: list[float] = field(default_factory=list)
    paired_mcp_ms: list[float] = field(default_factory=list)
    paired_direct_ms: list[float] = field(default_factory=list)


async def _direct(client: AgentRunsClient, run_id: str, since: str, seen: Seen) -> None:
    async for message in client.messages.stream(run_id, since=since):
        seen.add(message.message)


async def _burst(harness: Harness, server: HttpServer, client: AgentRunsClient, runs: list[str],
                 keys: Sequence[str], sizes: Sizes, mode: ConnectMode) -> Burst:
    """Caller `i` follows `runs[i]` with its own MCP client, its bearer `keys[i]`."""
    out = Burst()
    cursors = {run_id: await latest_cursor(client, run_id) for run_id in runs}
    pulse = Pulse()
    taps = [Tap(PATTERN, pulse) for _ in runs]
    direct = [Seen(PATTERN, pulse) for _ in runs[:SAMPLED]]
    connections = len(runs) * 2 + 10
    # No keep-alive: a connection the server closes as idle just as a caller reuses it fails that call with
    # ReadError (nothing retries a POST); a loopback connect per call costs the bench nothing it measures.
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=0)
    timeout = httpx2.Timeout(WAIT_CALL_SECONDS + 30, connect=60.0)
    async with httpx2.AsyncHTTPTransport(limits=limits) as transport:
        async with harness.http_client(server, caller_http(transport, keys[0], timeout), mode=mode) as first:
            await warm(first, runs[0], cursors)
        out.rss_before_kb = procs.rss_kb(server.pid)
        connecting = anyio.Semaphore(CONNECT_CONCURRENCY)

        async def caller(index: int) -> None:
            http = caller_http(transport, keys[index], timeout)
            async with AsyncExitStack() as stack:
                async with connecting:  # connect a few at a time; follow all at once
                    mcp = await stack.enter_async_context(harness.http_client(server, http, mode=mode))
                await keep_waiting(mcp, [runs[index]], {runs[index]: cursors[runs[index]]}, taps[index],
                                   WAIT_CALL_SECONDS)

        async with anyio.create_task_group() as group:
            for index, run_id in enumerate(runs[:SAMPLED]):
                group.start_soon(_direct, client, run_id, cursors[run_id], direct[index])
            for index in range(len(runs)):
                group.start_soon(caller, index)
            started = time.monotonic()
            attempts = await ready_all(client, runs, lambda index: taps[index], pulse,
                                       sizes.timeout + len(runs) * 0.1)
            out.seconds_to_follow = time.monotonic() - started
            log(f"busy replica ({mode}): {len(runs)} callers following after {out.seconds_to_follow:.1f} s")
            out.rss_following_kb = procs.rss_kb(server.pid)
            await ready_all(client, runs[:SAMPLED], lambda index: direct[index], pulse, sizes.timeout, attempts)
            cpu_before = procs.cpu_seconds(server.pid)
            posted: dict[str, float] = {}
            markers = [f"fan-{index}-0" for index in range(len(runs))]
            begun = time.perf_counter()
            failed = set(await post_all(client, [(run_id, markers[index]) for index, run_id in enumerate(runs)],
                                        posted))
            expected = [i for i in range(len(runs)) if markers[i] not in failed]

            def delivered() -> bool:
                return all(markers[i] in taps[i].seen for i in expected) and all(
                    markers[i] in direct[i].seen for i in range(len(direct)) if markers[i] not in failed)

            await wait_for(delivered, pulse, sizes.timeout)
            out.seconds = time.perf_counter() - begun
            out.cpu_seconds = procs.cpu_seconds(server.pid) - cpu_before
            group.cancel_scope.cancel()
    out.messages = len(expected)
    out.failed_posts = len(failed)
    out.lost = sum(1 for i in expected if markers[i] not in taps[i].seen)
    out.duplicated = sum(tap.duplicates for tap in taps)
    out.mcp_ms = [(taps[i].seen[markers[i]] - posted[markers[i]]) * 1000
                  for i in expected if markers[i] in taps[i].seen]
    for i, seen in enumerate(direct):
        if markers[i] in seen.seen and markers[i] in taps[i].seen and markers[i] not in failed:
            out.paired_mcp_ms.append((taps[i].seen[markers[i]] - posted[markers[i]]) * 1000)
            out.paired_direct_ms.append((seen.seen[markers[i]] - posted[markers[i]]) * 1000)
    return out


def _lines(era: str, callers: int, burst: Burst, judged: bool) -> list[Line]:
    label = f"{callers:,} waits, {era}"
    per_wait = (burst.rss_following_kb - burst.rss_before_kb) / callers
    lines = [
        Line(f"{label}: lost / duplicated progress lines", "messages", burst.lost,
             target="0 lost, 0 duplicated" if judged else "",
             ok=(burst.lost == 0 and burst.duplicated == 0) if judged else None,
             note=f"{burst.duplicated} duplicated of {burst.messages:,}; burst relayed in {burst.seconds:.2f} s; all "
                  f"callers connected and following in {burst.seconds_to_follow:.0f} s"
                  + (f"; {burst.failed_posts} posts failed at the bench's client, not counted"
                     if burst.failed_posts else "")),
        Line(f"{label}: memory per wait", "KB", per_wait,
             note=f"VmRSS {burst.rss_before_kb / 1024:.0f} -> {burst.rss_following_kb / 1024:.0f} MiB"),
        Line(f"{label}: server CPU per relayed message", "µs", burst.cpu_seconds / max(burst.messages, 1) * 1e6,
             note=f"{burst.cpu_seconds:.2f} s CPU for {burst.messages:,} messages posted at once"),
    ]
    if burst.mcp_ms:
        lines.append(Line(f"{label}: post -> progress, every caller", "ms", summarize(burst.mcp_ms),
                          note="one message posted to every run at once, 16 posters"))
    if burst.paired_mcp_ms:
        ratio = paired_ratio(burst.paired_mcp_ms, burst.paired_direct_ms)
        lines.append(Line(f"{label}: post -> progress, sampled runs", "ms", summarize(burst.paired_mcp_ms),
                          "direct SSE subscriber, same message", summarize(burst.paired_direct_ms), ratio,
                          note="measured under the burst, no target"))
    return lines


async def measure(harness: Harness, service: Service, sizes: Sizes) -> Figure:
    callers = sizes.busy_callers
    if len(service.caller_keys) < callers:
        raise ValueError(f"the service has {len(service.caller_keys)} caller keys; the busy replica needs {callers}")
    figure = Figure("busy_replica", f"one replica, {callers:,} concurrent wait_for_agent_runs callers over HTTP")
    own = list(service.caller_keys[:callers])
    shared = [service.caller_keys[0]] * callers
    passes: tuple[tuple[str, ConnectMode, list[str]], ...] = (
        ("2026-07-28", "auto", own), ("2025-11-25 sessions", "legacy", own),
        ("2026-07-28, one credential for all", "auto", shared),
        ("2025-11-25 sessions, one credential for all", "legacy", shared))
    async with harness.api_client(service) as client:
        log(f"busy replica: creating {callers:,} runs")
        runs, _ = await create_runs(client, callers)
        for era, mode, keys in passes:
            try:
                async with harness.http_server(service) as server:
                    log(f"busy replica ({era}): {callers:,} callers")
                    burst = await _burst(harness, server, client, runs, keys, sizes, mode)
            except Exception as exc:  # one pass breaking must not hide the others' figures
                cause: BaseException = exc
                while isinstance(cause, BaseExceptionGroup) and cause.exceptions:
                    cause = cause.exceptions[0]
                log(f"busy replica ({era}) failed: {type(cause).__name__}: {cause}")
                figure.lines.append(Line(f"{callers:,} waits, {era}: broke", "count", callers,
                                         ok=False if keys is own else None,
                                         target="every wait served" if keys is own else "",
                                         note=f"{type(cause).__name__}: {str(cause)[:240]}"))
                continue
            figure.lines.extend(_lines(era, callers, burst, judged=keys is own))
        await stop_runs(client, runs)
    figure.notes.append(f"each caller is its own MCP client with its own API key (a distinct principal of the local "
                        f"service, as on a shared deployment), except in the last two passes, where all share one key; "
                        f"{min(SAMPLED, callers)} runs also have a direct SSE subscriber for the paired latency; "
                        "memory = server VmRSS growth / waits; latency includes the burst's queueing")
    return figure
