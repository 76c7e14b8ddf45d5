"""Cold start: spawn -> the answer to the first `tools/list` over stdio, and the memory after it.

The baseline is the bare `MCPServer` of `harness.BARE_SERVER` (the SDK plus the same client library,
two tools): the cost mcp-agents cannot go below. Spawns are interleaved (bare, remote backend,
embedded local service) and each mcp-agents spawn is paired with the bare spawn of its round. Both
modes users meet are judged: with a key (`VERTESIA_*` pointing at an already running local service)
and without one, the embedded default, each spawn on a fresh data directory as on a first start.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

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
    variants: dict[str, tuple[list[str], Callable[[], dict[str, str]]]] = {
        "bare": (harness.bare_server_command(), lambda: harness.server_env(service)),
        "remote": (procs.python_command("serve"), lambda: harness.server_env(service)),
        "embedded": (procs.python_command("serve"), harness.base_env),  # a fresh data directory each spawn
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    rss: dict[str, list[float]] = {name: [] for name in variants}
    for name, (argv, env) in variants.items():  # page cache, byte-code
        await _spawn_once(harness, argv, env(), name)
    log(f"cold start: {sizes.coldstart_repeat} rounds of {', '.join(variants)}")
    for _ in range(sizes.coldstart_repeat):
        for name, (argv, env) in variants.items():
            elapsed, resident = await _spawn_once(harness, argv, env(), name)
            times[name].append(elapsed)
            rss[name].append(resident)

    bare = summarize(times["bare"])
    for name, label in (("remote", "`mcp-agents serve`, with a key (remote backend)"),
                        ("embedded", "`mcp-agents serve`, no key (embedded local service, fresh data directory)")):
        ratio = paired_ratio(times[name], times["bare"])
        measured = summarize(times[name])
        figure.lines.append(Line(label, "ms", measured, "bare MCPServer, same client library", bare, ratio,
                                 f"<= {TARGET}x at p50", ratio.p50 <= TARGET,
                                 note=f"{measured.p50 - bare.p50:+.0f} ms at p50"))
    for name, label in (("remote", "RSS after start, remote backend"),
                        ("embedded", "RSS after start, embedded local service")):
        figure.lines.append(Line(label, "MiB", summarize(rss[name]), "bare MCPServer", summarize(rss["bare"]),
                                 paired_ratio(rss[name], rss["bare"])))
    figure.notes.append("time includes interpreter start, imports, the SDK client's connect and tools/list; the "
                        "embedded service starts in the background (the first tool call waits for it), so the "
                        "embedded line is the time a desktop client waits at launch; RSS is VmRSS of the server "
                        "process right after the answer")
    return figure
