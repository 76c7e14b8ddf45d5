"""Rows of the database and their wire shapes: runs, messages, workflow runs and artifact metadata.

Functions here take a connection and are meant to run inside `Store.write` / `Store.read` jobs.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mcp_agents.local.errors import ServiceError
from mcp_agents.models.messages import MAX_MS  # 9999-12-31T23:59:59.999Z

if TYPE_CHECKING:
    from mcp_agents.local.keys import Principal
    from mcp_agents.local.store import Store
    from mcp_agents.models import CreateAgentRunRequest

ACCOUNT = "local"
SEQ = "_seq"  # the stored order of a message just inserted (never sent: `bus.sse_frame` takes it out)
PROJECT = "local"
WORKFLOW_TYPE = "ExecuteConversationWorkflow"
# create parameters kept as given and returned on the run object
PARAM_FIELDS = ("data", "environment", "model", "tool_names", "collection_id", "properties", "search_scope",
                "user_channels", "checkpoint_tokens", "max_iterations", "notify_endpoints", "debug_mode")
def run_params(request: CreateAgentRunRequest) -> dict[str, Any]:
    """The create parameters kept on the run (`config` overrides stored flat, as older databases hold them)."""
    params = request.model_dump(mode="json", include=set(PARAM_FIELDS), exclude_none=True)
    params.update({name: value for name in ("environment", "model")
                   if (value := getattr(request, name)) is not None})
    return params


TEMPORAL_STATUS = {"created": "RUNNING", "running": "RUNNING", "completed": "COMPLETED", "failed": "FAILED",
                   "cancelled": "CANCELED"}


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Times the service accepts: years 1 through 9999 (what ISO 8601 and `iso` can write). Refused at the
# write and in queries, so that no stored time breaks a report or a run's rendering.
MIN_MS = -62_135_596_800_000  # 0001-01-01T00:00:00.000Z


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    moment = EPOCH + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_time(value: str | int | float, what: str) -> int:
    """Epoch milliseconds from epoch ms (number or digits) or an ISO 8601 date, within
    [`MIN_MS`, `MAX_MS`]; 400 otherwise."""
    out_of_range = ServiceError(400, f"{what}: {str(value)[:40]!r} is out of range: use a time from 0001-01-01 "
                                     "through 9999-12-31, as epoch milliseconds or an ISO 8601 date")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not MIN_MS <= value <= MAX_MS:  # NaN compares false: refused too
            raise out_of_range
        return int(value)
    text = str(value).strip()
    try:
        if text.lstrip("-").isdigit():
            if len(text) > 20:
                raise out_of_range
            return parse_time(int(text), what)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        ms = (moment - EPOCH) // timedelta(milliseconds=1)
    except ValueError:
        raise ServiceError(400, f"{what}: {str(value)[:40]!r} is neither epoch milliseconds nor an ISO 8601 "
                                "date") from None
    if not MIN_MS <= ms <= MAX_MS:
        raise out_of_range
    return ms


def _flatten(value: Any) -> str:
    """Every scalar of a JSON value, space-separated (what full-text search indexes for `data`)."""
    if isinstance(value, dict):
        return " ".join(f"{key} {_flatten(item)}" for key, item in value.items())
    if isinstance(value, list):
        return " ".join(_flatten(item) for item in value)
    return "" if value is None else str(value)


def insert_run(conn: sqlite3.Connection, rec: dict[str, Any]) -> int:
    cursor = conn.execute(
        """INSERT INTO runs (id, interaction, interaction_version, status, visibility, started_by, interactive,
               started_at, created_at, updated_at, parent_id, forked_from, workflow_run_id, first_workflow_run_id,
               title, topic, tags, categories, params)
           VALUES (:id, :interaction, :interaction_version, :status, :visibility, :started_by, :interactive,
               :started_at, :started_at, :started_at, :parent_id, :forked_from, :workflow_run_id, :workflow_run_id,
               :title, :topic, :tags, :categories, :params)""",
        {**rec, "tags": json.dumps(rec["tags"]), "categories": json.dumps(rec["categories"]),
         "params": json.dumps(rec["params"])},
    )
    seq = int(cursor.lastrowid or 0)
    conn.execute(
        "INSERT INTO runs_fts (rowid, title, topic, interaction, tags, categories, input) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq, rec.get("title") or "", rec.get("topic") or "", rec["interaction"], " ".join(rec["tags"]),
         " ".join(rec["categories"]), _flatten(rec["params"].get("data"))),
    )
    open_workflow_run(conn, rec["id"], rec["workflow_run_id"], rec["started_at"])
    return seq


def open_workflow_run(conn: sqlite3.Connection, run_id: str, wri: str, at: int) -> None:
    conn.execute("INSERT INTO workflow_runs (id, run_id, started_at, status) VALUES (?, ?, ?, 'running')",
                 (wri, run_id, at))


def set_title(conn: sqlite3.Connection, run_id: str, title: str | None, topic: str | None, at: int) -> None:
    row = conn.execute("SELECT seq, title, topic FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        return
    title = title if title is not None else row["title"]
    topic = topic if topic is not None else row["topic"]
    conn.execute("UPDATE runs SET title = ?, topic = ?, updated_at = ? WHERE id = ?", (title, topic, at, run_id))
    conn.execute("UPDATE runs_fts SET title = ?, topic = ? WHERE rowid = ?", (title or "", topic or "", row["seq"]))


def get_run(conn: sqlite3.Connection, run_id: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
    return row


def visible_run(conn: sqlite3.Connection, run_id: str, principal: Principal) -> sqlite3.Row:
    """The run if the principal may see it; 404 otherwise (a private run of someone else does not exist)."""
    row = get_run(conn, run_id)
    if row is None or not principal.can_see(row["started_by"], row["visibility"]):
        raise ServiceError(404, f"agent run {run_id!r} not found")
    return row


def run_to_wire(row: sqlite3.Row) -> dict[str, Any]:
    params: dict[str, Any] = json.loads(row["params"])
    out: dict[str, Any] = {
        "id": row["id"], "account": ACCOUNT, "project": PROJECT, "interaction": row["interaction"],
        "interaction_name": row["interaction"], "interaction_version": row["interaction_version"],
        "status": row["status"], "interactive": bool(row["interactive"]),
    }
    for name in PARAM_FIELDS:
        if params.get(name) is not None:
            out[name] = params[name]
    out["environment"] = params.get("environment") or "local"
    out["model"] = params.get("model") or "local-model"
    out.update({
        "started_at": iso(row["started_at"]), "started_by": row["started_by"],
        "tags": json.loads(row["tags"]), "categories": json.loads(row["categories"]),
        "visibility": row["visibility"], "created_at": iso(row["created_at"]), "updated_at": iso(row["updated_at"]),
    })
    for name in ("title", "topic", "name", "parent_id", "forked_from"):
        if row[name] is not None:
            out[name] = row[name]
    if row["completed_at"] is not None:
        out["completed_at"] = iso(row["completed_at"])
    if row["error"]:
        out["error"] = row["error"]
    return out


def insert_messages(store: Store, conn: sqlite3.Connection, run_id: str, items: list[dict[str, Any]],
                    burst: bool = False) -> list[dict[str, Any]]:
    """Store messages (compact wire dicts) and return them with their timestamps and row ids (`seq`, the
    stored order, which is not part of the message).

    A message without `ts` gets a fresh one, strictly increasing; with `burst` (producer clocks) the
    messages of one call share one millisecond, which may also be the previous message's. A message
    with `ts` keeps the producer's stamp.
    """
    row = conn.execute("SELECT seq, workflow_run_id FROM runs WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        raise ServiceError(404, f"agent run {run_id!r} not found")
    out = []
    stamp: int | None = None
    for item in items:
        given = item.get("ts")
        if isinstance(given, int):
            ts = store.next_ts(conn, run_id, at=given)
        elif burst and stamp is not None:
            ts = stamp
        else:
            ts = stamp = store.next_ts(conn, run_id, shared=burst)
        message = {**item, "ts": ts}
        message.setdefault("wri", row["workflow_run_id"])
        out.append(message)
    insert = "INSERT INTO messages (run_id, ts, body) VALUES (?, ?, ?)"
    seqs = [int(conn.execute(insert, (run_id, m["ts"], json.dumps(m, separators=(",", ":"), allow_nan=False)))
                .lastrowid or 0) for m in out]
    for message, seq in zip(out, seqs, strict=True):
        message[SEQ] = seq
    texts = [(m["m"], row["seq"]) for m in out if m.get("m")]
    if texts:
        conn.executemany("INSERT INTO messages_fts (text, run_seq) VALUES (?, ?)", texts)
    conn.execute("UPDATE runs SET updated_at = ? WHERE id = ?", (out[-1]["ts"], run_id))
    return out


def list_messages(conn: sqlite3.Connection, run_id: str, since: int = 0) -> list[dict[str, Any]]:
    """The run's messages stamped after `since`, in stored order (a millisecond may hold several)."""
    return [message for _, message in list_messages_with_seq(conn, run_id, since)]


