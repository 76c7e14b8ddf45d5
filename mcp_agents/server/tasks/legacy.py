"""The experimental core tasks of protocol 2025-11-25.

A `ServerMiddleware` (it sees the serialized results, outside the result sieve) advertises
`capabilities.tasks`, marks the task-capable tools with `execution.taskSupport: "optional"` and
turns a hand-off into `{"task": {...}}`. `tasks/get` and `tasks/cancel` return the flat `Task`;
`tasks/result` blocks until the turn ends, asking a pending question with `elicitation/create`
on the way (related to the `tasks/result` request). `tasks/list` is not offered: the turns a
caller started as tasks are known only to the caller (a task id is the run plus the turn's start
cursor, and the server keeps no state), so it cannot be answered statelessly.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
from mcp.server import ServerRequestContext
from mcp.server.context import CallNext
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR

from mcp_agents.server.tasks.handoff import LEGACY, TASK_TOOLS, handed_off
from mcp_agents.server.tasks.ids import TTL_MS
from mcp_agents.server.tasks.modern import TaskIdParams
from mcp_agents.server.tasks.service import Caller, TaskService, iso, service_errors
from mcp_agents.server.tasks.status import TaskView

logger = logging.getLogger(__name__)

RELATED_TASK = "io.modelcontextprotocol/related-task"
CAPABILITY: dict[str, Any] = {"cancel": {}, "requests": {"tools": {"call": {}}}}
RESULT_WAIT_SECONDS = 3600.0
"""Bound of one blocking `tasks/result` (the client asks again after it)."""


def flat(task_id: str, view: TaskView) -> dict[str, Any]:
    """The 2025-11-25 `Task`."""
    task: dict[str, Any] = {"taskId": task_id, "status": view.status, "createdAt": iso(view.ref.created_ms),
                            "lastUpdatedAt": iso(view.updated_ms), "ttl": TTL_MS, "pollInterval": view.poll_ms}
    if view.status_message:
        task["statusMessage"] = view.status_message
    return task


class LegacyTasks:
    """The 2025-11-25 handlers and the middleware."""

    def __init__(self, service: TaskService) -> None:
        self.service = service

    async def middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> Any:
        result = await call_next(ctx)
        if ctx.protocol_version != LEGACY or not isinstance(result, dict):
            return result
        if ctx.method == "initialize":
            result.setdefault("capabilities", {})["tasks"] = CAPABILITY
        elif ctx.method == "tools/list":
            for tool in result.get("tools", []):
                if tool.get("name") in TASK_TOOLS:
                    tool["execution"] = {"taskSupport": "optional"}
        elif ctx.method == "tools/call" and (handoff := handed_off(result)) is not None:
            task_id = self.service.seal(*handoff)
            return {"task": flat(task_id, self.service.created_view(task_id))}
        return result

    async def get(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        caller = self.service.caller(ctx, params.task_id)
        async with service_errors():
            return flat(caller.task_id, await self.service.view(caller))

    async def cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        caller = self.service.caller(ctx, params.task_id, writes=True)
        async with service_errors():
            await self.service.reader.cancel(caller.client, caller.credential, caller.ref)
            return flat(caller.task_id, await self.service.view(caller, fresh=True))

    async def result(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        """Block until the task ends; a pending question is asked with `elicitation/create` meanwhile."""
        caller = self.service.caller(ctx, params.task_id, writes=True)
        with anyio.fail_after(RESULT_WAIT_SECONDS):
            while True:
                async with service_errors():
                    view = await self.service.view(caller)
                    if view.status == "input_required":
                        await self._ask(ctx, caller, view)
                        continue
                if view.terminal:
                    return self._payload(caller, view)
                await anyio.sleep(view.poll_ms / 1000)

    async def _ask(self, ctx: ServerRequestContext[Any, Any], caller: Caller, view: TaskView) -> None:
        """Ask the human each pending question; a client that cannot be asked (or fails) leaves them to the model."""
        responses: dict[str, Any] = {}
        capabilities = ctx.session.client_capabilities
        can_ask = capabilities is not None and capabilities.elicitation is not None and ctx.session.can_send_request
        for question in view.questions:
            form = question.form(caller.ref.run_id)["params"]
            responses[question.key] = {"action": "decline"}
            if can_ask:
                try:
                    responses[question.key] = await ctx.session.elicit_form(
                        form["message"], form["requestedSchema"], related_request_id=ctx.request_id)
                except MCPError as exc:
                    logger.info("tasks/result: elicitation failed: %s", exc.error.message)
        await self.service.reader.answer(caller.client, caller.credential, caller.ref, responses)

    def _payload(self, caller: Caller, view: TaskView) -> dict[str, Any]:
        meta = {RELATED_TASK: {"taskId": caller.task_id}}
        if view.result is not None:
            payload = view.result.model_dump(by_alias=True, exclude_none=True, mode="json")
            payload["_meta"] = {**payload.get("_meta", {}), **meta}
            return payload
        if view.status == "cancelled":
            raise MCPError(INTERNAL_ERROR, "the task was cancelled (the run was terminated)")
        error = view.error or {}
        raise MCPError(int(error.get("code", INTERNAL_ERROR)), str(error.get("message", "the task failed")))
