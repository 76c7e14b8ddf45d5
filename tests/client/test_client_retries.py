"""Retries: what is retried, how long it waits, and when it gives up."""

from __future__ import annotations

import time
from dataclasses import replace
from email.utils import formatdate

import anyio
import pytest

from mcp_agents.client import (
    AgentRunsClient,
    APIConnectionError,
    APITimeoutError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    StreamPolicy,
)
from mcp_agents.client.errors import parse_retry_after
from tests.client.conftest import FAST_RETRY, make_client
from tests.support.fault_proxy import FaultProxy
from tests.support.scripted_api import ScriptedAPI


def api_calls(api: ScriptedAPI, fragment: str = "/agents") -> int:
    return len(api.calls_to(fragment))


async def test_get_retries_a_503_burst_then_succeeds(api: ScriptedAPI, client: AgentRunsClient) -> None:
    run = api.create_run()
    api.script(503, times=3, path="/agents/")
    assert (await client.runs.retrieve(run["id"])).id == run["id"]
    assert api_calls(api) == 4


async def test_get_gives_up_after_max_retries(api: ScriptedAPI, client: AgentRunsClient) -> None:
    api.script(502, times=100, path="/agents")
    with pytest.raises(ServerError, match="HTTP 502") as caught:
        await client.runs.list()
    assert caught.value.status_code == 502
    assert api_calls(api) == FAST_RETRY.max_retries + 1


async def test_retry_after_seconds_is_honoured(api: ScriptedAPI, client: AgentRunsClient) -> None:
    api.script(429, times=1, path="/agents", headers={"Retry-After": "0.3"})
    started = time.monotonic()
    await client.runs.list()
    assert time.monotonic() - started >= 0.3
    assert api_calls(api) == 2


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("2.5", now=now) == 2.5
    assert parse_retry_after(formatdate(now + 7, usegmt=True), now=now) == 7.0
    assert parse_retry_after(formatdate(now - 7, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


async def test_retry_after_http_date_is_used(api: ScriptedAPI, client: AgentRunsClient) -> None:
    api.script(503, times=1, path="/agents", headers={"Retry-After": formatdate(time.time() - 5, usegmt=True)})
    await client.runs.list()
    assert api_calls(api) == 2


async def test_retry_after_beyond_the_limit_raises_at_once(api: ScriptedAPI, client: AgentRunsClient) -> None:
    api.script(429, times=1, path="/agents", headers={"Retry-After": "120"},
               body={"error": "Too Many Requests", "status": 429, "message": "slow down"})
    with pytest.raises(RateLimitError, match="slow down") as caught:
        await client.runs.list()
    assert caught.value.retry_after == 120.0
    assert api_calls(api) == 1


async def test_post_is_not_retried_on_5xx(api: ScriptedAPI, client: AgentRunsClient) -> None:
    for status, headers in ((500, {}), (503, {}), (503, {"Retry-After": "0"}), (502, {})):
        before = api_calls(api, "/agents")
        api.script(status, times=1, method="POST", path="/agents", headers=headers)
        with pytest.raises(ServerError):
            await client.runs.create(interaction="Echo")
        assert api_calls(api, "/agents") - before == 1


async def test_post_is_retried_on_429(api: ScriptedAPI, client: AgentRunsClient) -> None:
    api.script(429, times=2, method="POST", path="/agents", headers={"Retry-After": "0"})
    run = await client.runs.create(interaction="Echo")
    assert run.interaction == "Echo"
    assert len(api.calls_to("/agents", "POST")) == 3
    assert len(api.runs) == 1


async def test_analytics_post_retries_like_a_read(api: ScriptedAPI, client: AgentRunsClient) -> None:
    api.script(503, times=2, path="/analytics/")
    assert (await client.analytics.summary()).summary.totalRuns == 3
    assert api_calls(api, "/analytics/") == 3


async def test_total_retry_time_is_bounded(api: ScriptedAPI) -> None:
    policy = replace(FAST_RETRY, max_retries=1000, base_delay=0.05, max_delay=0.05, max_total=0.4)
    api.script(503, times=10_000, path="/agents")
    async with make_client(api.root, api_key=api.api_key, retry_policy=policy) as client:
        with anyio.fail_after(5):
            with pytest.raises(ServerError):
                await client.runs.list()
    assert 2 <= api_calls(api) <= 12


async def test_connection_refused_get_retries_then_raises_without_the_query() -> None:
    async with make_client("http://127.0.0.1:9", token="eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln") as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.runs.list(status="running")
    assert "ConnectError" in str(caught.value) and "5 attempt" in str(caught.value)
    assert "status=" not in str(caught.value) and caught.value.url == "http://127.0.0.1:9/api/v1/agents"


async def test_post_retries_when_the_connection_was_never_made() -> None:
    """A POST whose connection was refused provably never reached the service: it is retried."""
    async with make_client("http://127.0.0.1:9", token="eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln") as client:
        with pytest.raises(APIConnectionError, match="5 attempt") as caught:
            await client.runs.create(interaction="Echo")
    assert caught.value.request_method == "POST"


async def test_upstream_down_then_up_through_the_proxy(api: ScriptedAPI) -> None:
    run = api.create_run()
    async with FaultProxy(api.root) as proxy, make_client(proxy.url, api_key=api.api_key) as client:
        await client.runs.retrieve(run["id"])
        proxy.set_down(True)
        with pytest.raises(ServerError, match="502"):
            await client.runs.retrieve(run["id"])
        proxy.set_down(False)
        proxy.fail_next(2, status=503)
        assert (await client.runs.retrieve(run["id"])).id == run["id"]


async def test_a_slow_service_times_out_after_retries(api: ScriptedAPI) -> None:
    policy = replace(FAST_RETRY, max_retries=1)
    async with FaultProxy(api.root) as proxy, make_client(proxy.url, api_key=api.api_key, timeout=0.2,
                                                           retry_policy=policy) as client:
        await client.runs.list()
        proxy.set_delay(0.5)
        with pytest.raises(APITimeoutError, match="timed out") as caught:
            await client.runs.list()
    assert "2 attempt" in str(caught.value) and "MCP_AGENTS_TIMEOUT" in str(caught.value)


def test_backoff_grows_is_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, jitter=0.25)
    for retry, nominal in enumerate([1.0, 2.0, 4.0, 8.0, 8.0, 8.0]):
        for _ in range(20):
            assert nominal * 0.75 <= policy.backoff(retry) <= nominal
    stream = StreamPolicy()
    assert (stream.base_delay, stream.max_delay, stream.jitter, stream.max_attempts, stream.stable_after,
            stream.poll_interval, stream.sse_retry_interval) == (1.0, 30.0, 0.1, 10, 5.0, 5.0, 60.0)
    for attempt, nominal in [(1, 1.0), (2, 2.0), (5, 16.0), (6, 30.0), (10, 30.0)]:
        for _ in range(20):
            assert nominal * 0.9 <= stream.backoff(attempt) <= nominal * 1.1
