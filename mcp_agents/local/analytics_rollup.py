"""Roll-ups of the LLM and tool call events by UTC day and hour, so token reports do not re-read every event.

`event_rollup` holds one row per period (a day or an hour) and combination of every filterable
column, with the event count (`n`) and the token sums under the events' own column names. It is
kept up to date in the same transaction as the events (`add_events`), so it is always exact. A
report's range is cut into whole days, then whole hours at its ends, then the partial hours at its
edges, read from `events` itself (`call_source`); the pieces are unioned into one relation with
the columns of `events`, where `n` is 1 for a raw event. What the roll-up cannot answer (a filter on
run ids, a dimension it does not keep, minute buckets) reads `events` as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from mcp_agents.local.analytics_sql import where_clause
from mcp_agents.local.keys import Principal
from mcp_agents.local.records import parse_time
from mcp_agents.models import AnalyticsQuery

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
UNITS = (DAY_MS, HOUR_MS)
ROLLED_TYPES = ("llm_call", "tool_call")
KEYS = ("event_type", "owner", "principal", "interaction_id", "environment_id", "model", "tool_name", "tool_type",
        "call_type", "success")
SUMS = ("prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens", "cache_write_tokens")
# positions in a row made by `telemetry.event_row`
_ROW_TYPE, _ROW_TS = 4, 5
_ROW_KEYS = (4, 2, 3, 10, 8, 7, 20, 21, 18, 11)
_ROW_SUMS = (13, 14, 15, 16, 17)


def _backfill(unit: int) -> str:
    period = f"(ts - ((ts % {unit}) + {unit}) % {unit}) / {unit}"  # floor division, also before 1970
    return (f"INSERT INTO event_rollup SELECT {unit}, {period} AS period, {', '.join(KEYS)}, count(*), "
            f"{', '.join(f'sum({name})' for name in SUMS)} FROM events WHERE event_type IN {ROLLED_TYPES!r} "
            f"GROUP BY period, {', '.join(KEYS)};")


# NULL keys made comparable (a blob never equals a stored text or integer), so that one unique index
# finds a period's row for the upsert
_KEY_EXPRS = ", ".join(["event_type", "unit", "period", *(f"ifnull({key}, x'00')" for key in KEYS[1:])])

SCHEMA = f"""
    CREATE TABLE event_rollup (
        unit INTEGER NOT NULL, period INTEGER NOT NULL,
        {', '.join(f'{key} {"INTEGER" if key == "success" else "TEXT"}' for key in KEYS)},
        n INTEGER NOT NULL, {', '.join(f'{name} INTEGER' for name in SUMS)}
    );
    CREATE UNIQUE INDEX event_rollup_key ON event_rollup({_KEY_EXPRS});
    {' '.join(_backfill(unit) for unit in UNITS)}
