"""The `RunContext` the runtime gives a running interaction."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from mcp_agents.local import records
from mcp_agents.local.artifacts import check_path
from mcp_agents.local.interactions.base import Mode, Post, Signal
from mcp_agents.local.store import now_ms
from mcp_agents.local.telemetry import event_row, insert_events
from mcp_agents.models import AgentEvent, CreateAgentRunRequest, parse_type

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mcp_agents.local.limits import Limits
    from mcp_agents.local.runtime import Runtime


@dataclass
class ActiveRun:
    """A run whose interaction is executing in this process."""

    run_id: str
    signals: asyncio.Queue[Signal] = field(default_factory=asyncio.Queue)
    queries: dict[str, Any] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None


class LocalRunContext:
    def __init__(self, runtime: Runtime, row: sqlite3.Row, mode: Mode, active: ActiveRun) -> None:
        params: dict[str, Any] = json.loads(row["params"])
        self._runtime = runtime
        self._active = active
        self.run_id: str = row["id"]
        self.data: dict[str, Any] = params.get("data") or {}
        self.interactive = bool(row["interactive"])
        self.max_iterations: int | None = params.get("max_iterations")
        self.model: str = params.get("model") or "local-model"
        self.environment: str = params.get("environment") or "local"
        self.mode: Mode = mode
        self.interaction: str = row["interaction"]
        self.started_by: str = row["started_by"]
        self.visibility: str = row["visibility"]
        self.workflow_run_id: str = row["workflow_run_id"]

    async def post(self, type: str, message: str = "", details: Any = None, workstream: str | None = None) -> int:
        return await self.post_many([Post(type, message, details, workstream)])

    async def post_many(self, messages: Sequence[Post]) -> int:
        if not messages:
            raise ValueError("post_many needs at least one message")
        stored = await self._runtime.post(self.run_id, [_item(post, self._runtime.limits) for post in messages])
        return int(stored[-1]["ts"])

    async def next_signal(self, within: float | None = None) -> Signal | None:
        try:
            return await asyncio.wait_for(self._active.signals.get(), within)
        except TimeoutError:
            return None

    async def history(self) -> list[dict[str, Any]]:
        return await self._runtime.store.read(lambda conn: records.list_messages(conn, self.run_id))

    async def set_query(self, name: str, value: Any) -> None:
        self._runtime.limits.check_value(value, f"the answer of query {name!r}")
        self._active.queries[name] = value
        text = json.dumps(self._active.queries)
        await self._runtime.store.write(
            lambda conn: conn.execute("UPDATE runs SET queries = ? WHERE id = ?", (text, self.run_id)))

    async def set_title(self, title: str | None = None, topic: str | None = None) -> None:
        await self._runtime.store.write(lambda conn: records.set_title(conn, self.run_id, title, topic, now_ms()))

    async def write_artifact(self, path: str, content: bytes, content_type: str) -> None:
        await self._runtime.put_artifact(self.run_id, check_path(path), content, content_type)

    async def emit_events(self, events: list[dict[str, Any]]) -> None:
        self._runtime.limits.check_value(events, "the telemetry events")
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        base = {"timestamp": stamp, "runId": self.workflow_run_id, "model": self.model,
                "environmentId": self.environment, "environmentType": "local", "interactionId": self.interaction}
        owner = self.started_by if self.visibility == "private" else None
        rows = [event_row(AgentEvent.model_validate({**base, **event}), self.run_id, owner, self.started_by)
                for event in events]
        await self._runtime.store.write(lambda conn: insert_events(conn, rows))

    async def spawn_child(self, interaction: str, data: dict[str, Any], interactive: bool = False) -> str:
        self._runtime.limits.check_value(data, "the child run's data")
        request = CreateAgentRunRequest(interaction=interaction, data=data, interactive=interactive,
                                        visibility=self.visibility)
        run = await self._runtime.create(self.started_by, request, parent_id=self.run_id)
        return str(run["id"])

    async def wait_for_run(self, run_id: str, seconds: float) -> str:
        return await self._runtime.wait_for(run_id, seconds)

    async def sleep_ms(self, ms: float) -> None:
        await asyncio.sleep(ms / 1000)

    async def to_thread(self, fn: Any, *args: Any) -> Any:
        return await anyio.to_thread.run_sync(fn, *args)


def _item(post: Post, limits: Limits) -> dict[str, Any]:
    """A message as the runtime stores it (compact wire keys)."""
    kind = parse_type(post.type)
    item: dict[str, Any] = {"t": kind.value if kind else str(post.type)}
    if post.message:
        item["m"] = post.message
    if post.details is not None:
        limits.check_value(post.details, "the message details")
        item["d"] = post.details
    if post.workstream and post.workstream != "main":
        item["w"] = post.workstream
    return item
