"""Runs interactions as asyncio tasks and owns every status transition of a run.

Each transition is one write job that checks the current status (so two racing transitions
cannot both win) and stores the status change together with its message; the message is
broadcast after the commit. On startup, runs left `running` by a dead process are resumed
(resumable interactions) or failed with a message saying how to restart them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
import time
import uuid
from collections.abc import Callable
from typing import Any

import anyio.to_thread

from mcp_agents.local import records
from mcp_agents.local.artifacts import ArtifactFiles
from mcp_agents.local.bus import Bus
from mcp_agents.local.config import SHUTDOWN_TIMEOUT_SECONDS, SIGNAL_QUEUE_MAX
from mcp_agents.local.context import ActiveRun, LocalRunContext
from mcp_agents.local.errors import ServiceError
from mcp_agents.local.interactions.base import Interaction, InteractionError, InteractionRegistry, Mode, Signal
from mcp_agents.local.limits import Limits
from mcp_agents.local.notify import Notifier
from mcp_agents.local.store import Store, now_ms
from mcp_agents.models import TERMINAL_STATUSES, CreateAgentRunRequest

log = logging.getLogger(__name__)
ACTIVE = ("created", "running")
ACCESS_CACHE_MAX = 100_000
# what every hosted conversation run answers, before its interaction says more (the demo's shapes)
COMMON_QUERIES: dict[str, Any] = {"ActiveWorkstreams": {"workstreams": []}, "AgentPlan": {"plan": []},
                                  "AvailableTools": {"tools": []}}


def new_run_id() -> str:
    """24 hex digits, time-ordered like the live service's ids."""
    return f"{int(time.time()):08x}{secrets.token_hex(8)}"


def new_workflow_run_id() -> str:
    return str(uuid.uuid4())


