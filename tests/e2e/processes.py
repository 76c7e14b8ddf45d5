"""The processes of the end-to-end tests: the local service and `mcp-agents serve`, always stopped."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx2

from tests.server.serving_helpers import free_port

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
@dataclass(frozen=True)
class Service:
    base_url: str
    sts_url: str
    api_key: str  # the development key (the servers' own credential)
    alice_key: str
    bob_key: str

    def env(self, **extra: str) -> dict[str, str]:
        """Environment of an `mcp-agents serve` pointed at this service."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VERTESIA_", "MCP_AGENTS_"))}
        env.update({"VERTESIA_API_URL": self.base_url, "VERTESIA_API_KEY": self.api_key,
                    "VERTESIA_STS_URL": self.sts_url, "MCP_AGENTS_LOG_LEVEL": "warning", "PYTHONUNBUFFERED": "1"})
        env.update(extra)
        return env


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


@dataclass(frozen=True)
class HttpServer:
    url: str  # the MCP endpoint
    root: str


def start_http_server(service: Service, *flags: str) -> tuple[subprocess.Popen[bytes], HttpServer]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_agents", "serve", "--transport", "http", "--port", str(port), *flags],
        env=service.env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )
    root = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert process.poll() is None, "mcp-agents serve exited at start"
        try:
            if httpx2.get(f"{root}/healthz", timeout=1).status_code == 200:
                break
        except httpx2.TransportError:
            pass
        if time.monotonic() > deadline:
            stop(process)
            raise AssertionError("mcp-agents serve --transport http did not become healthy in time")
        time.sleep(0.05)
    return process, HttpServer(f"{root}/mcp", root)


