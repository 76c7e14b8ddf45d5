"""Fan-out: one wait over many runs (stdio), and many concurrent callers each waiting on one run (HTTP).

Every run is an interactive `Echo` run, so it stays alive. Once every run is followed (a marker
posted to each one has come back through MCP), the server's RSS is read, messages are posted to
every run, and the relayed progress lines are counted: none lost, none duplicated. Memory per
followed run is the server's VmRSS growth from before the wait to when every run is followed,
divided by the runs; CPU per relayed message is the server's CPU time during the posting phase
divided by the messages.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import anyio
import httpx2
from mcp import Client
from mcp.client.client import ConnectMode

from mcp_agents.bench import procs
from mcp_agents.bench.harness import Harness, HttpServer, Service, log, structured
from mcp_agents.bench.report import Figure, Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.bench.stats import summarize
from mcp_agents.bench.waits import Pulse, Seen, Tap, keep_following_bare, keep_waiting, latest_cursor, wait_for
from mcp_agents.client import AgentRunsClient
from mcp_agents.client.errors import APIConnectionError
from mcp_agents.models.cursor import Cursor

MEMORY_TARGET_KB = 100.0
CALLER_MEMORY_TARGET = 1.10
PATTERN = r"\b((?:fan|ready)-\d+-\d+)\b"
POSTERS = 16
WAIT_CALL_SECONDS = 300.0


@dataclass
class Outcome:
    rss_before_kb: int
    rss_following_kb: int
    cpu_seconds: float
    seconds: float
    lost: int
    duplicated: int
    messages: int

    def per_caller_kb(self, callers: int) -> float:
        return (self.rss_following_kb - self.rss_before_kb) / callers


async def create_runs(client: AgentRunsClient, count: int) -> tuple[list[str], dict[str, str]]:
    ids: list[str] = [""] * count
    limiter = anyio.CapacityLimiter(10)

    async def one(index: int) -> None:
        async with limiter:
            run = await client.runs.create(interaction="Echo", interactive=True, data={"task": f"fan-out {index}"})
            ids[index] = run.id

    async with anyio.create_task_group() as group:
        for index in range(count):
            group.start_soon(one, index)
    await anyio.sleep(0.3)  # each run posts its first answer
    return ids, {run_id: await latest_cursor(client, run_id) for run_id in ids}


async def post_all(client: AgentRunsClient, posts: Sequence[tuple[str, str]],
                   posted: dict[str, float] | None = None) -> list[str]:
    """Post every (run, text), `POSTERS` at a time; `posted` gets each text's time just before its POST.

    Returns the texts whose POST failed on the connection (never retried: a message must not be
    posted twice); the caller expects only the others.
    """
    queue = list(reversed(posts))
    failed: list[str] = []

    async def poster() -> None:
        while queue:
            run_id, text = queue.pop()
            if posted is not None:
                posted[text] = time.perf_counter()
            try:
                await client.messages.post(run_id, message=text)
            except APIConnectionError:
                failed.append(text)

    async with anyio.create_task_group() as group:
        for _ in range(POSTERS):
            group.start_soon(poster)
    return failed


async def ready_all(client: AgentRunsClient, runs: list[str], taps: Callable[[int], Seen], pulse: Pulse,
                    seconds: float, first_attempt: int = 0) -> int:
    """Post `ready-` markers to every run not yet followed through MCP until all are (bounded).

    Returns the next attempt number: a second `ready_all` over the same runs (e.g. for their direct
    subscribers) starts from it, so that no marker is ever posted twice."""
    def ready(index: int) -> bool:
        return any(key.startswith(f"ready-{index}-") for key in taps(index).seen)

    deadline = time.monotonic() + seconds
    attempt = first_attempt
    while not all(ready(index) for index in range(len(runs))):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"some runs were never followed through MCP within {seconds:.0f} s")
        missing = [index for index in range(len(runs)) if not ready(index)]
        await post_all(client, [(runs[index], f"ready-{index}-{attempt}") for index in missing])
        await wait_for(lambda: all(ready(index) for index in range(len(runs))), pulse,
                       min(remaining, 2.0 + attempt - first_attempt))
        attempt += 1
    return attempt


async def _exercise(client: AgentRunsClient, pid: int, runs: list[str], taps: Callable[[int], Tap], pulse: Pulse,
                    per_run: int, seconds: float) -> tuple[int, float, float, int, int]:
    """Ready every run, then post and count; returns (rss following, cpu s, seconds, lost, duplicated)."""
    await ready_all(client, runs, taps, pulse, seconds)
    rss_following = procs.rss_kb(pid)
    cpu_before = procs.cpu_seconds(pid)
    started = time.perf_counter()
    expected = [(runs[index], f"fan-{index}-{k}") for k in range(per_run) for index in range(len(runs))]
    await post_all(client, expected)

    def delivered() -> bool:
        return all(f"fan-{index}-{k}" in taps(index).seen for index in range(len(runs)) for k in range(per_run))

    await wait_for(delivered, pulse, seconds)
    elapsed = time.perf_counter() - started
    cpu = procs.cpu_seconds(pid) - cpu_before
    lost = sum(1 for index in range(len(runs)) for k in range(per_run) if f"fan-{index}-{k}" not in taps(index).seen)
    duplicated = sum(taps(index).duplicates for index in range(len(runs)))
    return rss_following, cpu, elapsed, lost, duplicated


async def _one_wait(harness: Harness, service: Service, client: AgentRunsClient, runs: list[str],
                    cursors: dict[str, str], sizes: Sizes) -> Outcome:
    pulse = Pulse()
    tap = Tap(PATTERN, pulse)
    argv = procs.python_command("serve")
    async with harness.stdio_client(harness.server_env(service), log_name="fanout-stdio.log") as mcp:
        pid = await procs.child_running(os.getpid(), argv)
        await warm(mcp, runs[0], cursors)
        rss_before = procs.rss_kb(pid)
        async with anyio.create_task_group() as group:
            group.start_soon(keep_waiting, mcp, runs, cursors, tap, WAIT_CALL_SECONDS)
            rss, cpu, seconds, lost, dup = await _exercise(client, pid, runs, lambda index: tap, pulse,
                                                           sizes.fanout_messages, sizes.timeout)
            group.cancel_scope.cancel()
    return Outcome(rss_before, rss, cpu, seconds, lost, dup, len(runs) * sizes.fanout_messages)


async def warm(mcp: Client, run_id: str, cursors: dict[str, str]) -> None:
    """One short wait first, so that imports and first-call paths are not counted as per-run memory."""
    structured(await mcp.call_tool("get_agent_run", {"run_id": run_id}))
    structured(await mcp.call_tool("wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 1,
                                                           "since": {run_id: cursors[run_id]}}))


Follow = Callable[[Client, Sequence[str], dict[str, str], Tap, float], Awaitable[None]]


async def _warm_bare(mcp: Client, run_id: str, cursors: dict[str, str]) -> None:
    structured(await mcp.call_tool("get_agent_run", {"run_id": run_id}))
    structured(await mcp.call_tool("follow_agent_run", {"run_id": run_id, "since": Cursor.parse(cursors[run_id]).since,
                                                        "timeout_seconds": 1}))


async def many_callers(harness: Harness, server: HttpServer, client: AgentRunsClient, runs: list[str],
                       sizes: Sizes, *, bare: bool = False, mode: ConnectMode = "auto") -> Outcome:
    """One MCP client per run over streamable HTTP, each following its run (`wait_for_agent_runs`, or the
    bare server's `follow_agent_run`); ready every run, then post to all and count."""
    follow: Follow = keep_following_bare if bare else keep_waiting
    cursors = {run_id: await latest_cursor(client, run_id) for run_id in runs}  # earlier phases moved them on
    pulse = Pulse()
    taps = [Tap(PATTERN, pulse) for _ in runs]
    limits = httpx2.Limits(max_connections=len(runs) * 2 + 10, max_keepalive_connections=len(runs) * 2 + 10)
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(WAIT_CALL_SECONDS + 30, connect=30.0),
                                  limits=limits) as http:
        async with harness.http_client(server, http, mode=mode) as first:
            await (_warm_bare if bare else warm)(first, runs[0], cursors)
        rss_before = procs.rss_kb(server.pid)

        async def caller(index: int, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
            async with harness.http_client(server, http, mode=mode) as mcp:
                task_status.started()
                await follow(mcp, [runs[index]], {runs[index]: cursors[runs[index]]}, taps[index],
                             WAIT_CALL_SECONDS)

        async with anyio.create_task_group() as group:
            for index in range(len(runs)):
                await group.start(caller, index)
            rss, cpu, seconds, lost, dup = await _exercise(client, server.pid, runs, lambda index: taps[index],
                                                           pulse, sizes.fanout_messages, sizes.timeout)
            group.cancel_scope.cancel()
    return Outcome(rss_before, rss, cpu, seconds, lost, dup, len(runs) * sizes.fanout_messages)


def _lines(label: str, outcome: Outcome, runs: int, memory_target: bool = True) -> list[Line]:
    """Lost/duplicated, memory per followed run (against `MEMORY_TARGET_KB` if `memory_target`), CPU."""
    per_run = (outcome.rss_following_kb - outcome.rss_before_kb) / runs
    return [
        Line(f"{label}: lost / duplicated progress lines", "messages", outcome.lost, target="0 lost, 0 duplicated",
             ok=outcome.lost == 0 and outcome.duplicated == 0,
             note=f"{outcome.duplicated} duplicated of {outcome.messages:,}; relayed in {outcome.seconds:.2f} s"),
        Line(f"{label}: memory per followed run", "KB", per_run,
             target=f"<= {MEMORY_TARGET_KB:.0f} KB" if memory_target else "",
             ok=per_run <= MEMORY_TARGET_KB if memory_target else None,
             note=f"VmRSS {outcome.rss_before_kb / 1024:.1f} -> {outcome.rss_following_kb / 1024:.1f} MiB"),
        Line(f"{label}: server CPU per relayed message", "µs", outcome.cpu_seconds / outcome.messages * 1e6,
             note=f"{outcome.cpu_seconds:.2f} s CPU for {outcome.messages:,} messages"),
    ]


async def measure(harness: Harness, service: Service, sizes: Sizes) -> Figure:
    figure = Figure("fan_out", f"one wait over {sizes.fanout_runs} runs, and {sizes.fanout_runs} concurrent "
                               "HTTP callers")
    async with harness.api_client(service) as client:
        runs, cursors = await create_runs(client, sizes.fanout_runs)
        log(f"fan-out: one stdio wait over {len(runs)} runs, {sizes.fanout_messages} messages each")
        figure.lines.extend(_lines(f"one wait over {len(runs)} runs (stdio)",
                                   await _one_wait(harness, service, client, runs, cursors, sizes), len(runs)))
        log(f"fan-out: {len(runs)} concurrent HTTP callers, one run each, on mcp-agents and on a bare MCPServer")
        async with harness.http_server(service) as server:
            ours = await many_callers(harness, server, client, runs, sizes)
        async with harness.bare_http_server(service) as server:
            bare = await many_callers(harness, server, client, runs, sizes, bare=True)
        label = f"{len(runs)} concurrent callers (HTTP)"
        figure.lines.extend(_lines(label, ours, len(runs), memory_target=False))  # judged against the bare server
        ours_kb, bare_kb = ours.per_caller_kb(len(runs)), bare.per_caller_kb(len(runs))
        ratio = ours_kb / bare_kb if bare_kb > 0 else float("inf")
        figure.lines.append(Line(f"{label}: memory per caller against a bare MCPServer", "KB", ours_kb,
                                 "bare MCPServer relaying each run (`messages.stream` -> progress)", bare_kb,
                                 summarize([ratio]), target=f"<= {CALLER_MEMORY_TARGET:.2f}x",
                                 ok=ratio <= CALLER_MEMORY_TARGET,
                                 note=f"bare: {bare.lost} lost, CPU "
                                      f"{bare.cpu_seconds / bare.messages * 1e6:.0f} µs per message"))
        await stop_runs(client, runs)
    figure.notes.append("memory = server VmRSS growth from before the wait to every run followed, / runs; "
                        "CPU = server utime+stime during posting / messages (10 ms clock ticks)")
    return figure


async def stop_runs(client: AgentRunsClient, runs: Sequence[str]) -> None:
    """End the Echo runs (they would otherwise wait for input until the service stops; Stop only ends a turn)."""
    for run_id in runs:
        await client.runs.terminate(run_id)