class Runtime:
    def __init__(self, store: Store, bus: Bus, registry: InteractionRegistry, files: ArtifactFiles,
                 notifier: Notifier | None = None, *, bursts: bool = False, limits: Limits | None = None) -> None:
        self.store = store
        self.limits = limits or Limits()
        self.bursts = bursts
        """Stamp messages as producers do on the hosted service: several share a millisecond (see `post`)."""
        self.bus = bus
        self.registry = registry
        self.files = files
        self.notifier = notifier or Notifier()
        self._artifact_writers: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}
        self._active: dict[str, ActiveRun] = {}
        # run id -> (started_by, visibility): neither changes once a run exists, so hot paths (posting
        # updates) check access from memory instead of a database round trip
        self.access: dict[str, tuple[str, str]] = {}

    def remember_access(self, run_id: str, owner: str, visibility: str) -> None:
        if len(self.access) >= ACCESS_CACHE_MAX:
            self.access.clear()
        self.access[run_id] = (owner, visibility)

    async def post(self, run_id: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Commit messages, then broadcast them; returns them with their timestamps.

        With `bursts` the messages of one call share one millisecond, which may also be the previous
        message's (a producer's clock); otherwise each gets its own, strictly increasing. A message with a
        `ts` keeps it (a producer's own stamp)."""
        stored = await self.store.write(lambda conn: records.insert_messages(self.store, conn, run_id, items,
                                                                             self.bursts))
        self.bus.publish(run_id, stored)
        return stored

    async def create(self, principal_id: str, request: CreateAgentRunRequest,
                     parent_id: str | None = None) -> dict[str, Any]:
        interaction = self.registry.resolve(request.interaction)
        for url in request.notify_endpoints or ():
            self.notifier.check(url)
        rec: dict[str, Any] = {
            "id": new_run_id(), "interaction": interaction.name, "interaction_version": str(interaction.version),
            "status": "running", "visibility": request.visibility or "project", "started_by": principal_id,
            "interactive": 1 if request.interactive is not False else 0, "started_at": now_ms(),
            "parent_id": parent_id, "forked_from": None, "workflow_run_id": new_workflow_run_id(),
            "title": None, "topic": None, "tags": request.tags or [], "categories": request.categories or [],
            "params": records.run_params(request),
        }
        return await self._launch(rec, interaction, "new")

    async def _launch(self, rec: dict[str, Any], interaction: Interaction, mode: Mode,
                      fill: Callable[[sqlite3.Connection, int], None] | None = None) -> dict[str, Any]:
        """Insert the run `rec` (and, in the same transaction, `fill` its history), start it, answer it."""

        def job(conn: sqlite3.Connection) -> sqlite3.Row:
            seq = records.insert_run(conn, rec)
            if fill is not None:
                fill(conn, seq)
            row = records.get_run(conn, rec["id"])
            assert row is not None
            return row

        row = await self.store.write(job)
        self._start(row, interaction, mode)
        return records.run_to_wire(row)

    def _start(self, row: sqlite3.Row, interaction: Interaction, mode: Mode) -> None:
        active = ActiveRun(run_id=row["id"], queries=json.loads(row["queries"]))
        ctx = LocalRunContext(self, row, mode, active)
        active.task = asyncio.create_task(self._drive(active, interaction, ctx), name=f"agent-run-{row['id']}")
        self._active[row["id"]] = active

    async def _drive(self, active: ActiveRun, interaction: Interaction, ctx: LocalRunContext) -> None:
        run_id = active.run_id
        try:
            result = await interaction.run(ctx)
            self.limits.check_value(result, "the run's result")
        except asyncio.CancelledError:
            raise  # terminate or shutdown: they own the status
        except InteractionError as exc:
            await self.finish(run_id, "failed", {"t": "ERROR", "m": str(exc)}, error=str(exc))
        except Exception as exc:
            log.exception("interaction %s crashed in run %s", interaction.name, run_id)
            text = f"interaction {interaction.name} crashed: {type(exc).__name__}: {exc}"
            await self.finish(run_id, "failed", {"t": "ERROR", "m": text}, error=text)
        else:
            await self.finish(run_id, "completed", {"t": "COMPLETE", "m": "Run completed"}, result=result)
        finally:
            if self._active.get(run_id) is active:
                del self._active[run_id]

    async def finish(self, run_id: str, status: str, message: dict[str, Any], result: Any = None,
                     error: str | None = None) -> bool:
        """Move an active run to `status` with its final message; False when it was no longer active."""
        result_json = json.loads(json.dumps(result, default=str))

        def job(conn: sqlite3.Connection) -> tuple[list[dict[str, Any]], sqlite3.Row] | None:
            if not records.finish_run(conn, run_id, status, now_ms(), result_json, error):
                return None
            stored = records.insert_messages(self.store, conn, run_id, [message], self.bursts)
            row = records.get_run(conn, run_id)
            assert row is not None
            return stored, row

        outcome = await self.store.write(job)
        if outcome is None:
            return False
        stored, row = outcome
        self.bus.publish(run_id, stored)
        self.bus.end(run_id)
        urls = json.loads(row["params"]).get("notify_endpoints")
        if urls:
            self.notifier.submit(row["started_by"], list(urls), records.run_to_wire(row))
        return True

    async def terminate(self, row: sqlite3.Row, reason: str | None) -> None:
        if row["status"] in TERMINAL_STATUSES:
            raise ServiceError(409, f"agent run {row['id']} is already {row['status']}; nothing to terminate")
        active = self._active.get(row["id"])
        if active is not None and active.task is not None:
            active.task.cancel()
            await asyncio.wait({active.task}, timeout=SHUTDOWN_TIMEOUT_SECONDS)
        details = {"reason": reason} if reason else None
        message: dict[str, Any] = {"t": "TERMINATED", "m": f"Terminated: {reason}" if reason else "Terminated"}
        if details:
            message["d"] = details
        if not await self.finish(row["id"], "cancelled", message, error=None):
            raise ServiceError(409, f"agent run {row['id']} finished before it could be terminated")

    def signal(self, row: sqlite3.Row, name: str, payload: dict[str, Any]) -> None:
        if row["status"] in TERMINAL_STATUSES:
            raise ServiceError(409, f"agent run {row['id']} is {row['status']}; restart it before sending signals")
        active = self._active.get(row["id"])
        if active is None:
            raise ServiceError(409, f"agent run {row['id']} is not executing; retry in a moment")
        if active.signals.qsize() >= SIGNAL_QUEUE_MAX:  # each may hold a body of up to 8 MiB
            raise ServiceError(429, f"agent run {row['id']} has {SIGNAL_QUEUE_MAX} signals it has not read yet; "
                                    "retry once it has read some")
        active.signals.put_nowait(Signal(name, payload))

    def query(self, row: sqlite3.Row, name: str) -> Any:
        """A query's answer; the common queries of every conversation run answer empty until set."""
        active = self._active.get(row["id"])
        answers = {**COMMON_QUERIES, **(active.queries if active is not None else json.loads(row["queries"]))}
        if name not in answers:
            known = ", ".join(sorted(answers))
            raise ServiceError(404, f"query handler {name!r} not found on this run; available: {known}")
        return answers[name]

    async def restart(self, run_id: str) -> dict[str, Any]:
        wri = new_workflow_run_id()

        def job(conn: sqlite3.Connection) -> tuple[sqlite3.Row, list[dict[str, Any]]]:
            row = records.get_run(conn, run_id)
            assert row is not None
            if row["status"] in ACTIVE:
                raise ServiceError(409, f"agent run {run_id} is {row['status']}; only a completed, failed or "
                                        "cancelled run can be restarted")
            at = now_ms()
            conn.execute("""UPDATE runs SET status = 'running', completed_at = NULL, error = NULL, result = NULL,
                            workflow_run_id = ?, started_at = ?, updated_at = ? WHERE id = ?""", (wri, at, at, run_id))
            records.open_workflow_run(conn, run_id, wri, at)
            stored = records.insert_messages(self.store, conn, run_id, [{"t": "RESTARTING", "m": "Run restarted"}],
                                             self.bursts)
            fresh = records.get_run(conn, run_id)
            assert fresh is not None
            return fresh, stored

        fresh, stored = await self.store.write(job)
        self.bus.publish(run_id, stored)
        self._start(fresh, self._interaction_of(fresh), "restart")
        return records.run_to_wire(fresh)

    async def fork(self, source: sqlite3.Row, principal_id: str) -> dict[str, Any]:
        interaction = self._interaction_of(source)
        params = json.loads(source["params"])
        rec: dict[str, Any] = {
            "id": new_run_id(), "interaction": source["interaction"], "interaction_version":
            source["interaction_version"], "status": "running", "visibility": source["visibility"],
            "started_by": principal_id, "interactive": source["interactive"], "started_at": now_ms(),
            "parent_id": None, "forked_from": source["id"], "workflow_run_id": new_workflow_run_id(),
            "title": source["title"], "topic": source["topic"], "tags": json.loads(source["tags"]),
            "categories": json.loads(source["categories"]), "params": params,
        }

        def copy_history(conn: sqlite3.Connection, seq: int) -> None:
            rows = conn.execute("SELECT ts, body FROM messages WHERE run_id = ? ORDER BY ts, id",
                                (source["id"],)).fetchall()
            conn.executemany("INSERT INTO messages (run_id, ts, body) VALUES (?, ?, ?)",
                             [(rec["id"], ts, body) for ts, body in rows])
            texts = [(json.loads(body).get("m"), seq) for _, body in rows]
            conn.executemany("INSERT INTO messages_fts (text, run_seq) VALUES (?, ?)", [t for t in texts if t[0]])
            if rows:
                self.store.last_ts[rec["id"]] = int(rows[-1][0])
            conn.execute("UPDATE runs SET queries = ? WHERE id = ?", (source["queries"], rec["id"]))

        return await self._launch(rec, interaction, "fork", copy_history)

    def _interaction_of(self, row: sqlite3.Row) -> Interaction:
        ref = f"{row['interaction']}@{row['interaction_version']}" if row["interaction_version"] else row["interaction"]
        try:
            return self.registry.resolve(ref)
        except ServiceError:
            return self.registry.resolve(row["interaction"])

    async def wait_for(self, run_id: str, seconds: float) -> str:
        """Wait (bounded) until a run is no longer executing here; returns its status."""
        active = self._active.get(run_id)
        if active is not None and active.task is not None:
            await asyncio.wait({active.task}, timeout=seconds)
        row = await self.store.read(lambda conn: records.get_run(conn, run_id))
        return str(row["status"]) if row is not None else "unknown"

    async def put_artifact(self, run_id: str, path: str, content: bytes, content_type: str) -> None:
        """Writers of one path take turns, so the file and its metadata come from the same (last) writer."""
        key = (run_id, path)
        lock, users = self._artifact_writers.get(key, (asyncio.Lock(), 0))
        self._artifact_writers[key] = (lock, users + 1)
        try:
            async with lock:
                await anyio.to_thread.run_sync(self.files.write, run_id, path, content)
                size = len(content)
                await self.store.write(
                    lambda conn: records.upsert_artifact(conn, run_id, path, content_type, size, now_ms()))
        finally:
            lock, users = self._artifact_writers[key]
            if users == 1:
                del self._artifact_writers[key]
            else:
                self._artifact_writers[key] = (lock, users - 1)

    async def recover(self) -> None:
        """Resume or fail the runs a previous process left running."""
        rows = await self.store.read(lambda conn: conn.execute(
            "SELECT * FROM runs WHERE status IN ('created', 'running') ORDER BY seq").fetchall())
        for row in rows:
            try:
                interaction: Interaction | None = self._interaction_of(row)
            except ServiceError:
                interaction = None
            if interaction is not None and interaction.resumable:
                await self._resume(row, interaction)
                continue
            name = row["interaction"]
            text = (f"The local service stopped while this run was running, and interaction {name} cannot resume "
                    f"(it is not resumable or no longer installed). Restart it with POST /agents/{row['id']}/restart.")
            await self.finish(row["id"], "failed", {"t": "ERROR", "m": text}, error=text)

    async def _resume(self, row: sqlite3.Row, interaction: Interaction) -> None:
        wri, run_id = new_workflow_run_id(), row["id"]

        def job(conn: sqlite3.Connection) -> sqlite3.Row:
            at = now_ms()
            conn.execute("UPDATE workflow_runs SET closed_at = ?, status = 'interrupted' WHERE run_id = ? "
                         "AND closed_at IS NULL", (at, run_id))
            conn.execute("UPDATE runs SET workflow_run_id = ?, status = 'running', updated_at = ? WHERE id = ?",
                         (wri, at, run_id))
            records.open_workflow_run(conn, run_id, wri, at)
            stored = records.insert_messages(self.store, conn, run_id,
                                             [{"t": "SYSTEM", "m": "Resumed after the local service restarted"}])
            del stored
            fresh = records.get_run(conn, run_id)
            assert fresh is not None
            return fresh

        fresh = await self.store.write(job)
        self._start(fresh, interaction, "resume")

    async def stop(self) -> None:
        """Stop executing; runs stay `running` in the database and are resumed (or failed) on next start."""
        tasks = [active.task for active in self._active.values() if active.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=SHUTDOWN_TIMEOUT_SECONDS)
        await self.notifier.stop()
        self._active.clear()
