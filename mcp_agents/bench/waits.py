"""Following runs through MCP as a user's assistant does: `wait_for_agent_runs` with a progress callback.

A `Tap` is the progress callback: it timestamps every benchmark marker it finds in the relayed
lines (first sight only; a second sight counts as a duplicate). `keep_waiting` calls the tool
again with the returned cursors whenever a wait ends, until it is cancelled, so a long
measurement is never cut by the tool's own time bound.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import anyio.lowlevel
from mcp import Client

from mcp_agents.bench.harness import structured
from mcp_agents.client import AgentRunsClient
from mcp_agents.models.cursor import Cursor, Position


class Pulse:
    """Wakes every waiter each time something arrives (waiters then re-check their condition)."""

    def __init__(self) -> None:
        self._event = anyio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = anyio.Event()

    async def wait(self) -> None:
        await self._event.wait()


class Seen:
    """When each marker (a regex match) first arrived, and how many arrived again; for a direct subscriber."""

    def __init__(self, pattern: str, pulse: Pulse) -> None:
        self.pattern = re.compile(pattern)
        self.pulse = pulse
        self.seen: dict[str, float] = {}
        self.duplicates = 0

    def add(self, text: str | None) -> None:
        now = time.perf_counter()
        for key in self.pattern.findall(text or ""):
            if key in self.seen:
                self.duplicates += 1
            else:
                self.seen[key] = now
        self.pulse.fire()


class Tap(Seen):
    """The same bookkeeping as a progress callback of a tool call, counting the lines relayed."""

    def __init__(self, pattern: str, pulse: Pulse) -> None:
        super().__init__(pattern, pulse)
        self.lines = 0

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.lines += 1
        self.add(message)


async def latest_cursor(client: AgentRunsClient, run_id: str) -> str:
    """The cursor after the run's newest message: waiting from it relays only what comes next."""
    position = Position()
    position.take(await client.messages.retrieve(run_id))
    return str(position.cursor)


async def keep_waiting(client: Client, run_ids: Sequence[str], since: dict[str, str], tap: Tap,
                       timeout_seconds: float) -> None:
    """`wait_for_agent_runs` over `run_ids` again and again (cursors carried over) until cancelled."""
    cursors = dict(since)
    while True:
        arguments: dict[str, Any] = {"run_ids": list(run_ids), "until": "all", "timeout_seconds": timeout_seconds,
                                     "since": cursors}
        result = structured(await client.call_tool("wait_for_agent_runs", arguments, progress_callback=tap))
        for run in result.get("runs", []):
            if run.get("cursor") is not None:
                cursors[run["run_id"]] = str(run["cursor"])
            if run.get("done"):
                raise RuntimeError(f"run {run['run_id']} ended during the benchmark ({run.get('status')})")
        await anyio.lowlevel.checkpoint()


async def keep_following_bare(client: Client, run_ids: Sequence[str], since: dict[str, str], tap: Tap,
                              timeout_seconds: float) -> None:
    """The bare `MCPServer`'s `follow_agent_run` (one run) again and again, cursor carried over, until cancelled.
    It follows by plain epoch milliseconds, so it starts from our cursor's `since`."""
    (run_id,) = run_ids
    cursor = Cursor.parse(since[run_id]).since
    while True:
        arguments = {"run_id": run_id, "since": cursor, "timeout_seconds": timeout_seconds}
        result = structured(await client.call_tool("follow_agent_run", arguments, progress_callback=tap))
        cursor = int(result.get("cursor") or cursor)
        await anyio.lowlevel.checkpoint()


async def wait_for(condition: Callable[[], bool], pulse: Pulse, seconds: float) -> bool:
    """Wait at most `seconds` for `condition()`, re-checked on each pulse; whether it became true."""
    with anyio.move_on_after(seconds):
        while not condition():
            await pulse.wait()
    return condition()