def list_messages_with_seq(conn: sqlite3.Connection, run_id: str, since: int = 0) -> list[tuple[int, dict[str, Any]]]:
    rows = conn.execute("SELECT id, body FROM messages WHERE run_id = ? AND ts > ? ORDER BY ts, id", (run_id, since))
    return [(int(seq), json.loads(body)) for seq, body in rows]


def finish_run(conn: sqlite3.Connection, run_id: str, status: str, at: int, result: Any = None,
               error: str | None = None) -> bool:
    """Move an active run to a terminal status; False when it was not active (someone else finished it)."""
    cursor = conn.execute(
        """UPDATE runs SET status = ?, completed_at = ?, updated_at = ?, result = ?, error = ?
           WHERE id = ? AND status IN ('created', 'running')""",
        (status, at, at, json.dumps(result), error, run_id),
    )
    if cursor.rowcount == 0:
        return False
    conn.execute("UPDATE workflow_runs SET closed_at = ?, status = ?, reason = ? "
                 "WHERE run_id = ? AND closed_at IS NULL", (at, status, error, run_id))
    return True


def list_artifacts(conn: sqlite3.Connection, run_id: str) -> list[str]:
    return [path for (path,) in conn.execute("SELECT path FROM artifacts WHERE run_id = ? ORDER BY path", (run_id,))]


def artifact_meta(conn: sqlite3.Connection, run_id: str, path: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute("SELECT * FROM artifacts WHERE run_id = ? AND path = ?",
                                           (run_id, path)).fetchone()
    return row


def upsert_artifact(conn: sqlite3.Connection, run_id: str, path: str, content_type: str, size: int, at: int) -> None:
    conn.execute(
        """INSERT INTO artifacts (run_id, path, content_type, size, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (run_id, path) DO UPDATE SET content_type = excluded.content_type, size = excluded.size,
               updated_at = excluded.updated_at""",
        (run_id, path, content_type, size, at, at),
    )
    conn.execute("UPDATE runs SET updated_at = ? WHERE id = ?", (at, run_id))
