"""Shared by the serving tests: servers over the local service, finished runs, an in-loop HTTP server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import uvicorn
from mcp import Client
from mcp.server import MCPServer

from mcp_agents.client import AgentRunsClient
from mcp_agents.local import RunningService
from mcp_agents.models import AgentRun
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.settings import Settings

MODES = ["auto", "legacy"]
STEP_TIMEOUT = 15.0  # bound for one awaited event in a test, never reached when things work


def fast_demo(**data: Any) -> dict[str, Any]:
    """Demo input that finishes in milliseconds."""
    return {"task": "test", "steps": 2, "step_delay_ms": 1, **data}


@asynccontextmanager
async def api_client(service: RunningService, api_key: str | None = None) -> AsyncIterator[AgentRunsClient]:
    async with AgentRunsClient(base_url=service.base_url, api_key=api_key or service.api_key,
                               sts_url=service.sts_url) as client:
        yield client


def server_over(client: AgentRunsClient, **settings: Any) -> MCPServer[ServerDeps]:
    config = Settings(**settings)
    return build_server(config, deps=ServerDeps(config, client))


@asynccontextmanager
async def mcp_client(client: AgentRunsClient, mode: str, **options: Any) -> AsyncIterator[Client]:
    async with Client(server_over(client), mode=mode, **options) as mcp:
        yield mcp


async def finished_run(client: AgentRunsClient, **data: Any) -> AgentRun:
    """A Demo run, followed to its end (bounded)."""
    run = await client.runs.create(interaction="Demo", data=fast_demo(**data), interactive=False)
    with anyio.fail_after(STEP_TIMEOUT):
        async for _ in client.messages.stream(run.id):
            pass
    return await client.runs.retrieve(run.id)


@asynccontextmanager
async def serve_with_lifespan(app: Any, port: int) -> AsyncIterator[str]:
    """Serve an ASGI app (lifespan on) in this event loop; yield its root URL; always stop it."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                            lifespan="on", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    stopped = anyio.Event()

    async def run() -> None:
        try:
            await server.serve()
        finally:
            stopped.set()

    async with anyio.create_task_group() as group:
        group.start_soon(run)
        with anyio.fail_after(STEP_TIMEOUT):
            while not server.started and not stopped.is_set():  # noqa: ASYNC110 - uvicorn has a flag, no event
                await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            with anyio.move_on_after(5, shield=True):
                await stopped.wait()
            group.cancel_scope.cancel()
