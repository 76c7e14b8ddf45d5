"""Toolset `reporting` (off by default): for an agent that reports into a run it belongs to."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel

from mcp_agents.models import MessageType
from mcp_agents.server.deps import client_for
from mcp_agents.server.tools._common import RUN_ID_MAX, P, reply
from mcp_agents.server.toolsets import Registry, hints

registry = Registry("reporting")
RunId = Annotated[str, P("Agent run id.", min_length=1, max_length=RUN_ID_MAX)]
WRITE = hints(read_only=False, destructive=False, idempotent=False, open_world=True)


class Posted(BaseModel):
    run_id: str
    type: str
    accepted: int = 1


@registry.tool("post_agent_update", title="Post agent update", annotations=WRITE)
async def post_agent_update(
    ctx: Context[Any, Any],
    run_id: RunId,
    message: Annotated[str, P("Text of the update.", max_length=100_000)],
    type: Annotated[MessageType, P("Message type.")] = MessageType.UPDATE,
    workstream_id: Annotated[str | None, P("Workstream (default main).", max_length=256)] = None,
    details: Annotated[dict[str, Any] | None, P("Structured details, e.g. {\"tool\": \"search\"}.")] = None,
) -> Annotated[CallToolResult, Posted]:
    """Use when you are an agent working for a run: publish a progress message into its stream."""
    await client_for(ctx).messages.post(run_id, message=message, type=type.value, details=details,
                                        workstream_id=workstream_id)
    return reply(Posted(run_id=run_id, type=type.value), f"posted {type.value} to run {run_id}")


@registry.tool("ingest_agent_events", title="Ingest agent events", annotations=WRITE)
async def ingest_agent_events(
    ctx: Context[Any, Any],
    run_id: RunId,
    events: Annotated[list[dict[str, Any]], P("Telemetry events (eventType, timestamp, runId, model, environmentId, "
                                              "environmentType, interactionId, plus the type's fields).",
                                              min_length=1, max_length=1000)],
) -> Annotated[CallToolResult, Posted]:
    """Use when you are an agent working for a run: record telemetry (llm_call, tool_call, ...) for analytics."""
    answer = await client_for(ctx).telemetry.ingest(run_id, events)
    return reply(Posted(run_id=run_id, type="events", accepted=answer.ingested),
                 f"ingested {answer.ingested} events for run {run_id}")
