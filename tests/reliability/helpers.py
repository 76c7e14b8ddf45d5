"""Shared by the reliability tests: fast clients, MCP servers over a proxy, the service as a process.

Timing policies are shrunk (milliseconds, not seconds) so that many faults fit in a short test;
their *shape* (bounded retries, reconnect with backoff, polling fallback) is the production one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.types import CallToolResult

from mcp_agents.client import AgentRunsClient, RetryPolicy, StreamPolicy
from mcp_agents.models import AgentMessage, MessageType
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.server.rendering import progress_line
from mcp_agents.settings import TOOLSETS, Settings

STEP_TIMEOUT = 30.0
"""Bound for one awaited thing in a test; never reached when things work."""
START_TIMEOUT = 30.0

FAST_RETRY = RetryPolicy(max_retries=4, base_delay=0.01, max_delay=0.05, jitter=0.0, max_total=10.0,
                         max_retry_after=2.0)
FAST_STREAM = StreamPolicy(read_timeout=3.0, connect_timeout=1.0, base_delay=0.01, max_delay=0.05, jitter=0.0,
                           max_attempts=8, stable_after=0.5, poll_interval=0.05, sse_retry_interval=0.5,
                           max_poll_failures=400)


def fast_client(base_url: str, sts_url: str, api_key: str | None = None, *, token: str | None = None,
                retry: RetryPolicy = FAST_RETRY, stream: StreamPolicy = FAST_STREAM,
                timeout: float = 5.0) -> AgentRunsClient:
    return AgentRunsClient(base_url=base_url, sts_url=sts_url, api_key=api_key, token=token, timeout=timeout,
                           retry_policy=retry, stream_policy=stream)


@asynccontextmanager
async def mcp_over(client: AgentRunsClient, mode: str = "auto", **settings: Any) -> AsyncIterator[Client]:
    """An in-memory MCP client over a fresh server whose backend is `client` (all toolsets by default)."""
    settings.setdefault("toolsets", TOOLSETS)
    config = Settings(**settings)
    server = build_server(config, deps=ServerDeps(config, client))
    async with Client(server, mode=mode) as mcp:
        yield mcp


@dataclass
class Progress:
    """Collects the progress notifications of one tool call."""

    events: list[tuple[float, float | None, str | None]] = field(default_factory=list)
    seen: anyio.Event = field(default_factory=anyio.Event)

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.events.append((progress, total, message))
        self.seen.set()

    @property
    def lines(self) -> list[str]:
        return [message or "" for _, _, message in self.events]


def text_of(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def data(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None
    return result.structured_content


def expected_lines(run_id: str, stored: list[AgentMessage]) -> list[str]:
    """The progress lines a wait from cursor 0 must relay: one per stored message, streaming chunks excepted."""
    return [progress_line(run_id, m) for m in stored if m.type is not MessageType.STREAMING_CHUNK]


def assert_clean_error(result: CallToolResult, *words: str) -> str:
    """An error result the model can act on: isError, no traceback, the expected words."""
    text = text_of(result)
    assert result.is_error, text
    assert "Traceback" not in text and 'File "' not in text, text
    for word in words:
        assert word.lower() in text.lower(), (word, text)
    return text


def rss_kb(pid: int) -> int:
    """Resident set size of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


class ServiceProcess:
    """`mcp-agents local` as a subprocess on a fixed port and data dir: start, SIGKILL, start again."""

    def __init__(self, data_dir: Path, port: int, api_key: str, *, keys_file: Path | None = None) -> None:
        self.data_dir = data_dir
        self.port = port
        self.api_key = api_key
        self.keys_file = keys_file
        self.ready = data_dir.parent / f"ready-{port}.json"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"service-{port}.log"
        self.base_url = f"http://127.0.0.1:{port}/api/v1"
        self.sts_url = f"http://127.0.0.1:{port}"

    async def start(self) -> None:
        self.ready.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VERTESIA_", "MCP_AGENTS_"))}
        command = [sys.executable, "-m", "mcp_agents", "local", "--port", str(self.port), "--data-dir",
                   str(self.data_dir), "--api-key", self.api_key, "--heartbeat", "0.2", "--ready-file",
                   str(self.ready)]
        if self.keys_file is not None:
            command += ["--keys-file", str(self.keys_file)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + START_TIMEOUT
        while not (self.ready.exists() and self.ready.read_text().strip()):
            assert self.process.poll() is None, f"the local service exited at start:\n{self.stderr()}"
            assert time.monotonic() < deadline, "the local service did not start in time"
            await anyio.sleep(0.05)
        info = json.loads(self.ready.read_text())
        assert info["base_url"] == self.base_url, info

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as on a crash or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def stderr(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


async def stored_messages(base_url: str, sts_url: str, api_key: str, run_id: str) -> list[AgentMessage]:
    """The service's own history of a run, read directly (not through any proxy)."""
    async with fast_client(base_url, sts_url, api_key) as direct:
        return await direct.messages.retrieve(run_id)


async def wait_http_ok(url: str) -> None:
    with anyio.fail_after(STEP_TIMEOUT):
        async with httpx2.AsyncClient(timeout=1) as http:
            while True:
                try:
                    if (await http.get(url)).status_code < 500:
                        return
                except httpx2.TransportError:
                    pass
                await anyio.sleep(0.05)
