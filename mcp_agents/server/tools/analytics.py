"""Toolset `analytics` (off by default): the fourteen usage, cost, latency and error reports."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel

from mcp_agents.models import REPORTS
from mcp_agents.server.deps import client_for
from mcp_agents.server.rendering import table
from mcp_agents.server.tools._common import P, reply
from mcp_agents.server.tools.results import json_safe
from mcp_agents.server.toolsets import Registry, hints

registry = Registry("analytics")
Report = Literal["summary", "tokens", "latency_llm", "latency_tools", "latency_agents", "errors", "tools",
                 "tool_parameters", "filter_options", "prompt_size", "top_principals", "runs_by_agent",
                 "time_to_first_response", "first_response_behavior"]
assert set(get_args(Report)) == set(REPORTS), "the report enum must list every analytics report"
Names = Annotated[list[str] | None, P("Filter.", max_length=100)]


class AnalyticsReport(BaseModel):
    report: str
    data: dict[str, Any]


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects of a table row as `outer.inner` columns."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = round(value, 3) if isinstance(value, float) else value
    return out


def render(data: Any, prefix: str = "") -> list[str]:
    """Scalars as `key: value` lines, lists of objects as compact tables."""
    lines: list[str] = []
    if isinstance(data, dict):
        scalars = [(k, v) for k, v in data.items() if not isinstance(v, dict | list)]
        if scalars:
            lines.append(", ".join(f"{prefix}{k}={round(v, 3) if isinstance(v, float) else v}" for k, v in scalars))
        for key, value in data.items():
            if isinstance(value, dict | list):
                lines.extend(render(value, f"{prefix}{key}."))
    elif isinstance(data, list) and data and all(isinstance(row, dict) for row in data):
        data = [flatten(row) for row in data]
        headers = list(dict.fromkeys(k for row in data for k in row))
        lines.append(f"{prefix.rstrip('.')}:")
        lines.append(table(headers, ([row.get(h) for h in headers] for row in data), limit=30))
    elif isinstance(data, list):
        lines.append(f"{prefix.rstrip('.')}: {', '.join(map(str, data[:50]))}")
    return lines


@registry.tool("get_agent_analytics", title="Get agent analytics",
               annotations=hints(read_only=True, destructive=False, idempotent=True, open_world=True))
async def get_agent_analytics(
    ctx: Context[Any, Any],
    report: Annotated[Report, P("Which report.")],
    start: Annotated[str | None, P("From: ISO date or epoch ms.", max_length=64)] = None,
    end: Annotated[str | None, P("To: ISO date or epoch ms.", max_length=64)] = None,
    agents: Names = None,
    models: Names = None,
    environments: Names = None,
    tools: Names = None,
    principals: Names = None,
    run_ids: Names = None,
    success: Annotated[bool | None, P("Only successful (true) or failed (false) calls.")] = None,
    resolution: Annotated[Literal["minute", "hour", "day", "week", "month"] | None,
                          P("Time series bucket.")] = None,
    group_by: Annotated[Literal["model", "environment", "tool", "toolType", "agent", "errorType"] | None,
                        P("Break down by.")] = None,
    limit: Annotated[int | None, P("Max rows.", ge=1, le=1000)] = None,
    tool_name: Annotated[str | None, P("Tool to analyze (tool_parameters needs it).", max_length=256)] = None,
) -> Annotated[CallToolResult, AnalyticsReport]:
    """Use to answer usage questions about agents: runs, tokens, latency, errors, tools, principals."""
    filters = {"agents": agents, "models": models, "environments": environments, "tools": tools,
               "principals": principals, "runIds": run_ids, "success": success}
    query: dict[str, Any] = {"from": start, "to": end, "resolution": resolution, "groupBy": group_by,
                             "limit": limit, "toolName": tool_name,
                             "filter": {k: v for k, v in filters.items() if v is not None} or None}
    for key in ("from", "to"):
        value = query[key]
        if isinstance(value, str) and value.isdigit():
            query[key] = int(value)
    answer = await client_for(ctx).analytics.report(report, {k: v for k, v in query.items() if v is not None})
    data = json_safe(answer.model_dump(mode="json", by_alias=True, exclude_none=True))
    text = "\n".join(render(data)) or "empty report"
    return reply(AnalyticsReport(report=report, data=data), f"{report}\n{text}")
