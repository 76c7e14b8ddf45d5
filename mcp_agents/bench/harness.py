"""What every figure needs: the local service, MCP servers and clients, each started and always stopped.

The local service runs as its own process (`mcp-agents local`), and so does every MCP server
(`mcp-agents serve`, pointed at it with `VERTESIA_*`: the remote-backend path). The benchmark
process is only the client, so a server's CPU and memory are its own and can be read from /proc.
Everything lives in one temporary directory, removed at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.client import ConnectMode
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from mcp_agents.bench import procs
from mcp_agents.client import AgentRunsClient, UpstreamLimits

READY_SECONDS = 60.0
BENCH_CONNECTIONS = 10_000
HTTP_TIMEOUT = httpx2.Timeout(60.0, connect=10.0)
_ISOLATED_PREFIXES = ("VERTESIA_", "MCP_AGENTS_")

BARE_SERVER = '''"""A bare `MCPServer` doing the same work as mcp-agents with the same client library: the SDK's floor.

`get_agent_run` makes the same request as mcp-agents' tool; `follow_agent_run` relays a run's messages as
progress notifications, as `wait_for_agent_runs` does. Nothing else: no rendering, no bounds, no cursors
beyond `since`. Stdio by default; `--http PORT` serves streamable HTTP at /mcp.
"""
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context

from mcp_agents.client import AgentRunsClient


@asynccontextmanager
async def lifespan(_: MCPServer[AgentRunsClient]) -> AsyncIterator[AgentRunsClient]:
    async with AgentRunsClient(base_url=os.environ["VERTESIA_API_URL"], api_key=os.environ["VERTESIA_API_KEY"],
                               sts_url=os.environ["VERTESIA_STS_URL"]) as client:
        yield client


# Logs at WARNING, as `mcp-agents serve` does by default: at the SDK's INFO it would format a line for
# every upstream request, work (CPU, and memory for rich's caches) that the measured server does not do.
server: MCPServer[AgentRunsClient] = MCPServer("bare", lifespan=lifespan, log_level="WARNING")


def _client(ctx: Context[Any, Any]) -> AgentRunsClient:
    client: AgentRunsClient = ctx.request_context.lifespan_context
    return client


@server.tool()
async def get_agent_run(run_id: str, ctx: Context[Any, Any]) -> dict[str, Any]:
    """A run's status and details."""
    return (await _client(ctx).runs.retrieve(run_id)).model_dump(mode="json", exclude_none=True)


