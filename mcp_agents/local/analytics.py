"""The fourteen analytics reports, computed in SQL from the stored telemetry events.

Percentiles are exact, with linear interpolation between the two nearest ranks (as PostgreSQL's
`percentile_cont` and numpy's default): ranks come from window functions, the interpolation is
one multiplication. Time buckets are aligned in UTC: minutes, hours and days on the epoch, weeks
on Mondays, months on the 1st; `resolutionStep` groups that many units, counted from the epoch.
Only non-empty buckets are returned. Events of private runs count only for their owner (and
superadmins). Summary: a run is counted from its `agent_run_started` / `agent_run_completed`
events; time to first response runs from `agent_run_started` to the end (`timestamp +
durationMs`) of the run's first `llm_call`. Token sums and call counts come from the exact roll-ups
of `analytics_rollup` where they can (`sum(e.n)` counts events there); the summary's run counts come
from an index in run order and its run durations, already sorted, from an index by duration.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from mcp_agents.local.analytics_rollup import HOUR_MS, UNITS, call_source
from mcp_agents.local.analytics_sql import bucket_bounds, bucket_sql, dimension_column, stats, where_clause
from mcp_agents.local.keys import Principal
from mcp_agents.local.records import iso, parse_time
from mcp_agents.models import AnalyticsQuery

Report = dict[str, Any]


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole else 0.0


def _usage(row: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    calls, prompt, completion, total, cached, cache_write = (row[i] or 0 for i in range(6))
    return {"inputTokens": prompt, "outputTokens": completion, "totalTokens": total, "cachedInputTokens": cached,
            "cacheWriteInputTokens": cache_write, "avgTokensPerCall": total / calls if calls else 0.0}


_USAGE_COLUMNS = ("sum(e.n), sum(e.prompt_tokens), sum(e.completion_tokens), sum(e.total_tokens), "
                  "sum(e.cached_tokens), sum(e.cache_write_tokens)")


def _series_point(query: AnalyticsQuery, index: int) -> dict[str, Any]:
    start, end = bucket_bounds(index, query.resolution or "day", query.resolutionStep or 1)
    return {"timestamp": iso(start), "timestampEnd": iso(end)}


def summary(conn: sqlite3.Connection, query: AnalyticsQuery, principal: Principal) -> Report:
    where, args = where_clause(query, principal)
    run_event = "e.event_type IN ('agent_run_started', 'agent_run_completed')"
    llm, nested = "e.event_type = 'llm_call'", "e.event_type = 'llm_call' AND e.call_type = 'nested_interaction'"

    def usage_of(condition: str) -> str:
        return ", ".join(f"sum(CASE WHEN {condition} THEN {column} END)" for column in (
            "e.n", "e.prompt_tokens", "e.completion_tokens", "e.total_tokens", "e.cached_tokens",
            "e.cache_write_tokens"))

    # runs, from their run events: the covering index is in run order, so runs are grouped without a sort
    total, ok, failed, first, last, non_interactive = conn.execute(f"""
        SELECT count(*), coalesce(sum(ok), 0), coalesce(sum(bad), 0), min(t0), max(t1), coalesce(sum(ni), 0) FROM (
            SELECT max(e.event_type = 'agent_run_completed' AND e.success = 1) AS ok,
                   max(e.event_type = 'agent_run_completed' AND e.success = 0) AS bad, min(e.ts) AS t0, max(e.ts) AS t1,
                   (SELECT r.interactive = 0 FROM runs r INDEXED BY runs_interactive WHERE r.id = e.run_key) AS ni
            FROM events e INDEXED BY events_run_facts WHERE {where} AND {run_event} GROUP BY e.run_key)""",
                                                                     args).fetchone()
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: many rows
    durations = [d for (d,) in cursor.execute(
        f"SELECT e.duration_ms FROM events e INDEXED BY events_run_durations WHERE {where} "
        "AND e.event_type = 'agent_run_completed' AND e.duration_ms IS NOT NULL ORDER BY e.duration_ms",
        args)]  # in index order, without a sort; summed in this order, as `stats` does
    calls, calls_args = call_source(query, principal, ("llm_call", "tool_call"))
    row = conn.execute(f"""
        SELECT sum(CASE WHEN {llm} THEN e.n END), sum(CASE WHEN e.event_type = 'tool_call' THEN e.n END),
               count(DISTINCT CASE WHEN {llm} THEN e.model END),
               count(DISTINCT CASE WHEN e.event_type = 'tool_call' THEN e.tool_name END),
               {usage_of(llm)}, {usage_of(nested)}
        FROM ({calls}) e""", calls_args).fetchone()
    llm_calls, tool_calls, models, tools_used = row[:4]
    n = len(durations)
    position = 0.95 * (n - 1)
    low = int(position)
    p95 = durations[low] + (durations[min(n - 1, low + 1)] - durations[low]) * (position - low) if n else None
    frm = parse_time(query.from_, "from") if query.from_ is not None else first
    to = parse_time(query.to, "to") if query.to is not None else last
    return {"summary": {
        "timeRange": {"from": iso(frm), "to": iso(to)},
        "totalRuns": total, "successfulRuns": ok, "failedRuns": failed, "ongoingRuns": max(0, total - ok - failed),
        "successRate": ok / (ok + failed) if ok + failed else None,
        "tokenUsage": _usage(tuple(row[4:10])), "nestedInteractionTokens": _usage(tuple(row[10:16])),
        "avgRunDurationMs": sum(durations) / n if n else None, "p95RunDurationMs": p95,
        "nonInteractiveRunCount": non_interactive, "totalLlmCalls": llm_calls or 0, "totalToolCalls": tool_calls or 0,
        "uniqueModels": models, "uniqueTools": tools_used,
    }}


def tokens(conn: sqlite3.Connection, query: AnalyticsQuery, principal: Principal) -> Report:
    dim = dimension_column(query.groupBy) if query.groupBy else None
    # the roll-ups answer unless the query asks for minute buckets or a column they do not keep
    units = () if query.resolution == "minute" or dim == "e.error_type" else \
        (HOUR_MS,) if query.resolution == "hour" else UNITS
    source, args = call_source(query, principal, ("llm_call",), units)
    base = f"FROM ({source}) e"
    out: Report = {"summary": _usage(conn.execute(f"SELECT {_USAGE_COLUMNS} {base}", args).fetchone())}
    grand = out["summary"]["totalTokens"]
    if dim:
        rows = conn.execute(f"SELECT {dim} AS g, {_USAGE_COLUMNS} {base} GROUP BY g "
                            "ORDER BY sum(e.total_tokens) DESC, g LIMIT ?", [*args, query.limit or 1000]).fetchall()
        out["byDimension"] = [{"dimension": row[0], "usage": _usage(tuple(row)[1:]), "callCount": row[1],
                               "percentageOfTotal": _pct(row[4] or 0, grand)} for row in rows]
    if query.resolution:
        bucket = bucket_sql("e.ts", query.resolution, query.resolutionStep or 1)
        group = dim or "NULL"
        rows = conn.execute(f"SELECT {bucket} AS b, {group} AS g, {_USAGE_COLUMNS} {base} GROUP BY b, g "
                            "ORDER BY b, g", args).fetchall()
        out["timeSeries"] = [{**_series_point(query, row[0]), "usage": _usage(tuple(row)[2:]), "callCount": row[2],
                              **({"group": row[1]} if dim else {})} for row in rows]
    return out


_LATENCY_TYPES = {"latency_llm": "llm_call", "latency_tools": "tool_call", "latency_agents": "agent_run_completed"}


def latency(conn: sqlite3.Connection, query: AnalyticsQuery, principal: Principal, name: str) -> Report:
    where, args = where_clause(query, principal)
    kind = _LATENCY_TYPES[name]
    values = f"SELECT {{g}} AS g, e.duration_ms AS d, e.success AS ok FROM events e WHERE {where} " \
             f"AND e.event_type = '{kind}'"
    overall = stats(conn, values.format(g="''"), args).get("", {})
    out: Report = {"summary": {**_duration(overall), "count": overall.get("count", 0),
                               "successRate": overall.get("successRate")}}
    if query.groupBy:
        groups = stats(conn, values.format(g=dimension_column(query.groupBy)), args)
        ordered = sorted(groups.items(), key=lambda item: (-item[1]["count"], str(item[0])))[: query.limit or 1000]
        out["byDimension"] = [{"dimension": key, "duration": _duration(value), "count": value["count"],
                               "successRate": value["successRate"]} for key, value in ordered]
    if query.resolution:
        bucket = bucket_sql("e.ts", query.resolution, query.resolutionStep or 1)
        series = stats(conn, values.format(g=bucket), args)
        out["timeSeries"] = [{**_series_point(query, int(key)), "duration": _duration(value), "count": value["count"],
                              "successRate": value["successRate"]} for key, value in sorted(series.items())]
    return out


def _duration(values: dict[str, Any]) -> dict[str, Any]:
    return {key: values.get(key) for key in ("avgMs", "minMs", "maxMs", "medianMs", "p95Ms", "p99Ms")}


def errors(conn: sqlite3.Connection, query: AnalyticsQuery, principal: Principal) -> Report:
    where, args = where_clause(query, principal)
    base = f"FROM events e WHERE {where} AND e.event_type IN ('llm_call', 'tool_call') AND e.success IS NOT NULL"
    metrics = ("count(*), sum(e.success = 1), sum(e.success = 0), sum(e.success = 0 AND e.event_type = 'llm_call'), "
               "sum(e.success = 0 AND e.event_type = 'tool_call')")

    def body(row: tuple[Any, ...]) -> dict[str, Any]:
        total, ok, bad, llm, tool = (value or 0 for value in row)
        return {"totalCount": total, "successCount": ok, "errorCount": bad, "errorRate": bad / total if total else 0.0,
                "llmErrorCount": llm, "toolErrorCount": tool}

    out: Report = {"summary": body(tuple(conn.execute(f"SELECT {metrics} {base}", args).fetchone()))}
    bad_total = out["summary"]["errorCount"]
    rows = conn.execute(f"SELECT coalesce(e.error_type, 'unknown') AS t, count(*), max(e.error_message) {base} "
                        "AND e.success = 0 GROUP BY t ORDER BY count(*) DESC, t LIMIT ?",
                        [*args, query.limit or 1000]).fetchall()
    out["byErrorType"] = [{"errorType": row[0], "count": row[1], "percentageOfErrors": _pct(row[1], bad_total),
                           **({"exampleMessage": row[2]} if row[2] else {})} for row in rows]
    if query.groupBy:
        dim = dimension_column(query.groupBy)
        rows = conn.execute(f"SELECT {dim} AS g, {metrics} {base} GROUP BY g ORDER BY sum(e.success = 0) DESC, g "
                            "LIMIT ?", [*args, query.limit or 1000]).fetchall()
        out["byDimension"] = [{"dimension": row[0], **body(tuple(row)[1:])} for row in rows]
    if query.resolution:
        bucket = bucket_sql("e.ts", query.resolution, query.resolutionStep or 1)
        rows = conn.execute(f"SELECT {bucket} AS b, {metrics} {base} GROUP BY b ORDER BY b", args).fetchall()
        out["timeSeries"] = [{**_series_point(query, row[0]), "metrics": body(tuple(row)[1:])} for row in rows]
    return out


def tools(conn: sqlite3.Connection, query: AnalyticsQuery, principal: Principal) -> Report:
    where, args = where_clause(query, principal)
    base = f"FROM events e WHERE {where} AND e.event_type = 'tool_call'"
    durations = stats(conn, f"SELECT e.tool_name AS g, e.duration_ms AS d, e.success AS ok {base}", args)
    rows = conn.execute(f"SELECT e.tool_name, max(e.tool_type), count(*), avg(e.success), avg(e.params_size), "
                        f"avg(e.result_size) {base} GROUP BY e.tool_name ORDER BY count(*) DESC, e.tool_name LIMIT ?",
                        [*args, query.limit or 1000]).fetchall()
    total = conn.execute(f"SELECT count(*) {base}", args).fetchone()[0]
    return {"totalInvocations": total, "tools": [{
        "toolName": row[0], "toolType": row[1], "invocationCount": row[2], "successRate": row[3],
        "duration": _duration(durations.get(row[0], {})), "avgInputSizeBytes": row[4], "avgOutputSizeBytes": row[5],
    } for row in rows]}


def tool_parameters(conn: sqlite3.Connection, query: AnalyticsQuery, principal: Principal) -> Report:
    where, args = where_clause(query, principal)
    base = f"FROM events e WHERE {where} AND e.event_type = 'tool_call' AND e.tool_name = ?"
    args = [*args, query.toolName]
    total = conn.execute(f"SELECT count(*) {base}", args).fetchone()[0]
    rows = conn.execute(f"""SELECT j.key, CASE WHEN j.type IN ('object', 'array') THEN j.value
                                  WHEN j.type = 'text' THEN j.value ELSE CAST(j.atom AS TEXT) END AS v, count(*) AS n
                           {base.replace('FROM events e', 'FROM events e, json_each(e.parameters) j')}
                           AND e.parameters IS NOT NULL GROUP BY j.key, v ORDER BY j.key, n DESC, v""", args).fetchall()
    parameters: dict[str, Any] = {}
    for key, value, count in rows:
        entry = parameters.setdefault(key, {"topValues": [], "uniqueValueCount": 0})
        entry["uniqueValueCount"] += 1
        if len(entry["topValues"]) < (query.limit or 10):
            entry["topValues"].append({"parameterName": key, "value": value, "count": count,
                                       "percentage": _pct(count, total)})
    return {"analytics": {"toolName": query.toolName, "totalInvocations": total, "parameters": parameters}}


def filter_options(conn: sqlite3.Connection, query: AnalyticsQuery, principal: Principal) -> Report:
    where, args = where_clause(query, principal)
    agents = conn.execute(f"SELECT DISTINCT e.interaction_id FROM events e WHERE {where} ORDER BY 1", args).fetchall()
    pairs = conn.execute(f"SELECT DISTINCT e.environment_id, e.model FROM events e WHERE {where} "
                         "AND e.model != '' ORDER BY 1, 2", args).fetchall()
    people = conn.execute(f"SELECT DISTINCT e.principal FROM events e WHERE {where} AND e.principal IS NOT NULL "
                          "ORDER BY 1", args).fetchall()
    return {"agents": [{"id": row[0], "name": row[0]} for row in agents],
            "environmentModels": [{"environmentId": env, "environmentName": env, "modelId": model, "modelName": model}
                                  for env, model in pairs],
            "principals": [_principal(row[0]) for row in people]}


def _principal(principal_id: str) -> dict[str, Any]:
    kind, _, name = principal_id.partition(":")
    return {"id": principal_id, "type": kind if name else "apikey", "name": name or principal_id}


def prompt_size(conn: sqlite3.Connection, query: AnalyticsQuery, principal: Principal) -> Report:
    where, args = where_clause(query, principal)
    first = f"""SELECT * FROM (SELECT e.interaction_id AS agent, e.prompt_tokens AS p,
                    row_number() OVER (PARTITION BY e.run_key ORDER BY e.ts, e.id) AS rn
                FROM events e WHERE {where} AND e.event_type = 'llm_call' AND e.call_type = 'start') WHERE rn = 1"""
    overall = stats(conn, f"SELECT '' AS g, p AS d, NULL AS ok FROM ({first})", args).get("", {})
    rows = conn.execute(f"SELECT agent, avg(p), count(*) FROM ({first}) GROUP BY agent ORDER BY count(*) DESC, agent "
                        "LIMIT ?", [*args, query.limit or 1000]).fetchall()
    return {"summary": {"avgPromptTokens": overall.get("avgMs"), "p95PromptTokens": overall.get("p95Ms"),
                        "totalStartCalls": overall.get("count", 0)},
            "byAgent": [{"agentId": row[0], "agentName": row[0], "avgPromptTokens": row[1], "startCallCount": row[2]}
                        for row in rows]}


def top_principals(conn: sqlite3.Connection, query: AnalyticsQuery, principal: Principal) -> Report:
    where, args = where_clause(query, principal)
    base = f"FROM events e WHERE {where} AND e.event_type = 'agent_run_started'"
    rows = conn.execute(f"SELECT e.principal, count(DISTINCT e.run_key) AS n {base} GROUP BY e.principal "
                        "ORDER BY n DESC, e.principal LIMIT ?", [*args, query.limit or 10]).fetchall()
    total = conn.execute(f"SELECT count(DISTINCT e.run_key) {base}", args).fetchone()[0]
    return {"principals": [{"principalId": row[0], "principalType": _principal(row[0])["type"],
                            "displayName": _principal(row[0])["name"], "runCount": row[1]} for row in rows],
            "totalRuns": total}


def runs_by_agent(conn: sqlite3.Connection, query: AnalyticsQuery, principal: Principal) -> Report:
    where, args = where_clause(query, principal)
    base = f"FROM events e WHERE {where} AND e.event_type = 'agent_run_started'"
    total = conn.execute(f"SELECT count(DISTINCT e.run_key) {base}", args).fetchone()[0]
    rows = conn.execute(f"SELECT e.interaction_id, count(DISTINCT e.run_key) AS n {base} GROUP BY e.interaction_id "
                        "ORDER BY n DESC, e.interaction_id LIMIT ?", [*args, query.limit or 10]).fetchall()
    return {"agents": [{"agentId": row[0], "agentName": row[0], "runCount": row[1], "percentage": _pct(row[1], total)}
                       for row in rows], "totalRuns": total}


def time_to_first_response(conn: sqlite3.Connection, query: AnalyticsQuery, principal: Principal) -> Report:
    where, args = where_clause(query, principal)
    # min(ts) with a bare column: SQLite takes `duration_ms` from the row holding the minimum
    per_run = f"""WITH st AS MATERIALIZED (SELECT e.run_key AS k, min(e.ts) AS t0 FROM events e
                WHERE {where} AND e.event_type = 'agent_run_started' GROUP BY e.run_key),
            fl AS MATERIALIZED (SELECT e.run_key AS k, min(e.ts) AS ts, e.duration_ms AS dur FROM events e
                WHERE {where} AND e.event_type = 'llm_call' GROUP BY e.run_key)
        SELECT st.t0 AS t0, fl.ts + coalesce(fl.dur, 0) - st.t0 AS d FROM st JOIN fl ON fl.k = st.k"""
    both = [*args, *args]
    overall = stats(conn, f"SELECT '' AS g, d, NULL AS ok FROM ({per_run})", both).get("", {})
    out: Report = {"summary": {**_duration(overall), "runCount": overall.get("count", 0)}}
    if query.resolution:
        bucket = bucket_sql("t0", query.resolution, query.resolutionStep or 1)
        rows = conn.execute(f"SELECT {bucket} AS b, avg(d), count(*) FROM ({per_run}) GROUP BY b ORDER BY b",
                            both).fetchall()
        out["timeSeries"] = [{**_series_point(query, row[0]), "avgMs": row[1], "count": row[2]} for row in rows]
    return out


def first_response_behavior(conn: sqlite3.Connection, query: AnalyticsQuery, principal: Principal) -> Report:
    where, args = where_clause(query, principal)
    per_run = f"""WITH f AS MATERIALIZED (SELECT e.run_key AS k, min(e.ts) AS ts, e.tool_use_count AS tools
                FROM events e WHERE {where} AND e.event_type = 'llm_call' GROUP BY e.run_key),
            mi AS MATERIALIZED (SELECT e.run_key AS k, min(e.iteration) AS it FROM events e
                WHERE {where} AND e.event_type = 'tool_call' GROUP BY e.run_key),
            t AS MATERIALIZED (SELECT e.run_key AS k, max(lower(e.tool_name) LIKE '%plan%') AS has_plan
                FROM mi JOIN events e ON e.run_key = mi.k AND e.event_type = 'tool_call' AND e.iteration = mi.it
                WHERE {where} GROUP BY e.run_key)
        SELECT f.ts AS ts, CASE WHEN coalesce(f.tools, 0) = 0 THEN 'none' WHEN t.has_plan THEN 'plan'
                                ELSE 'other' END AS kind
        FROM f LEFT JOIN t ON t.k = f.k"""
    all_args = [*args, *args, *args]
    counts = "count(*), sum(kind = 'plan'), sum(kind = 'none'), sum(kind = 'other')"

    def body(row: tuple[Any, ...]) -> dict[str, Any]:
        total, plan, none, other = (value or 0 for value in row)
        return {"totalRuns": total, "runsWithPlanTool": plan, "planToolPercentage": _pct(plan, total),
                "runsWithNoTools": none, "noToolsPercentage": _pct(none, total), "runsWithOtherTools": other,
                "otherToolsPercentage": _pct(other, total)}

    out: Report = {"summary": body(tuple(conn.execute(f"SELECT {counts} FROM ({per_run})", all_args).fetchone()))}
    if query.resolution:
        bucket = bucket_sql("ts", query.resolution, query.resolutionStep or 1)
        rows = conn.execute(f"SELECT {bucket} AS b, {counts} FROM ({per_run}) GROUP BY b ORDER BY b",
                            all_args).fetchall()
        out["timeSeries"] = [{**_series_point(query, row[0]), **body(tuple(row)[1:])} for row in rows]
    return out


def report(conn: sqlite3.Connection, name: str, query: AnalyticsQuery, principal: Principal) -> Report:
    if name.startswith("latency_"):
        return latency(conn, query, principal, name)
    handler = {"summary": summary, "tokens": tokens, "errors": errors, "tools": tools,
               "tool_parameters": tool_parameters, "filter_options": filter_options, "prompt_size": prompt_size,
               "top_principals": top_principals, "runs_by_agent": runs_by_agent,
               "time_to_first_response": time_to_first_response,
               "first_response_behavior": first_response_behavior}[name]
    return handler(conn, query, principal)

