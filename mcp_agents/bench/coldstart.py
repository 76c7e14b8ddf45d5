"""Cold start: spawn -> the answer to the first `tools/list` over stdio, and the memory after it.

The baseline is a bare `MCPServer` with one tool, written to a temporary script: the cost of
Python plus the SDK, which mcp-agents cannot go below. Spawns are interleaved (bare, remote
backend, embedded local service) and each mcp-agents spawn is paired with the bare spawn of its
round. The target applies to the remote-backend path (`VERTESIA_*` pointing at an already
running local service); the embedded path also starts a local service and is an extra line.
"""

from __future__ import annotations

import os
import time

from mcp_agents.bench import procs
from mcp_agents.bench.harness import Harness, Service, log
from mcp_agents.bench.report import Figure, Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.bench.stats import paired_ratio, summarize

TARGET = 1.15


async def _spawn_once(harness: Harness, argv: list[str], env: dict[str, str], name: str) -> tuple[float, float]:
    """Milliseconds from spawn to the first `tools/list` answer, and the server's RSS in MiB then."""
    client = harness.stdio_client(env, command=argv, log_name=f"coldstart-{name}.log")
    started = time.perf_counter()
    async with client:
        tools = await client.list_tools()
        elapsed = (time.perf_counter() - started) * 1000
        if not tools.tools:
            raise RuntimeError(f"{name}: tools/list answered no tools")
        pid = await procs.child_running(os.getpid(), argv)
        rss = procs.rss_kb(pid) / 1024
    return elapsed, rss


async def measure(harness: Harness, service: Service, sizes: Sizes) -> Figure:
    figure = Figure("cold_start", "spawn -> first tools/list answer over stdio, and resident memory after start")
    variants = {
        "bare": (harness.bare_server_command(), harness.base_env()),
        "remote": (procs.python_command("serve"), harness.server_env(service)),
        "embedded": (procs.python_command("serve"), harness.base_env()),  # one data dir, kept across spawns
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    rss: dict[str, list[float]] = {name: [] for name in variants}
    for name, (argv, env) in variants.items():  # page cache, byte-code, the embedded data dir's first start
        await _spawn_once(harness, argv, env, name)
    log(f"cold start: {sizes.coldstart_repeat} rounds of {', '.join(variants)}")
    for _ in range(sizes.coldstart_repeat):
        for name, (argv, env) in variants.items():
            elapsed, resident = await _spawn_once(harness, argv, env, name)
            times[name].append(elapsed)
            rss[name].append(resident)

    bare = summarize(times["bare"])
    remote_ratio = paired_ratio(times["remote"], times["bare"])
    figure.lines.append(Line("`mcp-agents serve` (remote backend)", "ms", summarize(times["remote"]),
                             "bare MCPServer, one tool", bare, remote_ratio, f"<= {TARGET}x at p50",
                             remote_ratio.p50 <= TARGET))
    figure.lines.append(Line("`mcp-agents serve` (embedded local service)", "ms", summarize(times["embedded"]),
                             "bare MCPServer, one tool", bare, paired_ratio(times["embedded"], times["bare"]),
                             note="extra line: also starts the local service"))
    for name, label in (("remote", "RSS after start, remote backend"),
                        ("embedded", "RSS after start, embedded local service")):
        figure.lines.append(Line(label, "MiB", summarize(rss[name]), "bare MCPServer", summarize(rss["bare"]),
                                 paired_ratio(rss[name], rss["bare"])))
    figure.notes.append("time includes interpreter start, imports, the SDK client's connect (server/discover "
                        "probe) and tools/list; RSS is VmRSS of the server process right after the answer")
    return figure
