"""Serve an ASGI app with uvicorn in the current event loop on a free loopback port."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import uvicorn

STARTUP_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 5.0


@asynccontextmanager
async def serve_app(app: Any, *, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Yield `http://host:port` once the server accepts connections; stop it on exit (open streams cut)."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the listening
    # socket says TCP; without it Nagle + delayed ACK add ~40 ms to every response.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", interface="asgi3",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    stopped = anyio.Event()

    async def run() -> None:
        try:
            await server.serve([sock])
        finally:
            stopped.set()

    async with anyio.create_task_group() as group:
        group.start_soon(run)
        with anyio.fail_after(STARTUP_TIMEOUT):
            while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
                await anyio.sleep(0.005)
        try:
            yield f"http://{host}:{port}"
        finally:
            server.should_exit = True
            server.force_exit = True  # do not wait for open streams; their handlers end on their own
            with anyio.move_on_after(SHUTDOWN_TIMEOUT, shield=True) as scope:
                await stopped.wait()
            if scope.cancelled_caught:
                group.cancel_scope.cancel()
    sock.close()
