"""SQL building blocks of the analytics reports: filters, dimensions, time buckets, exact percentiles."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime
from typing import Any

from mcp_agents.local.keys import Principal
from mcp_agents.local.records import MIN_MS, parse_time
from mcp_agents.models import AnalyticsQuery
from mcp_agents.models.messages import MAX_MS

DIMENSIONS = {"model": "e.model", "environment": "e.environment_id", "tool": "e.tool_name",
              "toolType": "e.tool_type", "agent": "e.interaction_id", "errorType": "e.error_type"}
# filter field -> column
FILTERS = {"agents": "e.interaction_id", "environments": "e.environment_id", "models": "e.model",
           "tools": "e.tool_name", "toolTypes": "e.tool_type", "runIds": "e.workflow_run_id",
           "agentRunIds": "e.agent_run_id", "principals": "e.principal"}
UNIT_MS = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}
DAY_MS = 86_400_000
PERCENTILES = {"medianMs": 0.5, "p95Ms": 0.95, "p99Ms": 0.99}


def dimension_column(group_by: str) -> str:
    return DIMENSIONS[group_by]


def where_clause(query: AnalyticsQuery, principal: Principal, times: bool = True) -> tuple[str, list[Any]]:
    """Conditions on `events e` for the query's time range (unless not `times`) and filters, and what the
    principal may see."""
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    if not principal.is_superadmin:
        where.append("(e.owner IS NULL OR e.owner = ?)")
        args.append(principal.id)
    if query.from_ is not None and times:
        where.append("e.ts >= ?")
        args.append(parse_time(query.from_, "from"))
    if query.to is not None and times:
        where.append("e.ts < ?")
        args.append(parse_time(query.to, "to"))
    flt = query.filter
    if flt is not None:
        for name, column in FILTERS.items():
            values = getattr(flt, name)
            if values:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                args.extend(values)
        if flt.success is not None:
            where.append("e.success = ?")
            args.append(int(flt.success))
    return " AND ".join(where), args


def bucket_sql(column: str, resolution: str, step: int) -> str:
    """SQL for the integer index of the bucket holding `column` (epoch ms)."""
    if resolution in UNIT_MS:
        return f"(CAST({column} AS INTEGER) / {UNIT_MS[resolution] * step})"
    if resolution == "week":  # Monday-based: day 0 (1970-01-01) is a Thursday
        return f"(((CAST({column} AS INTEGER) / {DAY_MS}) + 3) / {7 * step})"
    months = (f"((CAST(strftime('%Y', {column} / 1000, 'unixepoch') AS INTEGER) - 1970) * 12 "
              f"+ CAST(strftime('%m', {column} / 1000, 'unixepoch') AS INTEGER) - 1)")
    return f"({months} / {step})"


def bucket_bounds(index: int, resolution: str, step: int) -> tuple[int, int]:
    """Start and end (epoch ms) of bucket `index`, within the times accepted (`MIN_MS`..`MAX_MS`)."""
    if resolution in UNIT_MS:
        size = UNIT_MS[resolution] * step
        return max(MIN_MS, index * size), min(MAX_MS, (index + 1) * size)
    if resolution == "week":
        start = (index * 7 * step - 3) * DAY_MS
        return max(MIN_MS, start), min(MAX_MS, start + 7 * step * DAY_MS)

    def month_start(month_index: int) -> int:
        year = 1970 + month_index // 12
        if not 1 <= year <= 9999:
            return MIN_MS if year < 1 else MAX_MS
        moment = datetime(year, month_index % 12 + 1, 1, tzinfo=UTC)
        return int(moment.timestamp() * 1000)

    return month_start(index * step), month_start((index + 1) * step)


def stats(conn: sqlite3.Connection, values_sql: str, args: list[Any]) -> dict[Any, dict[str, Any]]:
    """Per group `g` of `values_sql` (columns g, d, ok): count, avg, min, max, exact percentiles, success rate."""
    picks = []
    for name, p in PERCENTILES.items():
        rank = f"CAST({p} * (n - 1) AS INTEGER)"
        picks.append(f"max(CASE WHEN i = {rank} THEN d END) AS {name}_lo, "
                     f"max(CASE WHEN i = min(n - 1, {rank} + 1) THEN d END) AS {name}_hi")
    sql = f"""WITH v AS (SELECT g, d, ok FROM ({values_sql}) WHERE d IS NOT NULL),
        r AS (SELECT g, d, ok, row_number() OVER (PARTITION BY g ORDER BY d) - 1 AS i,
                     count(*) OVER (PARTITION BY g) AS n FROM v)
        SELECT g, count(*) AS n, avg(d) AS avg, min(d) AS lo, max(d) AS hi, avg(ok) AS rate, {', '.join(picks)}
        FROM r GROUP BY g"""
    out: dict[Any, dict[str, Any]] = {}
    for row in conn.execute(sql, args):
        n = row["n"]
        item: dict[str, Any] = {"count": n, "avgMs": row["avg"], "minMs": row["lo"], "maxMs": row["hi"],
                                "successRate": row["rate"]}
        for name, p in PERCENTILES.items():
            position = p * (n - 1)
            low, high = row[f"{name}_lo"], row[f"{name}_hi"]
            item[name] = low + (high - low) * (position - math.floor(position))
        out[row["g"]] = item
    return out
