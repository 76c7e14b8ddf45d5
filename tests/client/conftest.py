"""Fixtures for client tests: a scripted API on loopback and clients with shrunk retry/stream timing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcp_agents.client import AgentRunsClient, RetryPolicy, StreamPolicy
from tests.support.scripted_api import ScriptedAPI

FAST_RETRY = RetryPolicy(max_retries=4, base_delay=0.01, max_delay=0.05, jitter=0.1, max_total=5.0,
                         max_retry_after=2.0)
FAST_STREAM = StreamPolicy(read_timeout=2.0, connect_timeout=2.0, base_delay=0.01, max_delay=0.05, jitter=0.1,
                           max_attempts=10, stable_after=5.0, poll_interval=0.02, sse_retry_interval=0.3,
                           max_poll_failures=50)


def make_client(root: str, **overrides: Any) -> AgentRunsClient:
    """A client of the API served at `root` (API under /api/v1, token service at the root)."""
    options: dict[str, Any] = {"base_url": f"{root}/api/v1", "sts_url": root, "retry_policy": FAST_RETRY,
                               "stream_policy": FAST_STREAM}
    options.update(overrides)
    return AgentRunsClient(**options)


@pytest.fixture
async def api() -> AsyncIterator[ScriptedAPI]:
    scripted = ScriptedAPI()
    async with scripted.serve():
        yield scripted


@pytest.fixture
async def client(api: ScriptedAPI) -> AsyncIterator[AgentRunsClient]:
    async with make_client(api.root, api_key=api.api_key) as instance:
        yield instance
