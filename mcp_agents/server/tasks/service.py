"""What both generations share: open a task id for the calling credential, map service errors, render times."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST

from mcp_agents.client import AgentRunsClient
from mcp_agents.client.errors import AgentRunsError, AuthenticationError, NotFoundError, PermissionDeniedError
from mcp_agents.models.cursor import Cursor
from mcp_agents.server.deps import caller_bearer, client_with, credential_key, lifespan_deps
from mcp_agents.server.tasks.ids import TaskIdError, TaskKeys, TaskRef
from mcp_agents.server.tasks.status import TaskReader, TaskView

logger = logging.getLogger(__name__)

UNKNOWN = "unknown task id"


@dataclass(frozen=True)
class Caller:
    """One `tasks/*` request: the task it names and the caller's own client."""

    task_id: str
    ref: TaskRef
    client: AgentRunsClient
    credential: str


class TaskService:
    """The task key and the reader; one per server."""

    def __init__(self, keys: TaskKeys) -> None:
        self.keys = keys
        self.reader = TaskReader()

    def seal(self, run_id: str, start: Cursor) -> str:
        return self.keys.seal(run_id, start)

    def created_view(self, task_id: str) -> TaskView:
        """A task just handed off: working (the run exists, or the input was sent, before the handle is returned)."""
        ref = self.keys.open(task_id)
        return TaskView(ref, "working", status_message="the agent is at work", updated_ms=ref.created_ms)

    def caller(self, ctx: ServerRequestContext[Any, Any], task_id: object, *, writes: bool = False) -> Caller:
        """The task and the caller's client; `writes` (answer, cancel) is refused by a `--read-only` server."""
        try:
            ref = self.keys.open(task_id)
        except TaskIdError as exc:
            raise MCPError(INVALID_PARAMS, str(exc)) from None
        deps = lifespan_deps(ctx.lifespan_context)
        if writes and deps.settings.read_only:
            raise MCPError(INVALID_REQUEST, "this server is read-only (--read-only): it neither answers nor cancels "
                                            "runs")
        bearer = caller_bearer()
        client = client_with(deps, bearer)
        return Caller(str(task_id).strip(), ref, client, credential_key(bearer))

    async def view(self, caller: Caller, *, fresh: bool = False) -> TaskView:
        """The task now; a refused credential makes the task `failed` (a protocol error, not a tool error)."""
        try:
            return await self.reader.observe(caller.client, caller.credential, caller.ref, fresh=fresh)
        except AuthenticationError as exc:
            return TaskView(caller.ref, "failed", status_message="the Agent Runs service refused the credential",
                            error={"code": INTERNAL_ERROR, "message": f"the Agent Runs service refused the "
                                                                       f"credential (HTTP {exc.status_code})"},
                            updated_ms=caller.ref.created_ms)


@asynccontextmanager
async def service_errors() -> AsyncIterator[None]:
    """Service errors of a `tasks/*` call as JSON-RPC errors: an unreadable run is an unknown task."""
    try:
        yield
    except (NotFoundError, PermissionDeniedError):
        raise MCPError(INVALID_PARAMS, UNKNOWN) from None
    except AgentRunsError as exc:
        logger.info("tasks: the Agent Runs service failed: %s", type(exc).__name__)
        raise MCPError(INTERNAL_ERROR, "the Agent Runs service did not answer; retry") from None


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
