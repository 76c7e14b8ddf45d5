"""Start and stop the service: `run_local_service` serves the app with uvicorn in the current event loop."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import uvicorn

from mcp_agents.local.app import Services, build_app
from mcp_agents.local.artifacts import ArtifactFiles
from mcp_agents.local.auth import TokenService, load_secret
from mcp_agents.local.bus import Bus
from mcp_agents.local.config import (
    SHUTDOWN_TIMEOUT_SECONDS,
    STARTUP_TIMEOUT_SECONDS,
    LocalServiceConfig,
    RunningService,
    bind_listener,
)
from mcp_agents.local.interactions.base import InteractionRegistry
from mcp_agents.local.interactions.demo import Demo
from mcp_agents.local.interactions.echo import Echo
from mcp_agents.local.keys import KEYS_FILE, load_dev_key, load_keys
from mcp_agents.local.limits import Limits
from mcp_agents.local.notify import Notifier
from mcp_agents.local.private import make_private_dir, warn_if_shared
from mcp_agents.local.runtime import Runtime
from mcp_agents.local.store import Store
from mcp_agents.local.wire import WireFormat
from mcp_agents.models.hosted import WIRES
from mcp_agents.models.paths import API_PREFIX

log = logging.getLogger(__name__)
# httptools (C) parses HTTP several times faster than h11 (pure Python), which dominated small requests
HTTP_IMPLEMENTATION = "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


class _Server(uvicorn.Server):
    """uvicorn without its signal capture: the embedding program (a test, the CLI) owns signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build_registry(sources: tuple[str, ...] | list[str]) -> InteractionRegistry:
    registry = InteractionRegistry()
    registry.register(Echo())
    registry.register(Demo())
    registry.load_entry_points()
    for source in sources:
        registry.load(source)
    return registry


@asynccontextmanager
async def open_services(config: LocalServiceConfig, dev_key: str, base_url: str) -> AsyncIterator[Services]:
    """Open the store, recover interrupted runs, and close everything in reverse order."""
    data_dir = config.data_dir
    secret = load_secret(data_dir)
    keys = load_keys(dev_key, config.keys_file or data_dir / KEYS_FILE)
    registry = build_registry(list(config.interactions))
    store = Store(data_dir)
    store.open()
    wire = WireFormat(config.wire)
    bus = Bus(wire.encode)
    files = ArtifactFiles(data_dir, secret)
    limits = Limits.of(config)
    notifier = Notifier(config.allow_loopback_webhooks, config.webhook_timeout_seconds)
    runtime = Runtime(store, bus, registry, files, notifier, bursts=config.bursts, limits=limits)
    services = Services(store=store, bus=bus, runtime=runtime, tokens=TokenService(secret, keys,
                        config.token_ttl_seconds), files=files, heartbeat_seconds=config.heartbeat_seconds,
                        base_url=base_url, wire=wire, limits=limits)
    try:
        await runtime.recover()
        yield services
    finally:
        bus.close_all()
        await runtime.stop()
        await store.close()


@asynccontextmanager
async def run_local_service(config: LocalServiceConfig, sock: socket.socket | None = None) -> AsyncIterator[
        RunningService]:
    """Serve the local Agent Runs API on a loopback port until the block exits.

    `sock`: a socket already bound with `bind_listener` (its owner knew the URL before the service
    started); it is closed on exit like one bound here.
    """
    make_private_dir(config.data_dir)
    warn_if_shared(config.data_dir)
    dev_key = load_dev_key(config.data_dir, config.api_key)
    sock = sock if sock is not None else bind_listener(config)
    port = int(sock.getsockname()[1])
    host = f"[{config.host}]" if ":" in config.host else config.host
    root = f"http://{host}:{port}"
    if config.wire not in WIRES:
        raise ValueError(f"wire must be one of {', '.join(WIRES)}, not {config.wire!r}")
    failures: list[Exception] = []

    @asynccontextmanager
    async def recorded() -> AsyncIterator[Services]:
        try:
            async with open_services(config, dev_key, root + API_PREFIX) as opened:
                yield opened
        except Exception as exc:  # uvicorn reports a failed startup as SystemExit: keep the reason
            failures.append(exc)
            raise

    app = build_app(recorded, wire=config.wire)
    server = _Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False, http=HTTP_IMPLEMENTATION,
                                           timeout_graceful_shutdown=int(SHUTDOWN_TIMEOUT_SECONDS)))

    async def serve() -> None:
        try:
            await server.serve(sockets=[sock])
        except SystemExit:  # uvicorn's failed startup; as a task's exception asyncio would re-raise it in the loop
            reason = f": {type(failures[0]).__name__}: {failures[0]}" if failures else ""
            raise RuntimeError(f"the local service stopped while starting{reason}") from None

    task = asyncio.create_task(serve(), name="mcp-agents-local")
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT_SECONDS):
            while not server.started:
                if task.done():
                    task.result()
                    raise RuntimeError("the local service stopped while starting")
                await asyncio.sleep(0.01)
        yield RunningService(base_url=root + API_PREFIX, sts_url=root, api_key=dev_key, data_dir=config.data_dir,
                             port=port)
    finally:
        services = getattr(app.state, "services", None)
        if services is not None:
            services.bus.close_all()  # end open SSE streams, or uvicorn would wait for them
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(task), SHUTDOWN_TIMEOUT_SECONDS * 2)
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        sock.close()
