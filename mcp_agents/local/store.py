"""SQLite storage: the schema, one serialized write path, and reads off the event loop.

All writes go through one dedicated writer thread that commits jobs in batches (group commit):
a job is a function of the write connection, run inside a savepoint so one failing job does not
undo the others. `await store.write(job)` returns once the batch holding it is committed, so an
acknowledged write survives a crash (WAL, `synchronous=NORMAL`). Reads use per-thread read-only
connections in worker threads.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread

from mcp_agents.local import analytics_rollup
from mcp_agents.local.config import LAST_TS_CACHE_MAX, READERS_MAX, WRITE_BATCH_MAX
from mcp_agents.local.private import make_private_dir, touch_private

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = 2
MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema
    """
    CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        interaction TEXT NOT NULL,
        interaction_version TEXT,
        status TEXT NOT NULL,
        visibility TEXT NOT NULL,
        started_by TEXT NOT NULL,
        interactive INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        completed_at INTEGER,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        parent_id TEXT,
        forked_from TEXT,
        workflow_run_id TEXT NOT NULL,
        first_workflow_run_id TEXT NOT NULL,
        title TEXT, topic TEXT, name TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        categories TEXT NOT NULL DEFAULT '[]',
        params TEXT NOT NULL DEFAULT '{}',
        result TEXT, error TEXT,
        queries TEXT NOT NULL DEFAULT '{}',
        notified INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX runs_started ON runs(started_at);
    CREATE INDEX runs_updated ON runs(updated_at);
    CREATE INDEX runs_status ON runs(status, started_at);
    CREATE INDEX runs_interaction ON runs(interaction, started_at);
    CREATE INDEX runs_owner ON runs(started_by, started_at);
    CREATE INDEX runs_parent ON runs(parent_id);
    CREATE TABLE workflow_runs (
        id TEXT PRIMARY KEY, run_id TEXT NOT NULL, started_at INTEGER NOT NULL, closed_at INTEGER,
        status TEXT NOT NULL, reason TEXT
    );
    CREATE INDEX workflow_runs_run ON workflow_runs(run_id, started_at);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        ts INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE UNIQUE INDEX messages_run_ts ON messages(run_id, ts);
    CREATE TABLE artifacts (
        run_id TEXT NOT NULL, path TEXT NOT NULL, content_type TEXT NOT NULL, size INTEGER NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (run_id, path)
    ) WITHOUT ROWID;
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        agent_run_id TEXT NOT NULL,
        run_key TEXT NOT NULL,
        owner TEXT,
        principal TEXT,
        event_type TEXT NOT NULL,
        ts INTEGER NOT NULL,
        workflow_run_id TEXT,
        model TEXT, environment_id TEXT, environment_type TEXT, interaction_id TEXT,
        success INTEGER, duration_ms REAL,
        prompt_tokens INTEGER, completion_tokens INTEGER, total_tokens INTEGER,
        cached_tokens INTEGER, cache_write_tokens INTEGER,
        call_type TEXT, tool_use_count INTEGER, tool_name TEXT, tool_type TEXT, iteration INTEGER,
        error_type TEXT, error_message TEXT, params_size INTEGER, result_size INTEGER,
        parameters TEXT
    );
    -- the full event as sent, apart so that report scans read narrow rows
    CREATE TABLE event_bodies (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
    CREATE INDEX events_type_ts ON events(event_type, ts);
    CREATE INDEX events_run ON events(run_key, event_type, ts);
    CREATE INDEX events_agent_run ON events(agent_run_id);
    CREATE VIRTUAL TABLE runs_fts USING fts5(title, topic, interaction, tags, categories, input,
                                             tokenize = 'unicode61 remove_diacritics 2');
    CREATE VIRTUAL TABLE messages_fts USING fts5(text, run_seq UNINDEXED,
                                                 tokenize = 'unicode61 remove_diacritics 2');
    """,
    # 2: the daily and hourly roll-ups of LLM and tool calls (analytics_rollup), filled from the events already
    # stored, and indexes of the run events by run and by duration, and of runs' interactivity (for the summary)
    analytics_rollup.SCHEMA + """
    CREATE INDEX events_run_facts ON events(run_key, event_type, ts, owner, success, duration_ms)
        WHERE event_type IN ('agent_run_started', 'agent_run_completed');
    CREATE INDEX events_run_durations ON events(duration_ms, ts, owner) WHERE event_type = 'agent_run_completed';
    CREATE INDEX runs_interactive ON runs(id, interactive);
    """,
    # 3: producer-stamped timestamps: several messages of a run may share a millisecond (stored order: id)
    """
    DROP INDEX messages_run_ts;
    CREATE INDEX messages_run_ts ON messages(run_id, ts, id);
    """,
)

DB_FILE = "agent-runs.sqlite3"


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class _Job:
    fn: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA cache_size = -32000")
    if readonly:
        conn.execute("PRAGMA query_only = 1")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.executescript(f"BEGIN IMMEDIATE; {script}; PRAGMA user_version = {number}; COMMIT;")
        log.info("database migrated to schema %d", number)


class Store:
    """The database of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / DB_FILE
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        # A bounded pool of read connections: worker threads come and go, connections (and their caches) stay.
        self._idle_readers: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._read_limiter: anyio.CapacityLimiter | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer: sqlite3.Connection | None = None
        self.last_ts: dict[str, int] = {}  # writer-thread only: the last message timestamp per run

    def open(self) -> None:
        make_private_dir(self.path.parent)
        for path in (self.path, self.path.with_name(self.path.name + "-wal"),
                     self.path.with_name(self.path.name + "-shm")):
            if path == self.path or path.exists():
                touch_private(path)
        self._loop = asyncio.get_running_loop()
        self._read_limiter = anyio.CapacityLimiter(READERS_MAX)
        self._writer = _connect(self.path, readonly=False)
        _migrate(self._writer)
        self._thread = threading.Thread(target=self._write_loop, name="mcp-agents-local-writer", daemon=True)
        self._thread.start()

    async def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            await anyio.to_thread.run_sync(self._thread.join, 10.0)
            self._thread = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on the write connection; returns once its transaction is committed."""
        if self._thread is None or self._loop is None:
            raise RuntimeError("the store is closed")
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Job(fn, future))
        return await future

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` on a read-only connection in a worker thread (never on the event loop)."""
        return await anyio.to_thread.run_sync(self._read_sync, fn, limiter=self._read_limiter)

    def _read_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            conn = self._idle_readers.get_nowait()
        except queue.Empty:  # fewer than READERS_MAX exist: the limiter bounds how many are ever made
            conn = _connect(self.path, readonly=True)
            with self._readers_lock:
                self._readers.append(conn)
        try:
            return fn(conn)
        finally:
            self._idle_readers.put(conn)

    def next_ts(self, conn: sqlite3.Connection, run_id: str, *, shared: bool = False, at: int | None = None) -> int:
        """The timestamp of a run's next message (writer thread only): strictly after the run's previous one,
        or with `shared` (a producer's clock, as the hosted service has it) not before it, so that several
        messages share a millisecond. `at` is a producer's own stamp, kept as given."""
        last = self.last_ts.get(run_id)
        if last is None:
            row = conn.execute("SELECT max(ts) FROM messages WHERE run_id = ?", (run_id,)).fetchone()
            last = int(row[0]) if row and row[0] is not None else 0
        ts = at if at is not None else max(now_ms(), last if shared else last + 1)
        if len(self.last_ts) >= LAST_TS_CACHE_MAX:  # a cache: a miss reads max(ts) back from the table
            self.last_ts.clear()
        self.last_ts[run_id] = max(ts, last)
        return ts

    def _write_loop(self) -> None:
        assert self._writer is not None and self._loop is not None
        conn, loop = self._writer, self._loop
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < WRITE_BATCH_MAX:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            outcomes: list[tuple[bool, Any]] = []
            try:
                conn.execute("BEGIN IMMEDIATE")
                for job in batch:
                    conn.execute("SAVEPOINT job")
                    try:
                        outcomes.append((True, job.fn(conn)))
                        conn.execute("RELEASE job")
                    except Exception as exc:  # the job's own failure, reported to its caller
                        conn.execute("ROLLBACK TO job")
                        conn.execute("RELEASE job")
                        outcomes.append((False, exc))
                conn.execute("COMMIT")
            except Exception as exc:
                log.exception("write batch failed")
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                self.last_ts.clear()
                outcomes = [(False, exc) for _ in batch]
            try:
                loop.call_soon_threadsafe(_deliver, batch, outcomes)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                return


def _deliver(batch: list[_Job], outcomes: list[tuple[bool, Any]]) -> None:
    for job, (ok, value) in zip(batch, outcomes, strict=True):
        if job.future.done():
            continue
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)
