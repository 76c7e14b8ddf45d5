"""`GET /agents/search`: FTS5 over title, topic, interaction, tags, categories, input data and messages.

A run's score is its best bm25 match across its own row and its messages (higher is better). The
query text is split into terms that are quoted, so FTS5 syntax in user input is never executed;
every term must match (AND), the last one as a prefix (deliberately: search as you type, where the
last word is usually unfinished). Every match is scored, so the order is exact whatever the page.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from starlette.requests import Request

from mcp_agents.local import records
from mcp_agents.local.api_runs import hosted_filters, int_param, multi_param, run_filters
from mcp_agents.local.config import LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT
from mcp_agents.local.keys import Principal
from mcp_agents.local.store import Store

_TERM = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str | None:
    terms = _TERM.findall(text)[:32]
    if not terms:
        return None
    quoted = [f'"{term}"' for term in terms]
    quoted[-1] += "*"
    return " ".join(quoted)


def _csv_filter(request: Request, name: str, where: list[str], args: list[Any]) -> None:
    values = multi_param(request, name)
    if values:
        where.append(f"EXISTS (SELECT 1 FROM json_each(r.{name}) j WHERE j.value IN ({','.join('?' * len(values))}))")
        args.extend(values)


def _hit(row: sqlite3.Row, score: float) -> dict[str, Any]:
    run = records.run_to_wire(row)
    keys = ("id", "interaction", "interaction_name", "status", "started_at", "completed_at", "started_by", "title",
            "topic", "tags", "categories", "visibility", "interactive", "created_at", "updated_at")
    return {"score": score, **{key: run[key] for key in keys if key in run}}


async def search(store: Store, request: Request, principal: Principal, hosted: bool = False) -> dict[str, Any]:
    limit = int_param(request, "limit", LIST_DEFAULT_LIMIT, 1, LIST_MAX_LIMIT)
    offset = int_param(request, "offset", 0, 0, 10_000_000)
    where, args = run_filters(request, principal)
    if hosted:
        where += hosted_filters(request)
    _csv_filter(request, "tags", where, args)
    _csv_filter(request, "categories", where, args)
    match = fts_query(request.query_params.get("query", ""))
    clause = " AND ".join(where)

    def job(conn: sqlite3.Connection) -> dict[str, Any]:
        if match is None:
            total = int(conn.execute(f"SELECT count(*) FROM runs r WHERE {clause}", args).fetchone()[0])
            rows = conn.execute(f"SELECT r.*, 0.0 AS score FROM runs r WHERE {clause} "
                                "ORDER BY r.started_at DESC, r.seq DESC LIMIT ? OFFSET ?",
                                [*args, limit, offset]).fetchall()
        else:
            # every match is scored (exact relevance order), but only the page's runs are read whole: the
            # filters and the sort need just each hit's seq, score and start time
            hits = f"""WITH m(seq, s) AS (
                    SELECT rowid, bm25(runs_fts, 10.0, 5.0, 2.0, 3.0, 3.0, 1.0) FROM runs_fts WHERE runs_fts MATCH ?
                    UNION ALL
                    SELECT run_seq, bm25(messages_fts) FROM messages_fts WHERE messages_fts MATCH ?),
                best(seq, score) AS MATERIALIZED (SELECT seq, -min(s) FROM m GROUP BY seq),
                hits(seq, score, started_at) AS MATERIALIZED (SELECT best.seq, best.score, r.started_at
                    FROM best JOIN runs r ON r.seq = best.seq WHERE {clause})"""
            rows = conn.execute(f"""{hits}, page(seq, score) AS (SELECT seq, score FROM hits
                    ORDER BY score DESC, started_at DESC LIMIT ? OFFSET ?)
                SELECT r.*, page.score AS score, (SELECT count(*) FROM hits) AS total
                FROM page JOIN runs r ON r.seq = page.seq ORDER BY page.score DESC, r.started_at DESC, r.seq""",
                                [match, match, *args, limit, offset]).fetchall()
            total = int(rows[0]["total"]) if rows else int(
                conn.execute(f"{hits} SELECT count(*) FROM hits", [match, match, *args]).fetchone()[0])
        return {"hits": [_hit(row, float(row["score"])) for row in rows], "total": total}

    result: dict[str, Any] = await store.read(job)
    return result
