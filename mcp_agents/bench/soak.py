"""`mcp-agents bench --soak MINUTES`: orchestrations without pause, to show what holds up over time.

A local service process and one `mcp-agents serve` (stdio) process over it; a bounded number of
workers each loop start -> wait -> read messages -> list, plus a deliberate error call, until the
time is up. Every interval a line gives the orchestrations done, their rate, the errors, and the
server's and service's resident memory, so that a leak or a slowdown shows as a trend. The exit
status is non-zero when an orchestration failed or the server died.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp import Client

from mcp_agents.bench import procs
from mcp_agents.bench.harness import Harness, log, structured

WORKERS = 4
CALL_TIMEOUT = 60.0
INTERVALS = 10
MIN_INTERVAL = 5.0
MAX_INTERVAL = 60.0


@dataclass
class Tally:
    """What the workers did so far; read by the reporter."""

    done: int = 0
    errors: int = 0
    refused_as_expected: int = 0
    last_error: str = ""
    samples: list[dict[str, Any]] = field(default_factory=list)


async def _orchestrate(mcp: Client, worker: int, number: int, tally: Tally) -> None:
    """One delegation as an assistant makes it, plus one call that must fail cleanly."""
    with anyio.fail_after(CALL_TIMEOUT):
        started = structured(await mcp.call_tool("start_agent_run", {
            "interaction": "Demo", "interactive": False,
            "data": {"task": f"soak {worker}.{number}", "steps": 3, "step_delay_ms": 5}}))
        run_id = started["runs"][0]["run_id"]
        waited = structured(await mcp.call_tool("wait_for_agent_runs", {"run_ids": [run_id],
                                                                        "timeout_seconds": 50}))
        if not waited["runs"][0]["done"]:
            raise RuntimeError(f"run {run_id} not done after a wait: {waited['runs'][0].get('status')}")
        structured(await mcp.call_tool("get_agent_messages", {"run_id": run_id, "limit": 100}))
        structured(await mcp.call_tool("list_agent_runs", {"limit": 20}))
        missing = await mcp.call_tool("get_agent_run", {"run_id": f"missing-{worker}-{number}"})
    if not missing.is_error:
        raise RuntimeError("a missing run was reported as found")
    tally.refused_as_expected += 1


async def _worker(mcp: Client, worker: int, deadline: float, tally: Tally) -> None:
    number = 0
    while time.monotonic() < deadline:
        number += 1
        try:
            await _orchestrate(mcp, worker, number, tally)
            tally.done += 1
        except Exception as exc:  # counted and reported; the soak goes on
            tally.errors += 1
            tally.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"


def _sample(started: float, tally: Tally, server_pid: int, service_pid: int) -> dict[str, Any]:
    elapsed = time.monotonic() - started
    previous = tally.samples[-1] if tally.samples else {"elapsed_s": 0.0, "done": 0}
    span = max(elapsed - previous["elapsed_s"], 1e-9)
    return {"elapsed_s": round(elapsed, 1), "done": tally.done, "errors": tally.errors,
            "per_minute": round((tally.done - previous["done"]) * 60 / span, 1),
            "server_rss_mb": round(procs.rss_kb(server_pid) / 1024, 1),
            "service_rss_mb": round(procs.rss_kb(service_pid) / 1024, 1)}


def _line(sample: dict[str, Any]) -> str:
    return (f"| {sample['elapsed_s']:>7.0f} | {sample['done']:>6} | {sample['per_minute']:>9.1f} | "
            f"{sample['errors']:>6} | {sample['server_rss_mb']:>10.1f} | {sample['service_rss_mb']:>11.1f} |")


async def soak(minutes: float, *, workers: int = WORKERS) -> tuple[Tally, bool]:
    """Run the soak; returns the tally and whether the server process was still alive at the end."""
    seconds = max(minutes * 60.0, 1.0)
    interval = min(MAX_INTERVAL, max(MIN_INTERVAL, seconds / INTERVALS))
    tally = Tally()
    async with Harness() as harness, harness.local_service() as service:
        env = harness.server_env(service)
        argv = procs.python_command("serve")
        async with harness.stdio_client(env, log_name="soak-serve.log") as mcp:
            server_pid = await procs.child_running(os.getpid(), argv)
            print(f"soak: {minutes:g} min, {workers} concurrent orchestrations (start, wait, messages, list, "
                  "one refused call), Demo runs of 3 steps, local service and stdio server as processes\n")
            print("| elapsed s | done | per minute | errors | server MB | service MB |")
            print("|----------:|-----:|-----------:|-------:|----------:|-----------:|", flush=True)
            started = time.monotonic()
            deadline = started + seconds
            tally.samples.append(_sample(started, tally, server_pid, service.pid))
            print(_line(tally.samples[-1]), flush=True)
            async with anyio.create_task_group() as group:
                for worker in range(workers):
                    group.start_soon(_worker, mcp, worker, deadline, tally)
                while time.monotonic() < deadline:
                    await anyio.sleep(min(interval, max(deadline - time.monotonic(), 0.0)))
                    tally.samples.append(_sample(started, tally, server_pid, service.pid))
                    print(_line(tally.samples[-1]), flush=True)
            alive = procs.rss_kb(server_pid) > 0
    return tally, alive


def run_soak(minutes: float, *, workers: int = WORKERS) -> int:
    """The `--soak` entry point: prints the table and a summary; 1 when something failed."""
    if minutes <= 0:
        log("--soak needs a positive number of minutes")
        return 2
    try:
        tally, alive = anyio.run(lambda: soak(minutes, workers=workers))
    except KeyboardInterrupt:
        log("soak interrupted")
        return 130
    first, last = tally.samples[1] if len(tally.samples) > 1 else tally.samples[0], tally.samples[-1]
    elapsed = max(last["elapsed_s"], 1e-9)
    print(f"\n{tally.done} orchestrations in {elapsed:.0f} s ({tally.done * 60 / elapsed:.1f}/min), "
          f"{tally.errors} errors, {tally.refused_as_expected} refused calls answered cleanly; server memory "
          f"{first['server_rss_mb']} -> {last['server_rss_mb']} MB, service {first['service_rss_mb']} -> "
          f"{last['service_rss_mb']} MB; server {'alive' if alive else 'DEAD'}")
    if tally.last_error:
        print(f"last error: {tally.last_error}")
    return 0 if alive and tally.errors == 0 and tally.done > 0 else 1
