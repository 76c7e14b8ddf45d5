"""Toolset `runs`, part 2: read-only views of runs (one run, lists and searches, messages)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from mcp_agents.client import AgentRunsClient
from mcp_agents.client.errors import AgentRunsError
from mcp_agents.models import AgentMessage, MessageType
from mcp_agents.models.cursor import Position
from mcp_agents.server.deps import client_for
from mcp_agents.server.rendering import clip, untrusted
from mcp_agents.server.tools._common import RUN_ID_MAX, CursorValue, P, explain, parse_cursor, reply, require
from mcp_agents.server.tools.results import RunRow, json_safe
from mcp_agents.server.toolsets import Registry, hints

registry = Registry("runs")
READ = hints(read_only=True, destructive=False, idempotent=True, open_world=True)
RunId = Annotated[str, P("Agent run id.", min_length=1, max_length=RUN_ID_MAX)]
Part = Literal["plan", "workstreams", "tools", "artifacts", "children", "details", "internals"]
PART_TEXT_MAX = 2000
FULL_TEXT_MAX = 20_000
SUMMARY_TEXT_MAX = 300


class RunView(BaseModel):
    run: dict[str, Any]
    parts: dict[str, Any] = Field(default_factory=dict)
    errors: dict[str, str] = Field(default_factory=dict, description="Parts that could not be read, and why.")


def _parts(client: AgentRunsClient, run_id: str) -> dict[str, Callable[[], Awaitable[Any]]]:
    query = client.communication.query
    return {
        "plan": lambda: query(run_id, "AgentPlan"),
        "workstreams": lambda: query(run_id, "ActiveWorkstreams"),
        "tools": lambda: query(run_id, "AvailableTools"),
        "artifacts": lambda: client.artifacts.list(run_id),
        "children": lambda: client.observability.children(run_id),
        "details": lambda: client.observability.details(run_id),
        "internals": lambda: client.observability.internals(run_id),
    }


@registry.tool("get_agent_run", title="Get agent run", annotations=READ)
async def get_agent_run(
    ctx: Context[Any, Any],
    run_id: RunId,
    include: Annotated[list[Part] | None, P("Extra parts to fetch (a failing part is reported).",
                                            max_length=7)] = None,
) -> Annotated[CallToolResult, RunView]:
    """Use to inspect one run: its status and metadata, plus on request its plan, workstreams, tools, artifacts,
    child runs, workflow details and internals."""
    client = client_for(ctx)
    run = await client.runs.retrieve(run_id)
    view = RunView(run=json_safe(run.model_dump(mode="json", exclude_none=True)))
    getters = _parts(client, run_id)

    async def fetch(part: Part) -> None:
        try:
            view.parts[part] = json_safe(await getters[part]())
        except AgentRunsError as exc:
            view.errors[part] = explain(exc)

    async with anyio.create_task_group() as group:
        for wanted in dict.fromkeys(include or ()):
            group.start_soon(fetch, wanted)
    lines = [RunRow.of(run).line()]
    if run.data:
        lines.append("data: " + clip(json.dumps(run.data, default=str), 500))
    for name, value in view.parts.items():
        lines.append(f"{name}:")
        lines.append(untrusted(json.dumps(value, default=str, separators=(",", ":")), PART_TEXT_MAX))
    lines.extend(f"{name}: unavailable: {error}" for name, error in view.errors.items())
    return reply(view, "\n".join(lines))


class RunsPage(BaseModel):
    runs: list[RunRow]
    total: int | None = None
    cursor: str | None = Field(None, description="Pass back as cursor for the next page; absent on the last.")


def _decode_cursor(cursor: str | None) -> tuple[int, str | None]:
    """An opaque page cursor: `o<offset>` (offset paging) or `c<token>` (the service's own cursor)."""
    if not cursor:
        return 0, None
    if cursor.startswith("o") and cursor[1:].isdigit():
        return int(cursor[1:]), None
    if cursor.startswith("c") and len(cursor) > 1:
        return 0, cursor[1:]
    require(False, "cursor is not one this tool returned; omit it to start from the first page")
    return 0, None


@registry.tool("list_agent_runs", title="List agent runs", annotations=READ)
async def list_agent_runs(
    ctx: Context[Any, Any],
    query: Annotated[str | None, P("Full-text search; omit to list.",
                                   max_length=500)] = None,
    status: Annotated[list[Literal["created", "running", "completed", "failed", "cancelled"]] | None,
                      P("Statuses to keep.", max_length=5)] = None,
    interaction: Annotated[str | None, P("Interaction id.", max_length=256)] = None,
    started_by: Annotated[str | None, P("Who started them.", max_length=256)] = None,
    since: Annotated[str | None, P("ISO date: started after.", max_length=64)] = None,
    tags: Annotated[list[str] | None, P("Tags (search).", max_length=20)] = None,
    categories: Annotated[list[str] | None, P("Categories (search).", max_length=20)] = None,
    limit: Annotated[int, P("Page size.", ge=1, le=200)] = 20,
    cursor: Annotated[str | None, P("From the previous page.", max_length=2000)] = None,
) -> Annotated[CallToolResult, RunsPage]:
    """Use to find runs: newest first, filtered, or full-text search with query (or tags/categories)."""
    client = client_for(ctx)
    offset, token = _decode_cursor(cursor)
    if query or tags or categories:
        found = await client.runs.search(query, status=status, interaction=interaction, started_by=started_by,
                                         categories=categories, tags=tags, since=since, limit=limit, offset=offset)
        rows = [RunRow(run_id=hit.id, status=hit.status or "?", interaction=hit.interaction_name or hit.interaction,
                       title=hit.title or hit.topic, started_at=hit.started_at, completed_at=hit.completed_at,
                       started_by=hit.started_by, tags=hit.tags or None) for hit in found.hits]
        more = offset + len(rows) < found.total
        page = RunsPage(runs=rows, total=found.total, cursor=f"o{offset + len(rows)}" if more and rows else None)
    else:
        listed = await client.runs.list(status=status, interaction=interaction, started_by=started_by, since=since,
                                        limit=limit, offset=None if token else offset or None, cursor=token)
        rows = [RunRow.of(run) for run in listed.items]
        if listed.next_cursor:
            next_cursor: str | None = "c" + listed.next_cursor
        elif not token and len(rows) == limit:
            next_cursor = f"o{offset + limit}"
        else:
            next_cursor = None
        page = RunsPage(runs=rows, total=listed.total_count, cursor=next_cursor)
    text = "\n".join(row.line() for row in page.runs) or "no runs"
    if page.cursor:
        text += f"\nmore: cursor={page.cursor!r}"
    return reply(page, text)


class MessageRow(BaseModel):
    ts: int | None = None
    type: str
    workstream: str
    text: str = Field("", description="Agent-written (untrusted).")
    tool: str | None = None
    details: dict[str, Any] | list[Any] | str | int | float | bool | None = Field(
        None, description="The message's details (full detail only).")


class MessagesView(BaseModel):
    messages: list[MessageRow]
    cursor: str = Field(description="Opaque; pass back as since for the next messages.")
    more: bool = False


@registry.tool("get_agent_messages", title="Get agent messages", annotations=READ)
async def get_agent_messages(
    ctx: Context[Any, Any],
    run_id: RunId,
    since: Annotated[CursorValue, P("Cursor of the last result: only messages after it.")] = 0,
    types: Annotated[list[MessageType] | None, P("Types to keep.", max_length=15)] = None,
    workstream: Annotated[str | None, P("Workstream to keep (main: the run's own).", max_length=256)] = None,
    limit: Annotated[int, P("Max messages, oldest first.", ge=1, le=500)] = 50,
    detail: Annotated[Literal["summary", "full"], P("full adds whole texts and details.")] = "summary",
) -> Annotated[CallToolResult, MessagesView]:
    """Use to read or review a run's message history, after a cursor, by type or workstream."""
    position = Position(parse_cursor(since, "since"))
    stored = await client_for(ctx).messages.retrieve(run_id, since=position.cursor.since)
    page: list[AgentMessage] = []
    more = False
    cursor = position.cursor  # after the last message returned, and after those filtered out before the next
    for message in stored:
        before = position.cursor
        if not position.accept(message):
            continue
        kept = (not types or message.type in types) and (workstream is None or message.workstream_id == workstream)
        if kept and len(page) == limit:
            more, cursor = True, before
            break
        if kept:
            page.append(message)
        cursor = position.cursor
    full = detail == "full"
    rows = [MessageRow(ts=m.timestamp, type=m.type.value, workstream=m.workstream_id,
                       text=m.message[:FULL_TEXT_MAX] if full else clip(m.message, SUMMARY_TEXT_MAX),
                       tool=m.tool_name, details=json_safe(m.details) if full else None) for m in page]
    view = MessagesView(messages=rows, cursor=str(cursor), more=more)
    lines = []
    for row in rows:
        lines.append(f"{row.ts} {row.type} {clip(row.workstream, 30)}" + (f" tool={row.tool}" if row.tool else ""))
        if row.text:
            lines.append(untrusted(row.text, FULL_TEXT_MAX if full else SUMMARY_TEXT_MAX))
        if full and row.details is not None:
            lines.append(untrusted("details: " + json.dumps(row.details, default=str), 2000))
    lines.append(f"cursor={view.cursor!r}" + (" (more: call again with since=cursor)" if view.more else ""))
    return reply(view, "\n".join(lines))