@server.tool()
async def follow_agent_run(run_id: str, since: int, timeout_seconds: float, ctx: Context[Any, Any]) -> dict[str, Any]:
    """Relay the run's messages after `since` as progress until it ends or the time is up."""
    relayed, cursor = 0, since
    with anyio.move_on_after(timeout_seconds):
        async for message in _client(ctx).messages.stream(run_id, since=since):
            relayed += 1
            cursor = max(cursor, message.timestamp or 0)
            await ctx.report_progress(relayed, None, f"{run_id}: {message.message}")
    return {"run_id": run_id, "cursor": cursor, "relayed": relayed}


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        import uvicorn

        uvicorn.run(server.streamable_http_app(), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
    else:
        server.run()
'''


@dataclass(frozen=True)
class Service:
    """A running local Agent Runs service process."""

    base_url: str
    sts_url: str
    api_key: str
    pid: int
    data_dir: Path
    caller_keys: tuple[str, ...] = ()  # distinct principals (the keys file), as callers of a shared deployment


@dataclass(frozen=True)
class HttpServer:
    url: str
    pid: int
    log_path: Path


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries the report."""
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


class Harness:
    """One benchmark run's temporary directory, processes and clean-up."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mcp-agents-bench-"))
        self.stack = AsyncExitStack()
        self._counter = 0

    async def __aenter__(self) -> Harness:
        await self.stack.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            with anyio.CancelScope(shield=True):
                await self.stack.aclose()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def path(self, name: str) -> Path:
        self._counter += 1
        return self.root / f"{self._counter:03d}-{name}"

    def base_env(self, **extra: str) -> dict[str, str]:
        """This process's environment without any credential or mcp-agents setting, plus `extra`."""
        env = {key: value for key, value in os.environ.items() if not key.startswith(_ISOLATED_PREFIXES)}
        env["MCP_AGENTS_DATA_DIR"] = str(self.path("data"))  # never the user's own data directory
        env["PYTHONUNBUFFERED"] = "1"
        # Spawned servers may cache bytecode, as an installed package has it: otherwise a checkout whose
        # environment forbids it recompiles every edited module at each spawn and inflates cold start.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(extra)
        return env

    def server_env(self, service: Service, **extra: str) -> dict[str, str]:
        """Environment of an MCP server that talks to `service` as a remote backend."""
        return self.base_env(VERTESIA_API_URL=service.base_url, VERTESIA_API_KEY=service.api_key,
                             VERTESIA_STS_URL=service.sts_url, **extra)

    @asynccontextmanager
    async def local_service(self, data_dir: Path | None = None, callers: int = 0) -> AsyncIterator[Service]:
        """`mcp-agents local` on a free loopback port, on a fresh data directory unless one is given, with
        `callers` extra principals in a keys file (each caller of a shared deployment has its own credential)."""
        data_dir = data_dir or self.path("local-data")
        ready, log_path = self.path("local-ready.json"), self.path("local.log")
        api_key = "sk-local-bench-" + secrets.token_hex(12)
        caller_keys = tuple(f"sk-local-caller-{index}-" + secrets.token_hex(12) for index in range(callers))
        keys_file = self.path("keys.json")
        keys_file.write_text(json.dumps({"keys": [{"key": key, "id": f"caller-{index}"}
                                                  for index, key in enumerate(caller_keys)]}), encoding="utf-8")
        keys_file.chmod(0o600)
        command = procs.python_command("local", "--host", "127.0.0.1", "--port", str(procs.free_port()),
                                       "--data-dir", str(data_dir), "--ready-file", str(ready),
                                       "--keys-file", str(keys_file))
        env = self.base_env(MCP_AGENTS_LOCAL_API_KEY=api_key)  # not on the command line, where `ps` shows it
        async with procs.spawn(command, env=env, log_path=log_path) as process:
            info = await procs.wait_for_file(ready, process, READY_SECONDS, log_path)
            yield Service(base_url=info["base_url"].rstrip("/"), sts_url=info["sts_url"].rstrip("/"),
                          api_key=api_key, pid=int(info.get("pid") or process.pid), data_dir=data_dir,
                          caller_keys=caller_keys)

    @asynccontextmanager
    async def http_server(self, service: Service, *args: str, **env: str) -> AsyncIterator[HttpServer]:
        """`mcp-agents serve --transport http [ARGS]` over `service`, once `/healthz` answers."""
        port = procs.free_port()
        command = procs.python_command("serve", "--transport", "http", "--host", "127.0.0.1", "--port", str(port),
                                      *args)
        async with self._http(command, self.server_env(service, **env), port, "/healthz", "serve-http") as server:
            yield server

    @asynccontextmanager
    async def bare_http_server(self, service: Service) -> AsyncIterator[HttpServer]:
        """The bare `MCPServer` (see `BARE_SERVER`) over streamable HTTP, once it answers at all."""
        port = procs.free_port()
        command = [*self.bare_server_command(), "--http", str(port)]
        async with self._http(command, self.server_env(service), port, "/mcp", "bare-http") as server:
            yield server

    @asynccontextmanager
    async def _http(self, command: list[str], env: dict[str, str], port: int, probe: str,
                    name: str) -> AsyncIterator[HttpServer]:
        """Spawn an HTTP MCP server; ready once GET `probe` gets an answer (`/healthz`: a 200)."""
        log_path = self.path(f"{name}.log")
        async with procs.spawn(command, env=env, log_path=log_path) as process:
            root = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + READY_SECONDS
            async with httpx2.AsyncClient(timeout=2.0) as http:
                while True:
                    if process.poll() is not None:
                        raise RuntimeError(f"{name} exited: {procs.tail(log_path)}")
                    try:
                        status = (await http.get(root + probe)).status_code
                        if status == 200 or probe != "/healthz":
                            break
                    except httpx2.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{name} not ready: {procs.tail(log_path)}")
                    await anyio.sleep(0.05)
            yield HttpServer(url=root + "/mcp", pid=process.pid, log_path=log_path)

    def bare_server_command(self) -> list[str]:
        """The command of the bare `MCPServer` (stdio; needs `server_env`): the SDK's own floor, as a baseline."""
        script = self.root / "bare_server.py"
        if not script.exists():
            script.write_text(BARE_SERVER, encoding="utf-8")
        return [sys.executable, str(script)]

    def errlog(self, name: str) -> TextIO:
        handle = self.path(name).open("w", encoding="utf-8")
        self.stack.callback(handle.close)
        return handle

    def stdio_client(self, env: Mapping[str, str], *, args: tuple[str, ...] = ("serve",),
                     command: list[str] | None = None, log_name: str = "serve-stdio.log",
                     mode: ConnectMode = "auto") -> Client:
        """An MCP client of a stdio server subprocess (`mcp-agents serve` unless `command` is given).

        `mode="auto"` speaks the 2026-07-28 protocol (the SDK default); `"legacy"` the 2025-11-25 handshake.
        """
        argv = command or procs.python_command(*args)
        params = StdioServerParameters(command=argv[0], args=argv[1:], env=dict(env))
        return Client(stdio_client(params, errlog=self.errlog(log_name)), cache=None, mode=mode)

    def http_client(self, server: HttpServer, http: httpx2.AsyncClient, mode: ConnectMode = "auto") -> Client:
        return Client(streamable_http_client(server.url, http_client=http), cache=None, mode=mode)


    def api_client(self, service: Service) -> AgentRunsClient:
        """The bench's own client (creates and posts; its direct SSE subscribers are baselines): a stream per
        run however many it follows, never the polling a shared server's per-caller share falls back to."""
        limits = UpstreamLimits(connections=BENCH_CONNECTIONS, caller_requests=BENCH_CONNECTIONS,
                                caller_streams=BENCH_CONNECTIONS)
        return AgentRunsClient(base_url=service.base_url, api_key=service.api_key, sts_url=service.sts_url,
                               limits=limits)


def caller_http(transport: httpx2.AsyncBaseTransport, api_key: str, timeout: httpx2.Timeout) -> httpx2.AsyncClient:
    """An HTTP client sending `api_key` as its bearer over a shared `transport` (one pool for many callers).
    Never close it: closing a client closes its transport; the transport's owner closes that."""
    return httpx2.AsyncClient(transport=transport, timeout=timeout, headers={"Authorization": f"Bearer {api_key}"})


async def issue_token(service: Service) -> str:
    """A JWT for `service`, exchanged from its API key as every client does."""
    async with httpx2.AsyncClient(timeout=HTTP_TIMEOUT) as http:
        response = await http.post(service.sts_url + "/token/issue", json={"type": "apikey", "key": service.api_key},
                                   headers={"Authorization": f"Bearer {service.api_key}"})
        response.raise_for_status()
        token: Any = response.json()["token"]
        return str(token)


def structured(result: Any) -> dict[str, Any]:
    """The structured content of a tool result; a tool error becomes an exception with its text."""
    if getattr(result, "is_error", False):
        texts = [getattr(part, "text", "") for part in result.content]
        raise RuntimeError(f"tool error: {' '.join(texts)[:300]}")
    content: dict[str, Any] = result.structured_content or {}
    return content
