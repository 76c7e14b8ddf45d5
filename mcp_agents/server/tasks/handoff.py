"""The one hand-off between a tool and tasks: "this call continues as the turn starting at this cursor".

A task-capable tool asks `wants_task(ctx)` and, when the caller asked for a task, returns
`handoff(run_id, start)` instead of waiting. The extension (2026-07-28) or the middleware
(2025-11-25) turns that marked result into the era's task handle; the tools know nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult

from mcp_agents.models.cursor import Cursor

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
MODERN = "2026-07-28"
LEGACY = "2025-11-25"
MARK = "io.github.mcp-agents/task-handoff"
"""Private `_meta` key of a hand-off result; never reaches a client (the task replaces the result)."""
TASK_TOOLS = ("start_agent_run", "send_agent_input")


def declares_extension(capabilities: Any) -> bool:
    extensions = getattr(capabilities, "extensions", None) if capabilities is not None else None
    return isinstance(extensions, Mapping) and TASKS_EXTENSION in extensions


def wants_task(ctx: Context[Any, Any]) -> bool:
    """The caller asked for a task: `task` on a 2025-11-25 `tools/call`, or the extension declared in 2026-07-28."""
    request = ctx.request_context
    if request.protocol_version == LEGACY:
        params = request.params
        return isinstance(params, Mapping) and params.get("task") is not None
    return request.protocol_version == MODERN and declares_extension(request.session.client_capabilities)


def handoff(result: CallToolResult, run_id: str, start: Cursor) -> CallToolResult:
    """The tool's immediate result, marked to continue as a task (the run was created or the input sent)."""
    result.meta = {**(result.meta or {}), MARK: {"run_id": run_id, "start": str(start)}}
    return result


def handed_off(result: Any) -> tuple[str, Cursor] | None:
    """(run id, start cursor) of a hand-off result (a model or its serialized dict), else None."""
    meta = getattr(result, "meta", None) if not isinstance(result, Mapping) else result.get("_meta")
    mark = meta.get(MARK) if isinstance(meta, Mapping) else None
    if not isinstance(mark, Mapping):
        return None
    return str(mark["run_id"]), Cursor.parse(mark["start"])
