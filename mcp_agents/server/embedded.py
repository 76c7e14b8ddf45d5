"""The embedded local service, started in the background: a desktop client's first `initialize` and
`tools/list` never wait for it.

What the API client needs is ready before the server answers anything, in microseconds: the listening
socket is bound here (so the URL is known) and the development key is read or created. The service
itself (its imports, the database, uvicorn) then starts in a background task, once a request needs it
or `START_AFTER_SECONDS` after launch, whichever comes first: its imports hold the GIL for a few hundred
milliseconds, and started at once they slowed the answers to `initialize` and `tools/list` (a client's
handshake comes right after launch; its first tool call, later). Until it is up, every request the
client sends waits at `StartGate`, at most `STARTUP_SECONDS`; a start that failed makes each of them
fail at once with the reason, which tools and resources report as their error.
"""

from __future__ import annotations

import importlib
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
import httpx2

from mcp_agents.client import AgentRunsClient, UpstreamLimits
from mcp_agents.client._client import upstream_limits
from mcp_agents.client.errors import APIConnectionError, safe_url
from mcp_agents.models.paths import API_PREFIX
from mcp_agents.server.deps import ServerDeps
from mcp_agents.settings import Settings

logger = logging.getLogger(__name__)

STARTUP_SECONDS = 120.0  # the local service's own bound: opening a big database may first migrate it
START_AFTER_SECONDS = 1.0  # the start begins then if no request needed the service before
CONNECT_SECONDS = 10.0
UNAVAILABLE_KEY = "sk-embedded-service-unavailable"  # no key could be read: requests stop at the gate anyway


class EmbeddedStart:
    """Whether the background start is done, and why it failed if it did."""

    def __init__(self, seconds: float = STARTUP_SECONDS) -> None:
        self.seconds = seconds
        self.needed = anyio.Event()
        self._done = anyio.Event()
        self.error: str | None = None

    def finish(self, error: str | None = None) -> None:
        if not self._done.is_set():
            self.error = error
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    async def wait(self, request: httpx2.Request) -> None:
        """Return once the service is up; raise the client's connection error if it failed or is late."""
        self.needed.set()
        if not self._done.is_set():
            with anyio.move_on_after(self.seconds):
                await self._done.wait()
        reason = self.error if self._done.is_set() else f"it did not start within {self.seconds:.0f} s"
        if reason is not None:
            raise APIConnectionError(
                f"The embedded local Agent Runs service could not start: {reason}. Check that the data "
                "directory (MCP_AGENTS_DATA_DIR) is writable and `mcp-agents doctor` passes, or set "
                "VERTESIA_API_KEY to use the hosted service.",
                request_method=request.method, url=safe_url(request.url))


class StartGate(httpx2.AsyncBaseTransport):
    """The client's transport: holds each request until the service is up (the real transport is built then)."""

    def __init__(self, start: EmbeddedStart, limits: UpstreamLimits) -> None:
        self._start = start
        self._limits = limits
        self._inner: httpx2.AsyncHTTPTransport | None = None

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        await self._start.wait(request)
        if self._inner is None:
            self._inner = httpx2.AsyncHTTPTransport(limits=self._limits.http_limits())
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


@asynccontextmanager
async def embedded_backend(settings: Settings) -> AsyncIterator[ServerDeps]:
    """The server's dependencies at once; the local service starts behind them and stops at exit."""
    from mcp_agents.local.config import LocalServiceConfig, RunningService, bind_listener
    from mcp_agents.local.keys import load_dev_key

    config = LocalServiceConfig(data_dir=settings.data_dir, api_key=settings.local_api_key or None,
                                allow_loopback_webhooks=settings.local_allow_loopback_webhooks,
                                wire=settings.local_wire, bursts=settings.local_bursts, **settings.local_limits())
    start = EmbeddedStart()
    stop = anyio.Event()
    try:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        api_key = load_dev_key(config.data_dir, config.api_key)
        sock: socket.socket | None = bind_listener(config)
    except OSError as exc:  # an unwritable data directory: the server still answers, its tools say why
        logger.error("the embedded local service could not start: %s: %s", type(exc).__name__, exc)
        start.finish(f"{type(exc).__name__}: {exc}")
        api_key, sock = UNAVAILABLE_KEY, None
    port = int(sock.getsockname()[1]) if sock is not None else 0
    root = f"http://{config.host}:{port}"
    service = RunningService(base_url=root + API_PREFIX, sts_url=root, api_key=api_key, data_dir=config.data_dir,
                             port=port)

    async def serve(sock: socket.socket) -> None:
        try:
            with anyio.move_on_after(START_AFTER_SECONDS):
                await start.needed.wait()
            if stop.is_set():  # the server stopped before anything needed the service
                return
            # Imported in a worker thread: the event loop keeps answering the client meanwhile.
            module = await anyio.to_thread.run_sync(importlib.import_module, "mcp_agents.local.service")
            async with module.run_local_service(config, sock):
                start.finish()
                # WARNING so that it shows at the default log level: the user should know where runs live.
                logger.warning("no VERTESIA_API_KEY or VERTESIA_TOKEN: using the embedded local service at %s "
                               "(data in %s)", service.base_url, service.data_dir)
                await stop.wait()
        except Exception as exc:  # reported by every request that needed the service, never a crash or a hang
            logger.error("the embedded local service %s: %s: %s", "failed" if start.done else "could not start",
                         type(exc).__name__, exc)
            start.finish(f"{type(exc).__name__}: {exc}")
        finally:
            sock.close()
            start.finish("it stopped")

    timeout = httpx2.Timeout(settings.timeout, connect=min(settings.timeout, CONNECT_SECONDS))
    limits = upstream_limits(settings)
    async with (
        anyio.create_task_group() as group,
        httpx2.AsyncClient(transport=StartGate(start, limits), timeout=timeout) as http,
        AgentRunsClient(base_url=service.base_url, api_key=service.api_key, sts_url=service.sts_url,
                        api_version=settings.api_version, timeout=settings.timeout, http_client=http,
                        limits=limits) as client,
    ):
        if sock is not None:
            group.start_soon(serve, sock)
        try:
            yield ServerDeps(settings=settings, client=client, local=service)
        finally:
            stop.set()
            start.needed.set()  # a start that has not begun wakes up, sees `stop` and does not begin
