"""How big each figure is measured: the full size for the README, `--quick` for a smoke run."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Sizes:
    repeat: int = 200             # call overhead: samples per variant
    relay_messages: int = 200     # relay latency: messages posted, one at a time
    fanout_runs: int = 100        # fan-out: runs followed by one wait, and concurrent HTTP callers
    fanout_messages: int = 5      # fan-out: messages posted to each run
    busy_callers: int = 1000      # busy replica: concurrent wait_for_agent_runs callers, one run each
    task_clients: int = 100       # tasks: clients polling one task each at the advertised interval
    task_poll_seconds: float = 30.0  # tasks: how long they poll
    coldstart_repeat: int = 10    # cold start: spawns per variant
    messages: int = 5000          # local service ingest: messages posted
    subscribers: int = 10         # local service ingest: SSE subscribers that must each get every message
    runs: int = 100_000           # local service search: runs in the database
    events: int = 1_000_000       # local service analytics: telemetry events in the database
    query_repeat: int = 30        # local service: samples per query
    timeout: float = 120.0        # bound on any single wait for delivery


QUICK = Sizes(repeat=15, relay_messages=15, fanout_runs=10, fanout_messages=2, busy_callers=10, task_clients=3,
              task_poll_seconds=3.0, coldstart_repeat=2,
              messages=300, subscribers=10, runs=2000, events=20_000, query_repeat=5, timeout=30.0)


def sizes_from(quick: bool, overrides: dict[str, Any]) -> Sizes:
    """The base sizes with every flag the user gave (None: not given) applied on top."""
    base = QUICK if quick else Sizes()
    names = {field.name for field in fields(Sizes)}
    sizes = replace(base, **{key: value for key, value in overrides.items() if key in names and value is not None})
    small = [f"--{name.replace('_', '-')}" for name in sorted(names) if getattr(sizes, name) <= 0]
    if small:
        raise ValueError(f"{', '.join(small)} must be positive")
    return sizes