"""

# sums as SQL's sum() does them: NULLs are skipped, and a sum of nothing but NULLs is NULL
_UPSERT = (f"INSERT INTO event_rollup (event_type, unit, period, {', '.join(KEYS[1:])}, n, {', '.join(SUMS)}) "
           f"VALUES ({', '.join('?' * (len(KEYS) + len(SUMS) + 3))}) ON CONFLICT ({_KEY_EXPRS}) DO UPDATE SET "
           f"n = n + excluded.n, "
           + ", ".join(f"{s} = coalesce({s} + excluded.{s}, {s}, excluded.{s})" for s in SUMS))


def add_events(conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    """Fold event rows (`telemetry.event_row` layout) into the roll-ups; call in the events' transaction."""
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        if row[_ROW_TYPE] not in ROLLED_TYPES:
            continue
        for unit in UNITS:
            key = (row[_ROW_TYPE], unit, row[_ROW_TS] // unit, *(row[i] for i in _ROW_KEYS[1:]))
            acc = groups.setdefault(key, [0, *(None for _ in SUMS)])
            acc[0] += 1
            for offset, i in enumerate(_ROW_SUMS, start=1):
                value = row[i]
                if value is not None:
                    acc[offset] = value if acc[offset] is None else acc[offset] + value
    conn.executemany(_UPSERT, [(*key, *acc) for key, acc in groups.items()])


def _cut(lo: int, hi: int | None, units: tuple[int, ...]) -> tuple[list[tuple[int, int, int | None]],
                                                                    list[tuple[int, int | None]]]:
    """Whole periods `(unit, first, end)` inside [lo, hi) (coarsest first) and the raw ranges left over."""
    first = -(-lo // units[0])  # the first period starting at or after lo
    end = None if hi is None else hi // units[0]  # periods before this one end at or before hi
    if end is not None and first >= end:
        return _cut(lo, hi, units[1:]) if len(units) > 1 else ([], [(lo, hi)])
    whole = [(units[0], first, end)]
    raw: list[tuple[int, int | None]] = []
    edges = [(lo, first * units[0])] + ([] if end is None else [(end * units[0], hi)])
    for start, stop in edges:
        if stop is not None and start >= stop:
            continue
        if len(units) > 1:
            more, rest = _cut(start, stop, units[1:])
            whole += more
            raw += rest
        else:
            raw.append((start, stop))
    return whole, raw


def call_source(query: AnalyticsQuery, principal: Principal, event_types: tuple[str, ...],
                units: tuple[int, ...] = UNITS) -> tuple[str, list[Any]]:
    """A relation `e` equivalent to the matching events of `event_types`, for sums and counts (`sum(e.n)`).

    Columns: the roll-up keys, `ts` (the period's start for rolled-up rows), `n` and the token sums;
    `units` are the periods the caller's buckets can be made of. The events themselves (every
    column, `n` = 1) when `units` is empty or the filter names runs.
    """
    types = f"e.event_type IN ({', '.join('?' * len(event_types))})"
    flt = query.filter
    raw_where, raw_args = where_clause(query, principal)
    if not units or (flt is not None and (flt.runIds or flt.agentRunIds)):
        return f"SELECT e.*, 1 AS n FROM events e WHERE {raw_where} AND {types}", [*raw_args, *event_types]
    lo = 0 if query.from_ is None else max(0, parse_time(query.from_, "from"))  # rolled up from 1970 on
    hi = None if query.to is None else parse_time(query.to, "to")
    whole, raw = _cut(lo, hi, units) if hi is None or lo < hi else ([], [])
    if lo == 0:  # before 1970: never rolled up
        start = -(2**63) if query.from_ is None else parse_time(query.from_, "from")
        raw.append((start, 0 if hi is None else min(0, hi)))
    columns = ", ".join(f"e.{key}" for key in KEYS)
    sums = ", ".join(f"e.{name}" for name in SUMS)
    where, args = where_clause(query, principal, times=False)
    parts: list[str] = []
    params: list[Any] = []
    for unit, first, end in whole:
        parts.append(f"SELECT {columns}, e.period * {unit} AS ts, e.n, {sums} FROM event_rollup e WHERE {where} "
                     f"AND {types} AND e.unit = ? AND e.period >= ?" + ("" if end is None else " AND e.period < ?"))
        params += [*args, *event_types, unit, first, *([] if end is None else [end])]
    for start, stop in raw:  # inside [from, to) already: one range, so that SQLite seeks to it
        parts.append(f"SELECT {columns}, e.ts, 1 AS n, {sums} FROM events e WHERE {where} AND {types} "
                     "AND e.ts >= ?" + ("" if stop is None else " AND e.ts < ?"))
        params += [*args, *event_types, start, *([] if stop is None else [stop])]
    if not parts:  # an empty range
        return f"SELECT e.*, 1 AS n FROM events e WHERE {raw_where} AND {types}", [*raw_args, *event_types]
    return " UNION ALL ".join(parts), params
