"""Agent runs as MCP tasks on one replica: what a `tasks/get` costs, and what pollers cost together.

Over streamable HTTP in the 2026-07-28 era (the tasks extension), each client has its own API key and
starts a long `Demo` run with `start_agent_run` as a task. The server runs with its HTTP log at INFO,
where the client library logs one line per request to the Agent Runs API: the bench counts those
lines to count backend requests.
- one `tasks/get`, uncached (the task's run not read for longer than the server's cache) and cached
  (read again at once): time at the caller, and backend requests per call;
- `task_clients` clients each polling its task at the advertised `pollIntervalMs` for a while:
  backend requests per second and the server's CPU;
- one task polled at `pollIntervalMs` by one poller, then by `SHARED_POLLERS` pollers of one credential
  (a client in several windows, or a poller beside its listen stream): backend requests per `tasks/get`,
  which the server's read cache is for.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult
from pydantic import TypeAdapter

from mcp_agents.bench import procs
from mcp_agents.bench.harness import Harness, Service, caller_http, log
from mcp_agents.bench.report import Figure, Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.bench.stats import summarize
from mcp_agents.server.tasks.modern import TaskIdParams
from mcp_agents.server.tasks.requests import CancelTask, GetTask, TaskHandle
from mcp_agents.server.tasks.status import POLL_WORKING_MS

TASKS = "io.modelcontextprotocol/tasks"
RAW: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
LONG_DEMO = {"task": "bench task", "steps": 1, "step_delay_ms": 600_000}  # stays `working` for ten minutes
CACHE_GAP_SECONDS = POLL_WORKING_MS / 1000 + 0.2  # longer than a working task's read is reused: the next is uncached
SHARED_POLLERS = 10  # pollers of one task with one credential
SHARED_POLL_SECONDS = 10.0  # at most, for each of the one-poller and shared figures
UNCACHED_ROUNDS = 3
BACKEND_LINE = b"HTTP Request: "  # httpx2's INFO line, one per request to the Agent Runs API
TIMEOUT = httpx2.Timeout(60.0, connect=30.0)
FIRST_INTERVAL_SECONDS = 2.0  # the working task's advertised interval, over which the pollers spread their start


class _Requester(ClientExtension):
    """Declares the tasks extension; a task handle resolves at once (its id kept here), the bench polls."""

    identifier = TASKS

    def __init__(self) -> None:
        self.task_ids: list[str] = []

    def claims(self) -> Sequence[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=TaskHandle, resolve=self._resolve)]

    async def _resolve(self, handle: TaskHandle, ctx: ClaimContext) -> CallToolResult:
        self.task_ids.append(handle.task_id)
        return CallToolResult(content=[], structured_content={"runs": []})  # valid for the tool's outputSchema


async def _get(mcp: Client, task_id: str) -> tuple[float, dict[str, Any]]:
    session: Any = mcp.session  # a raw result (dict): the SDK's typing wants a Result model
    started = time.perf_counter()
    task: dict[str, Any] = await session.send_request(GetTask(params=TaskIdParams(task_id=task_id)), RAW)
    return (time.perf_counter() - started) * 1000, task


def _backend_requests(log_path: Path) -> int:
    return log_path.read_bytes().count(BACKEND_LINE)


async def _start(mcp: Client, requester: _Requester) -> str:
    result = await mcp.call_tool("start_agent_run", {"interaction": "Demo", "data": LONG_DEMO})
    if result.is_error or not requester.task_ids:
        raise RuntimeError(f"start_agent_run did not become a task: {result.content!r:.300}")
    return requester.task_ids[-1]


async def _single(mcp: Client, task_ids: list[str], log_path: Path) -> tuple[list[float], float, list[float], float]:
    """Uncached gets (each task read after a gap), then cached ones (read again at once)."""
    uncached: list[float] = []
    cached: list[float] = []
    uncached_requests = cached_requests = 0
    for _ in range(UNCACHED_ROUNDS):
        await anyio.sleep(CACHE_GAP_SECONDS)
        for task_id in task_ids:
            before = _backend_requests(log_path)
            seconds, _ = await _get(mcp, task_id)
            uncached.append(seconds)
            uncached_requests += _backend_requests(log_path) - before
            before = _backend_requests(log_path)
            seconds, _ = await _get(mcp, task_id)
            cached.append(seconds)
            cached_requests += _backend_requests(log_path) - before
    return uncached, uncached_requests / len(uncached), cached, cached_requests / len(cached)


async def _poll(mcp: Client, task_id: str, until: float, latencies: list[float], intervals: list[int]) -> None:
    """Poll as a client that follows the server's advice does: wait `pollIntervalMs` after each answer.
    Clients start at random points of the first interval, as independent clients do (not all in step)."""
    await anyio.sleep(random.uniform(0, FIRST_INTERVAL_SECONDS))
    while time.monotonic() < until:
        seconds, task = await _get(mcp, task_id)
        latencies.append(seconds)
        interval = int(task.get("pollIntervalMs") or 1000)
        intervals.append(interval)
        await anyio.sleep(interval / 1000)


async def _per_get(mcp: Client, task_id: str, pollers: int, seconds: float, log_path: Path) -> tuple[float, int]:
    """`pollers` pollers of one task (one credential) for `seconds`: backend requests per `tasks/get`, and gets."""
    latencies: list[float] = []
    intervals: list[int] = []
    before = _backend_requests(log_path)
    until = time.monotonic() + seconds
    async with anyio.create_task_group() as group:
        for _ in range(pollers):
            group.start_soon(_poll, mcp, task_id, until, latencies, intervals)
    return (_backend_requests(log_path) - before) / max(1, len(latencies)), len(latencies)


async def measure(harness: Harness, service: Service, sizes: Sizes) -> Figure:
    clients = sizes.task_clients
    figure = Figure("tasks", f"agent runs as MCP tasks: one tasks/get, and {clients:,} clients polling")
    keys = service.caller_keys[:clients]
    async with harness.http_server(service, MCP_AGENTS_LOG_LEVEL="info") as server, \
            httpx2.AsyncHTTPTransport(limits=httpx2.Limits(max_connections=clients * 2 + 10)) as transport, \
            AsyncExitStack() as stack:
        log_path = server.log_path
        mcps: list[Client] = []
        task_ids: list[str] = []
        for key in keys:  # one client, one credential, one task each
            http = caller_http(transport, key, TIMEOUT)
            requester = _Requester()
            mcp = await stack.enter_async_context(Client(streamable_http_client(server.url, http_client=http),
                                                         cache=None, extensions=[requester]))
            mcps.append(mcp)
            task_ids.append(await _start(mcp, requester))
        log(f"tasks: {clients:,} tasks started")
        single = min(clients, 20)
        uncached, uncached_requests, cached, cached_requests = await _single(mcps[0], task_ids[:single], log_path)
        await anyio.sleep(CACHE_GAP_SECONDS)
        latencies: list[float] = []
        intervals: list[int] = []
        window = sizes.task_poll_seconds
        requests_before, cpu_before = _backend_requests(log_path), procs.cpu_seconds(server.pid)
        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for mcp, task_id in zip(mcps, task_ids, strict=True):
                group.start_soon(_poll, mcp, task_id, started + window, latencies, intervals)
        elapsed = time.monotonic() - started
        requests = _backend_requests(log_path) - requests_before
        cpu = procs.cpu_seconds(server.pid) - cpu_before
        shared_seconds = min(window, SHARED_POLL_SECONDS)
        await anyio.sleep(CACHE_GAP_SECONDS)
        one_per_get, one_gets = await _per_get(mcps[0], task_ids[0], 1, shared_seconds, log_path)
        await anyio.sleep(CACHE_GAP_SECONDS)
        shared_per_get, shared_gets = await _per_get(mcps[0], task_ids[0], SHARED_POLLERS, shared_seconds, log_path)
        for mcp, task_id in zip(mcps, task_ids, strict=True):
            session: Any = mcp.session
            await session.send_request(CancelTask(params=TaskIdParams(task_id=task_id)), RAW)
    figure.lines += [
        Line("one `tasks/get`, uncached (the run read afresh)", "ms", summarize(uncached),
             note=f"{uncached_requests:.1f} backend requests per call (the run, the turn's messages)"),
        Line("one `tasks/get`, cached (the same task again at once)", "ms", summarize(cached),
             note=f"{cached_requests:.1f} backend requests per call; a read is reused for the interval it "
                  "advertises, per (credential, run)"),
        Line("one poller of a task at `pollIntervalMs`: backend requests per `tasks/get`", "req", one_per_get,
             note=f"{one_gets:,} polls in {shared_seconds:.0f} s (2 = every poll reads the run afresh)"),
        Line(f"{SHARED_POLLERS} pollers of one task, one credential: backend requests per `tasks/get`", "req",
             shared_per_get, note=f"{shared_gets:,} polls in {shared_seconds:.0f} s; 2 / {SHARED_POLLERS} = "
                                  f"{2 / SHARED_POLLERS:.2f} is one read per interval for all of them"),
        Line(f"{clients:,} clients polling at `pollIntervalMs`: backend requests", "req/s", requests / elapsed,
             note=f"advertised interval {summarize(intervals).p50:.0f} ms (working); {len(latencies):,} polls in "
                  f"{elapsed:.0f} s, {requests:,} backend requests"),
        Line(f"{clients:,} clients polling at `pollIntervalMs`: server CPU", "% of a core", cpu / elapsed * 100,
             note=f"{cpu:.2f} s CPU in {elapsed:.0f} s; tasks/get p50 / p95 meanwhile "
                  f"{summarize(latencies).p50:.1f} / {summarize(latencies).p95:.1f} ms"),
    ]
    figure.notes.append("2026-07-28 tasks extension over HTTP; each client has its own API key and one working Demo "
                        "task; backend requests counted from the server's HTTP log at INFO (one line per request), "
                        "which the server writes during these figures only")
    return figure
