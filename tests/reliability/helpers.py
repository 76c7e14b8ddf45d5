"""Shared by the reliability tests: fast clients, MCP servers over a proxy (processes: `tests.support.processes`).

Timing policies are shrunk (milliseconds, not seconds) so that many faults fit in a short test;
their *shape* (bounded retries, reconnect with backoff, polling fallback) is the production one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

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


async def stored_messages(base_url: str, sts_url: str, api_key: str, run_id: str) -> list[AgentMessage]:
    """The service's own history of a run, read directly (not through any proxy)."""
    async with fast_client(base_url, sts_url, api_key) as direct:
        return await direct.messages.retrieve(run_id)
