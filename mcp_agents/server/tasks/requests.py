"""The extension's requests as a requester sends them, beside the params our handlers parse.

The bench drives our server with them and so do the tests; the SDK ships no tasks requester for Python.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from mcp.types import Request, Result
from pydantic import ConfigDict

from mcp_agents.server.tasks.modern import TaskIdParams, UpdateParams


class TaskHandle(Result):
    """What a task-augmented `tools/call` answers in the 2026-07-28 era (`resultType: "task"`)."""

    model_config = ConfigDict(extra="allow")
    result_type: Literal["task"] = "task"
    task_id: str
    status: str


class GetTask(Request[TaskIdParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    params: TaskIdParams
    name_param: ClassVar[str | None] = "taskId"


class UpdateTask(Request[UpdateParams, Literal["tasks/update"]]):
    method: Literal["tasks/update"] = "tasks/update"
    params: UpdateParams
    name_param: ClassVar[str | None] = "taskId"


class CancelTask(Request[TaskIdParams, Literal["tasks/cancel"]]):
    method: Literal["tasks/cancel"] = "tasks/cancel"
    params: TaskIdParams
    name_param: ClassVar[str | None] = "taskId"
