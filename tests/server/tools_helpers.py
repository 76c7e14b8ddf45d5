"""Shared by the tool tests: an in-memory MCP client over a real server backed by the local service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from mcp import Client
from mcp.types import CallToolResult, ElicitResult

from mcp_agents.client import AgentRunsClient
from mcp_agents.local import RunningService
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.settings import TOOLSETS, Settings

MODES = ["auto", "legacy"]
ElicitFn = Callable[[Any, Any], Awaitable[ElicitResult]]


def demo(**data: Any) -> dict[str, Any]:
    """Demo input that runs in milliseconds."""
    return {"task": "test", "steps": 2, "step_delay_ms": 1, **data}


@asynccontextmanager
async def api_client(service: RunningService) -> AsyncIterator[AgentRunsClient]:
    async with AgentRunsClient(base_url=service.base_url, api_key=service.api_key, sts_url=service.sts_url) as client:
        yield client


@asynccontextmanager
async def mcp_client(service: RunningService, mode: str, *, elicit: ElicitFn | None = None,
                     **settings: Any) -> AsyncIterator[Client]:
    """`Client(server, mode=...)` over a fresh server (all toolsets unless told otherwise)."""
    settings.setdefault("toolsets", TOOLSETS)
    config = Settings(**settings)
    async with api_client(service) as client:
        server = build_server(config, deps=ServerDeps(config, client))
        kwargs: dict[str, Any] = {"mode": mode}
        if elicit is not None:
            kwargs["elicitation_callback"] = elicit
        async with Client(server, **kwargs) as mcp:
            yield mcp


async def call(mcp: Client, name: str, arguments: dict[str, Any], **kwargs: Any) -> CallToolResult:
    """A tool call that must succeed."""
    result = await mcp.call_tool(name, arguments, **kwargs)
    assert not result.is_error, text_of(result)
    return result


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def data(result: CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None
    return result.structured_content
