"""The `io.modelcontextprotocol/tasks` extension (SEP-2663, protocol 2026-07-28).

The server decides per call: a task-capable tool called by a client that declares the extension
returns `{"resultType": "task", ...}`. `tasks/get` inlines the result (or the error), `tasks/update`
answers `inputRequests`, `tasks/cancel` acknowledges at once. `Mcp-Name` must equal the task id
on `tasks/*` when present (trimmed, RFC 9110); a missing one is accepted (see the README).
`notifications/tasks` go out on `subscriptions/listen` streams that name `taskIds`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import anyio
from mcp.server import ServerRequestContext
from mcp.server.mcpserver.server import require_client_extension
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import MCP_NAME_HEADER, decode_header_value
from mcp.types import (
    INVALID_PARAMS,
    Notification,
    NotificationParams,
    RequestParams,
    SubscriptionFilter,
    SubscriptionsAcknowledgedNotification,
    SubscriptionsAcknowledgedNotificationParams,
)
from mcp_types import HEADER_MISMATCH
from pydantic import ConfigDict, Field

from mcp_agents.server.tasks.handoff import TASKS_EXTENSION
from mcp_agents.server.tasks.ids import TTL_MS
from mcp_agents.server.tasks.service import Caller, TaskService, iso, service_errors
from mcp_agents.server.tasks.status import TaskView

logger = logging.getLogger(__name__)

SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"
MAX_LISTENED_TASKS = 32
Handler = Callable[[ServerRequestContext[Any, Any], Any], Awaitable[Any]]


class TaskNotificationParams(NotificationParams):
    """`notifications/tasks` params: the `DetailedTask` of `tasks/get` (and the subscription id in `_meta`)."""

    model_config = ConfigDict(extra="allow")


class TaskIdParams(RequestParams):
    task_id: str = Field(alias="taskId", min_length=1, max_length=1024)


class UpdateParams(TaskIdParams):
    input_responses: dict[str, Any] = Field(default_factory=dict, alias="inputResponses")


def detailed(task_id: str, view: TaskView) -> dict[str, Any]:
    """The `DetailedTask` of `tasks/get` and `notifications/tasks`."""
    task: dict[str, Any] = {"taskId": task_id, "status": view.status, "createdAt": iso(view.ref.created_ms),
                            "lastUpdatedAt": iso(view.updated_ms), "ttlMs": TTL_MS}
    if not view.terminal:
        task["pollIntervalMs"] = view.poll_ms
    if view.status_message:
        task["statusMessage"] = view.status_message
    if view.status == "input_required":
        task["inputRequests"] = {question.key: question.form(view.ref.run_id) for question in view.questions}
    if view.result is not None:
        task["result"] = {"resultType": "complete",
                          **view.result.model_dump(by_alias=True, exclude_none=True, mode="json")}
    if view.error is not None:
        task["error"] = view.error
    return task


def created(task_id: str, view: TaskView) -> dict[str, Any]:
    """The handle a task-creating `tools/call` returns."""
    task = {key: value for key, value in detailed(task_id, view).items()
            if key not in ("inputRequests", "result", "error")}
    return {"resultType": "task", **task}


def check_name(ctx: ServerRequestContext[Any, Any], task_id: str) -> None:
    """`Mcp-Name`, when sent, must name the task (values trimmed of surrounding whitespace)."""
    request = ctx.request
    headers = getattr(request, "headers", None)
    raw = headers.get(MCP_NAME_HEADER) if headers is not None else None
    if raw is None:
        return
    if decode_header_value(raw.strip(" \t")) != task_id:
        raise MCPError(HEADER_MISMATCH, f"{MCP_NAME_HEADER} header does not match the request body's 'taskId'")


class ModernTasks:
    """The 2026-07-28 handlers."""

    def __init__(self, service: TaskService) -> None:
        self.service = service

    def open(self, ctx: ServerRequestContext[Any, Any], task_id: str, *, writes: bool = False) -> Caller:
        require_client_extension(ctx, TASKS_EXTENSION)
        check_name(ctx, task_id)
        return self.service.caller(ctx, task_id, writes=writes)

    async def get(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        caller = self.open(ctx, params.task_id)
        async with service_errors():
            view = await self.service.view(caller)
        return {"resultType": "complete", **detailed(caller.task_id, view)}

    async def update(self, ctx: ServerRequestContext[Any, Any], params: UpdateParams) -> dict[str, Any]:
        caller = self.open(ctx, params.task_id, writes=True)
        async with service_errors():
            await self.service.reader.answer(caller.client, caller.credential, caller.ref,
                                             params.input_responses)
        return {"resultType": "complete"}

    async def cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        caller = self.open(ctx, params.task_id, writes=True)
        async with service_errors():
            await self.service.reader.cancel(caller.client, caller.credential, caller.ref)
        return {"resultType": "complete"}

    def listen(self, inner: Handler) -> Handler:
        """`subscriptions/listen` with `taskIds`: the task notifications, beside the resource ones of `inner`."""

        async def on_listen(ctx: ServerRequestContext[Any, Any], params: Any) -> Any:
            extra = params.notifications.model_extra or {}
            task_ids = extra.get("taskIds")
            if task_ids is None:
                return await inner(ctx, params)
            require_client_extension(ctx, TASKS_EXTENSION)
            if not isinstance(task_ids, list) or not all(isinstance(t, str) for t in task_ids) \
                    or len(task_ids) > MAX_LISTENED_TASKS:
                raise MCPError(INVALID_PARAMS, f"taskIds must be a list of at most {MAX_LISTENED_TASKS} task ids")
            callers = [self.service.caller(ctx, task_id) for task_id in dict.fromkeys(task_ids)]
            meta = {SUBSCRIPTION_ID: ctx.request_id}
            await ctx.session.send_notification(SubscriptionsAcknowledgedNotification(
                params=SubscriptionsAcknowledgedNotificationParams(
                    notifications=honored(params.notifications, [caller.task_id for caller in callers]), _meta=meta)),
                related_request_id=ctx.request_id)
            quiet = dataclasses.replace(ctx, session=cast(Any, _NoAck(ctx.session)))
            async with anyio.create_task_group() as group:
                for caller in callers:
                    group.start_soon(self._follow, ctx, caller, meta)
                result = await inner(quiet, params)
                group.cancel_scope.cancel()
            return result

        return on_listen

    async def _follow(self, ctx: ServerRequestContext[Any, Any], caller: Caller, meta: dict[str, Any]) -> None:
        """Poll one task at its own interval; each change goes out once, the terminal state last."""
        last: dict[str, Any] | None = None
        while True:
            try:
                view = await self.service.view(caller)
            except Exception as exc:  # a follow never ends the stream; the client can still poll
                logger.info("listen: task of run %s unreadable: %s", caller.ref.run_id, type(exc).__name__)
                return
            task = detailed(caller.task_id, view)
            shown = {key: value for key, value in task.items() if key != "lastUpdatedAt"}
            if shown != last:
                last = shown
                params = TaskNotificationParams.model_validate({**task, "_meta": meta})
                notification: Notification[Any, Any] = Notification(method="notifications/tasks", params=params)
                # A custom notification: the session's signature names only the spec's own.
                await ctx.session.send_notification(cast(Any, notification), related_request_id=ctx.request_id)
            if view.terminal:
                return
            await anyio.sleep(view.poll_ms / 1000)


def honored(requested: SubscriptionFilter, task_ids: list[str]) -> SubscriptionFilter:
    """What the ack echoes: the kinds the SDK's handler honors (as it would), plus the tasks."""
    return SubscriptionFilter.model_validate({
        "toolsListChanged": True if requested.tools_list_changed else None,
        "promptsListChanged": True if requested.prompts_list_changed else None,
        "resourcesListChanged": True if requested.resources_list_changed else None,
        "resourceSubscriptions": list(requested.resource_subscriptions or ()) or None,
        "taskIds": task_ids,
    })


class _NoAck:
    """The listen stream's session for the wrapped handler: its own ack is dropped (ours, with taskIds, went first)."""

    def __init__(self, session: Any) -> None:
        self._session = session

    async def send_notification(self, notification: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(notification, SubscriptionsAcknowledgedNotification):
            return
        await self._session.send_notification(notification, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)
