"""Telemetry events: validated by `IngestEventsRequest`, stored as indexed columns plus the raw body."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from mcp_agents.local import analytics_rollup
from mcp_agents.local.errors import ServiceError
from mcp_agents.local.records import parse_time
from mcp_agents.models import AgentEvent

_INSERT = """INSERT INTO events (id, agent_run_id, run_key, owner, principal, event_type, ts, workflow_run_id, model,
    environment_id, environment_type, interaction_id, success, duration_ms, prompt_tokens, completion_tokens,
    total_tokens, cached_tokens, cache_write_tokens, call_type, tool_use_count, tool_name, tool_type, iteration,
    error_type, error_message, params_size, result_size, parameters)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""


MAX_COUNT = 10**12  # per event: sums over millions of events stay within SQLite's 64-bit integers
MAX_DURATION_MS = 10**12


def event_row(event: AgentEvent, run_id: str, owner: str | None, principal: str) -> tuple[Any, ...]:
    """`owner` is set for private runs only: analytics hide those events from other principals."""
    ts = parse_time(event.timestamp, "timestamp")
    for name in ("promptTokens", "completionTokens", "totalTokens", "promptCachedTokens", "promptCacheWriteTokens",
                 "toolUseCount", "iteration", "parametersSizeBytes", "resultSizeBytes"):
        value = getattr(event, name)
        if value is not None and abs(value) > MAX_COUNT:
            raise ServiceError(422, f"invalid request: events.{name}: {value} is out of range")
    if event.durationMs is not None and event.durationMs > MAX_DURATION_MS:
        raise ServiceError(422, f"invalid request: events.durationMs: {event.durationMs} is out of range")
    body = event.model_dump(exclude_none=True)
    body["agentRunId"] = run_id
    success = None if event.success is None else int(event.success)
    return (run_id, run_id, owner, principal, event.eventType, ts, event.runId, event.model, event.environmentId,
            event.environmentType, event.interactionId, success, event.durationMs, event.promptTokens,
            event.completionTokens, event.totalTokens, event.promptCachedTokens, event.promptCacheWriteTokens,
            event.callType, event.toolUseCount, event.toolName, event.toolType, event.iteration, event.errorType,
            event.errorMessage, event.parametersSizeBytes, event.resultSizeBytes,
            json.dumps(event.parameters) if event.parameters is not None else None, json.dumps(body))


def insert_events(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int:
    """Insert rows made by `event_row` (the last item of each is the full body, stored apart)."""
    first = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0] + 1
    conn.executemany(_INSERT, [(first + index, *row[:-1]) for index, row in enumerate(rows)])
    conn.executemany("INSERT INTO event_bodies (id, body) VALUES (?, ?)",
                     [(first + index, row[-1]) for index, row in enumerate(rows)])
    analytics_rollup.add_events(conn, rows)
    return len(rows)
