"""What every tool module shares: compact parameter schemas, result building, the one error table."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, ContentBlock, TextContent
from pydantic import BaseModel, Field

from mcp_agents.client.errors import (
    AgentRunsError,
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    CallerBusyError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    redact,
)
from mcp_agents.models.cursor import Cursor, CursorError
from mcp_agents.server.deps import caller_bearer

logger = logging.getLogger(__name__)
R = TypeVar("R")

RUN_ID_MAX = 256
CursorValue = str | int  # a cursor argument: the opaque string a result returned (a legacy ms integer works too)


def _compact(schema: dict[str, Any]) -> None:
    """Drop what costs tokens and tells the model nothing: `anyOf` with null, `default: null`."""
    any_of = schema.get("anyOf")
    if isinstance(any_of, list):
        rest = [item for item in any_of if item.get("type") != "null"]
        if len(rest) == 1 and len(rest) != len(any_of):
            del schema["anyOf"]
            schema.update(rest[0])
    if "default" in schema and schema["default"] is None:
        del schema["default"]


def P(description: str, default: Any = ..., **bounds: Any) -> Any:
    """A tool parameter: a description, bounds, and a compact JSON schema."""
    return Field(default, description=description, json_schema_extra=_compact, **bounds)


def strip_titles(schema: Any) -> Any:
    """The schema without pydantic's generated `title`s (the property name already says it)."""
    if isinstance(schema, dict):
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key == "title" and isinstance(value, str):
                continue
            if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
                out[key] = {name: strip_titles(item) for name, item in value.items()}
            else:
                out[key] = strip_titles(value)
        return out
    if isinstance(schema, list):
        return [strip_titles(item) for item in schema]
    return schema


def reply(model: BaseModel, text: str, *extra: ContentBlock) -> CallToolResult:
    """A result with both the structured model and a short text for clients that ignore structure."""
    return CallToolResult(content=[TextContent(type="text", text=text), *extra],
                          structured_content=model.model_dump(mode="json", exclude_none=True))


def refused_bearer(exc: AgentRunsError) -> str | None:
    """For a 401 on a request made with the caller's own bearer (HTTP pass-through): say so. The client's
    text would point at the server's VERTESIA_API_KEY, which this request did not use."""
    if not isinstance(exc, AuthenticationError) or not caller_bearer():
        return None
    reason = redact(exc.message or exc.error or "")[:200]
    return (f"The Agent Runs service refused the bearer token you sent (HTTP {exc.status_code}"
            f"{': ' + reason if reason else ''}): it is invalid, expired or revoked. Send a valid JWT or sk- API "
            "key in your Authorization header.")


def explain(exc: AgentRunsError) -> str:
    """The actionable message for a client error (the client's own text already says what to do)."""
    refused = refused_bearer(exc)
    if refused is not None:
        return refused
    if isinstance(exc, NotFoundError):
        if "interaction" in str(exc).lower():
            return f"{exc} Use list_agents to find the agents you can start."
        return f"{exc} Use list_agent_runs to find run ids."
    if isinstance(exc, ConflictError):
        return f"{exc} get_agent_run shows the run's status."
    if isinstance(exc, InvalidRequestError | APIStatusError | APIConnectionError | CallerBusyError):
        return str(exc)
    return f"The Agent Runs API call failed: {exc}"


def guarded(fn: Callable[..., Awaitable[R]]) -> Callable[..., Awaitable[R]]:
    """Run a tool, turning client errors into `ToolError`s the model can act on (the one place that maps them)."""

    @functools.wraps(fn)
    async def call(*args: Any, **kwargs: Any) -> R:
        try:
            return await fn(*args, **kwargs)
        except AgentRunsError as exc:
            logger.info("tool %s failed: %s", fn.__name__, type(exc).__name__)
            raise ToolError(explain(exc)) from exc

    return call


def parse_cursor(value: object, what: str) -> Cursor:
    """A cursor argument, or a clear error that says what a cursor is."""
    try:
        return Cursor.parse(value)
    except CursorError as exc:
        raise ToolError(f"{what}: {exc}") from None


def require(condition: bool, message: str) -> None:
    """Refuse bad input before any request, with a message that says how to fix it."""
    if not condition:
        raise ToolError(message)
