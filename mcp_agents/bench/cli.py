"""Measure what users feel, each figure beside its baseline and target.

Prints the machine, the versions and a Markdown table (medians, p95, per-pair ratios, targets,
pass/fail); `--json PATH` also writes the figures, one key per row. Targets are reported, never
asserted: the exit status is non-zero only when a figure could not be measured at all.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

import anyio

from mcp_agents.bench.harness import Harness, Service, log
from mcp_agents.bench.machine import load_average, machine_info, machine_line
from mcp_agents.bench.report import FIGURE_KEYS, Figure, markdown_table, print_report, readme_block, write_json
from mcp_agents.bench.sizes import Sizes, sizes_from

_SIZE_FLAGS: tuple[tuple[str, type, str], ...] = (
    ("repeat", int, "call overhead: rounds (each measures every variant once)"),
    ("relay_messages", int, "relay latency: messages posted one at a time"),
    ("fanout_runs", int, "fan-out: runs in one wait, and concurrent HTTP callers"),
    ("fanout_messages", int, "fan-out: messages posted to each run"),
    ("busy_callers", int, "busy replica: concurrent wait_for_agent_runs callers over HTTP, one run each"),
    ("task_clients", int, "tasks: clients polling one task each at the advertised pollIntervalMs"),
    ("task_poll_seconds", float, "tasks: seconds the clients poll"),
    ("coldstart_repeat", int, "cold start: spawns per variant"),
    ("messages", int, "local service: messages ingested"),
    ("subscribers", int, "local service: SSE subscribers during ingest"),
    ("runs", int, "local service: runs seeded for search"),
    ("events", int, "local service: telemetry events seeded for analytics"),
    ("query_repeat", int, "local service: samples per query"),
    ("timeout", float, "seconds any single wait for delivery may take"),
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="every figure at a tiny size (under a minute)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON to PATH")
    parser.add_argument("--markdown", type=Path, metavar="PATH",
                        help="also write the table, machine, command and date as Markdown (the README section)")
    parser.add_argument("--only", metavar="KEYS", default="",
                        help=f"comma-separated figures to measure (default: all of {', '.join(FIGURE_KEYS)})")
    parser.add_argument("--soak", type=float, metavar="MINUTES",
                        help="soak: concurrent orchestrations for MINUTES, printing throughput, errors and memory")
    parser.add_argument("--log-level", default="warning", help="log level on stderr")
    defaults = Sizes()
    for name, kind, help_text in _SIZE_FLAGS:
        parser.add_argument("--" + name.replace("_", "-"), type=kind, metavar="N",
                            help=f"{help_text} (default {getattr(defaults, name)})")


def _command(args: argparse.Namespace) -> str:
    parts = ["mcp-agents", "bench"]
    if args.quick:
        parts.append("--quick")
    for name, _, _ in _SIZE_FLAGS:
        value = getattr(args, name, None)
        if value is not None:
            parts += ["--" + name.replace("_", "-"), str(value)]
    if args.only:
        parts += ["--only", args.only]
    return " ".join(parts)  # output paths (--json, --markdown) left out: they do not change the figures


async def _measure(key: str, measure: Callable[[], Awaitable[Figure]]) -> Figure:
    log(f"measuring {key}")
    started = time.perf_counter()
    try:
        figure = await measure()
    except Exception as exc:  # one broken figure must not hide the others
        log(f"{key} failed: {type(exc).__name__}: {exc}")
        cause: BaseException = exc
        while isinstance(cause, BaseExceptionGroup) and cause.exceptions:  # the first cause says what broke
            cause = cause.exceptions[0]
            log(f"  first: {type(cause).__name__}: {str(cause)[:300]}")
        figure = Figure(key, key, error=f"{type(exc).__name__}: {str(exc)[:300]}")
    figure.seconds = time.perf_counter() - started
    rows = markdown_table([figure]).splitlines()[2:]
    log(f"{key} done in {figure.seconds:.1f} s\n" + "\n".join(rows))
    return figure


async def _run_all(keys: list[str], sizes: Sizes) -> list[Figure]:
    from mcp_agents.bench import busy, coldstart, fairness, fanout, footprint, overhead, relay, service, tasks

    shared: dict[str, Callable[[Harness, Service, Sizes], Awaitable[Figure]]] = {
        "tool_footprint": footprint.measure, "call_overhead": overhead.measure, "relay_latency": relay.measure,
        "fan_out": fanout.measure, "busy_replica": busy.measure, "fairness": fairness.measure,
        "tasks": tasks.measure, "cold_start": coldstart.measure,
    }
    figures: dict[str, Figure] = {}
    async with Harness() as harness:
        wanted_shared = [key for key in shared if key in keys]
        if wanted_shared:
            async with harness.local_service(callers=max(sizes.busy_callers, sizes.task_clients) + 2) as svc:
                for key in wanted_shared:
                    figures[key] = await _measure(key, partial(shared[key], harness, svc, sizes))
        if "local_service" in keys:
            figures["local_service"] = await _measure("local_service", lambda: service.measure(harness, sizes))
    return [figures[key] for key in FIGURE_KEYS if key in figures]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    if args.soak is not None:
        from mcp_agents.bench.soak import run_soak

        return run_soak(args.soak)
    keys = [key.strip() for key in args.only.split(",") if key.strip()] or list(FIGURE_KEYS)
    unknown = [key for key in keys if key not in FIGURE_KEYS]
    if unknown:
        sys.stderr.write(f"mcp-agents bench: unknown figure {', '.join(unknown)}; choose from "
                         f"{', '.join(FIGURE_KEYS)}\n")
        return 2
    try:
        sizes = sizes_from(args.quick, {name: getattr(args, name, None) for name, _, _ in _SIZE_FLAGS})
    except ValueError as exc:
        sys.stderr.write(f"mcp-agents bench: {exc}\n")
        return 2
    machine = machine_info()
    command = _command(args)
    log(f"machine: {machine_line(machine)}")
    started = datetime.now(UTC)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # SIGTERM cleans up like Ctrl-C (children, temp dir)
    try:
        figures = anyio.run(_run_all, keys, sizes)
    except BaseExceptionGroup as group:  # an interrupt inside task groups; everything was cleaned up
        if group.subgroup(KeyboardInterrupt) is None:
            raise
        log("interrupted")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    end_load = load_average()
    where = machine_line(machine) + (f" (load average {end_load[0]:.2f} at the end)" if end_load else "")
    print_report(figures, where, command, sys.stdout)
    if args.markdown:
        text = readme_block(figures, where, command, started.strftime("%Y-%m-%d"))
        args.markdown.write_text(text, encoding="utf-8")
    if args.json:
        meta: dict[str, Any] = {"command": command, "started": started.isoformat(timespec="seconds"),
                                "quick": bool(args.quick), "sizes": asdict(sizes),
                                "load_average_end": end_load}
        write_json(args.json, figures, machine, meta)
        log(f"figures written to {args.json}")
    return 1 if any(figure.error is not None for figure in figures) else 0
