"""A task requester for the tests, built from the SDK's `ClientExtension` (nothing ships one for Python).

With `Client(target, extensions=[TasksRequester(answer)])`, `call_tool` returns the task's final
`CallToolResult`: the claim's resolver polls `tasks/get`, answers `inputRequests` with `answer`
through `tasks/update`, and raises `MCPError` on `failed` or `cancelled`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio
from mcp import MCPError
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.types import CallToolResult
from pydantic import TypeAdapter

from mcp_agents.server.tasks.modern import TaskIdParams, UpdateParams
from mcp_agents.server.tasks.requests import CancelTask, GetTask, TaskHandle, UpdateTask

TASKS = "io.modelcontextprotocol/tasks"
Answer = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
RAW: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
POLL_CAP_SECONDS = 0.2  # tests poll faster than the server suggests


async def get_task(session: Any, task_id: str) -> dict[str, Any]:
    return await session.send_request(GetTask(params=TaskIdParams(task_id=task_id)), RAW)


async def update_task(session: Any, task_id: str, responses: dict[str, Any]) -> dict[str, Any]:
    return await session.send_request(UpdateTask(params=UpdateParams(task_id=task_id, input_responses=responses)),
                                      RAW)


async def cancel_task(session: Any, task_id: str) -> dict[str, Any]:
    return await session.send_request(CancelTask(params=TaskIdParams(task_id=task_id)), RAW)


async def settle(session: Any, task_id: str, answer: Answer | None = None, *,
                 seen: list[str] | None = None) -> dict[str, Any]:
    """Poll until the task is terminal, answering each input request once; returns the last `tasks/get`."""
    answered: set[str] = set()
    while True:
        task = await get_task(session, task_id)
        if seen is not None and (not seen or seen[-1] != task["status"]):
            seen.append(task["status"])
        if task["status"] in ("completed", "failed", "cancelled"):
            return task
        if task["status"] == "input_required" and answer is not None:
            responses = {key: await answer(key, request) for key, request in task["inputRequests"].items()
                         if key not in answered}
            answered.update(responses)
            if responses:
                await update_task(session, task_id, responses)
                continue
        await anyio.sleep(min(task.get("pollIntervalMs", 1000) / 1000, POLL_CAP_SECONDS))


async def settle_until(session: Any, task_id: str, status: str) -> dict[str, Any]:
    """Poll until the task reaches `status` (or ends)."""
    while True:
        task = await get_task(session, task_id)
        if task["status"] in (status, "completed", "failed", "cancelled"):
            return task
        await anyio.sleep(POLL_CAP_SECONDS / 4)


class TasksRequester(ClientExtension):
    identifier = TASKS

    def __init__(self, answer: Answer | None = None) -> None:
        self.answer = answer
        self.task_ids: list[str] = []

    def claims(self) -> Sequence[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=TaskHandle, resolve=self.resolve)]

    async def resolve(self, handle: TaskHandle, ctx: ClaimContext) -> CallToolResult:
        self.task_ids.append(handle.task_id)
        task = await settle(ctx.session, handle.task_id, self.answer)
        if task["status"] == "completed":
            return CallToolResult.model_validate(task["result"])
        error = task.get("error") or {"code": -32603, "message": "the task was cancelled"}
        raise MCPError(error["code"], error["message"])
