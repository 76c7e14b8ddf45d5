"""Fairness on one replica: one caller's heavy wait must not slow another caller's short calls.

On one `mcp-agents serve --transport http` replica, caller B (its own API key, a distinct principal)
samples `get_agent_run` while idle; then caller A (another key) follows `fanout_runs` runs with one
`wait_for_agent_runs` while the bench keeps posting to those runs, and B samples again. The per-caller
upstream limits (`MCP_AGENTS_CALLER_*`) are what keeps B's p95 near its idle value (target <= 2x).
B runs in a process of its own (`bench.caller`), apart from the bench's load (A's client, the posting).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import httpx2
from anyio.streams.buffered import BufferedByteReceiveStream

from mcp_agents.bench import caller
from mcp_agents.bench.fanout import PATTERN, POSTERS, create_runs, ready_all, stop_runs, warm
from mcp_agents.bench.harness import Harness, HttpServer, Service, caller_http, issue_token, log
from mcp_agents.bench.rawhttp import Endpoint, read_response, request_head
from mcp_agents.bench.report import Figure, Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.bench.stats import summarize
from mcp_agents.bench.waits import Pulse, Tap, keep_waiting, latest_cursor
from mcp_agents.models.paths import API_VERSION

FAIRNESS_TARGET = 2.0
WAIT_CALL_SECONDS = 300.0
TIMEOUT = httpx2.Timeout(WAIT_CALL_SECONDS + 30, connect=30.0)
REPLY_BYTES = 1 << 20


class OtherCaller:
    """Caller B: `bench.caller` in its own process, asked for samples over its stdin."""

    def __init__(self, process: anyio.abc.Process) -> None:
        assert process.stdin is not None and process.stdout is not None
        self._requests = process.stdin
        self._replies = BufferedByteReceiveStream(process.stdout)

    async def sample(self, count: int) -> list[float]:
        await self._requests.send(f"{count}\n".encode())
        return [float(value) for value in json.loads(await self._replies.receive_until(b"\n", REPLY_BYTES))]


@asynccontextmanager
async def other_caller(harness: Harness, server: HttpServer, run_id: str, api_key: str) -> AsyncIterator[OtherCaller]:
    command = [sys.executable, "-m", "mcp_agents.bench.caller", server.url, run_id]
    env = harness.base_env(**{caller.KEY_ENV: api_key})
    async with await anyio.open_process(command, env=env, stderr=harness.errlog("fairness-caller.log")) as process:
        try:
            yield OtherCaller(process)
        finally:
            if process.stdin is not None:
                await process.stdin.aclose()  # the caller ends at the end of its input
            with anyio.move_on_after(10) as scope:
                await process.wait()
            if scope.cancelled_caught:
                process.kill()


async def _keep_posting(service: Service, runs: list[str], posted: list[int]) -> None:
    """One message to every run, again and again (the heavy caller's runs stay busy), until cancelled.

    Raw keep-alive POSTs (`rawhttp`, as ingest posts): through the client library the bench took 25-37 %
    of a core here, against 8 % raw with more posts, on the same cores as the replica under test."""
    endpoint = Endpoint.from_url(service.base_url)
    headers = {"Authorization": f"Bearer {await issue_token(service)}", "x-api-version": API_VERSION,
               "Content-Type": "application/json"}
    conns = [await endpoint.connect() for _ in range(POSTERS)]
    queue: list[tuple[str, bytes]] = []

    async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while queue:
            run_id, body = queue.pop()
            writer.write(request_head("POST", endpoint, f"/agents/{run_id}/updates", headers, len(body)) + body)
            status, answer = await read_response(reader)
            if not 200 <= status < 300:
                raise RuntimeError(f"posting to run {run_id} answered {status}: {answer[:200]!r}")

    try:
        for round_ in itertools.count():
            queue.extend((run_id, json.dumps({"message": f"busy-{index}-{round_}"}).encode())
                         for index, run_id in reversed(list(enumerate(runs))))
            async with anyio.create_task_group() as group:
                for reader, writer in conns:
                    group.start_soon(send, reader, writer)
            posted[0] += len(runs)
            await anyio.sleep(0.2)
    finally:
        for _, writer in conns:
            writer.close()


async def measure(harness: Harness, service: Service, sizes: Sizes) -> Figure:
    count = sizes.fanout_runs
    figure = Figure("fairness", f"one caller follows {count} runs; another caller's get_agent_run meanwhile")
    heavy_key, light_key = service.caller_keys[-2:]
    async with harness.api_client(service) as client:
        runs, _ = await create_runs(client, count + 1)
        light_run, runs = runs[0], runs[1:]
        cursors = {run_id: await latest_cursor(client, run_id) for run_id in runs}
        async with harness.http_server(service) as server, httpx2.AsyncHTTPTransport() as transport, \
                harness.http_client(server, caller_http(transport, heavy_key, TIMEOUT)) as heavy, \
                other_caller(harness, server, light_run, light_key) as light:
            await warm(heavy, runs[0], cursors)
            idle = await light.sample(sizes.repeat)
            pulse = Pulse()
            tap = Tap(PATTERN, pulse)
            posted = [0]
            async with anyio.create_task_group() as group:
                group.start_soon(keep_waiting, heavy, runs, cursors, tap, WAIT_CALL_SECONDS)
                await ready_all(client, runs, lambda index: tap, pulse, sizes.timeout)
                log(f"fairness: the heavy caller follows {count} runs")
                group.start_soon(_keep_posting, service, runs, posted)
                busy = await light.sample(sizes.repeat)
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
    gap_ms = caller.SAMPLE_GAP_SECONDS * 1000
    figure.notes.append(f"each caller has its own API key (a distinct principal) and its own process (the sampled "
                        f"one apart from the bench's load); samples {gap_ms:.0f} ms apart;"
                        " the busy ones run while the bench posts a message (raw keep-alive POSTs) to each of the "
                        "heavy caller's runs every 0.2 s or so and its wait relays them (16 runs over streams, "
                        "the rest by polling)")
    return figure
