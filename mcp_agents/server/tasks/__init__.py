"""Agent runs as MCP tasks: a task is one turn of a run, with a sealed id any replica can answer.

- `ids`: task ids (run id + the turn's start cursor + creation time, HMAC-sealed; keys rotate).
- `status`: run -> task (status, the pending question, the final `CallToolResult`), answers, cancel.
- `modern`: the `io.modelcontextprotocol/tasks` extension (2026-07-28), with `notifications/tasks`.
- `legacy`: the experimental core tasks of 2025-11-25.
- `handoff`: the one thing the tools know: `wants_task(ctx)` and `handoff(result, run_id, start)`.
- `service`: what both generations share (opening an id for the caller, error mapping).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mcp.server import MCPServer, ServerRequestContext
from mcp.server.context import CallNext, HandlerResult
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver.server import require_client_extension
from mcp.types import CallToolRequestParams, CallToolResult

from mcp_agents.server.tasks.handoff import LEGACY, MODERN, TASKS_EXTENSION, handed_off, handoff, wants_task
from mcp_agents.server.tasks.ids import TaskKeys
from mcp_agents.server.tasks.legacy import LegacyTasks
from mcp_agents.server.tasks.modern import ModernTasks, TaskIdParams, UpdateParams, created
from mcp_agents.server.tasks.service import TaskService

__all__ = ["TaskKeys", "Tasks", "handoff", "register_tasks", "task_keys", "wants_task"]


WRITING_TOOLS = frozenset({"send_agent_input", "cancel_agent_run", "restart_agent_run"})
"""Tools that change a run's turn (`run_id` argument): its cached task reads are dropped once they are done."""


class Tasks(Extension):
    """Both generations on one server: the extension's methods and interceptor, plus the 2025 middleware."""

    identifier = TASKS_EXTENSION

    def __init__(self, keys: TaskKeys, *, required: frozenset[str] = frozenset()) -> None:
        self.service = TaskService(keys)
        # Tools that only run as tasks (-32021 without the extension); none of ours: each can wait instead.
        self.required = required
        self.modern = ModernTasks(self.service)
        self.legacy = LegacyTasks(self.service)

    def methods(self) -> Sequence[MethodBinding]:
        return [
            MethodBinding("tasks/get", TaskIdParams, self._by_era(self.modern.get, self.legacy.get)),
            MethodBinding("tasks/update", UpdateParams, self.modern.update, protocol_versions=frozenset({MODERN})),
            MethodBinding("tasks/cancel", TaskIdParams, self._by_era(self.modern.cancel, self.legacy.cancel)),
            MethodBinding("tasks/result", TaskIdParams, self.legacy.result, protocol_versions=frozenset({LEGACY})),
        ]

    @staticmethod
    def _by_era(modern: Any, legacy: Any) -> Any:
        async def handler(ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> Any:
            return await (legacy if ctx.protocol_version == LEGACY else modern)(ctx, params)

        return handler

    async def intercept_tool_call(self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any],
                                  call_next: CallNext) -> HandlerResult:
        """2026-07-28: a hand-off becomes the task handle (the server decided: the client declared tasks). Any
        era: a tool that wrote to a run leaves its tasks to be read afresh."""
        if params.name in self.required and ctx.protocol_version == MODERN:
            require_client_extension(ctx, TASKS_EXTENSION)
        run_id = (params.arguments or {}).get("run_id") if params.name in WRITING_TOOLS else None
        try:
            result = await call_next(ctx)
        finally:
            if isinstance(run_id, str):  # (any era) the run's tasks are read afresh after the server wrote to it
                self.service.reader.written(run_id)
        if ctx.protocol_version == MODERN and isinstance(result, CallToolResult) \
                and (mark := handed_off(result)) is not None:
            task_id = self.service.seal(*mark)
            return created(task_id, self.service.created_view(task_id))
        return result


def task_keys(secret: str, data_dir: Path) -> TaskKeys:
    """The keys from `MCP_AGENTS_TASK_KEY` (or the request-state key), else one kept in the data directory."""
    return TaskKeys.from_secret(secret) or TaskKeys.kept_in(data_dir)


def register_tasks(server: MCPServer[Any], tasks: Tasks) -> None:
    """The 2025-11-25 middleware and the listen wrapper (the extension itself goes to `MCPServer(extensions=)`)."""
    server.middleware.append(tasks.legacy.middleware)
    lowlevel = server._lowlevel_server  # no public hook for subscriptions/listen (see the SDK guide)
    listen = lowlevel.get_request_handler("subscriptions/listen")
    if listen is not None:
        lowlevel.add_request_handler("subscriptions/listen", listen.params_type, tasks.modern.listen(listen.handler))
