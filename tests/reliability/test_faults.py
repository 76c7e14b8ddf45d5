"""Faults between the MCP server's client and the service, injected by a real proxy.

The MCP server (in memory) talks to the local service only through `FaultProxy`; the service's own
stored history, read directly, is the truth every relayed message is compared with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from mcp import Client

from mcp_agents.client import AgentRunsClient, RetryPolicy, ServerError, StreamPolicy
from mcp_agents.local import RunningService
from mcp_agents.models.cursor import Cursor
from tests.reliability.helpers import (
    STEP_TIMEOUT,
    assert_clean_error,
    data,
    expected_lines,
    fast_client,
    mcp_over,
    stored_messages,
)
from tests.support.fault_proxy import FaultProxy
from tests.support.progress import Progress

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def proxy(local_service: RunningService) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(local_service.sts_url, seed=1234) as proxy:
        yield proxy


@pytest.fixture
async def via_proxy(local_service: RunningService, proxy: FaultProxy) -> AsyncIterator[AgentRunsClient]:
    async with fast_client(proxy.url + "/api/v1", proxy.url, local_service.api_key) as client:
        yield client


@pytest.fixture
async def mcp(via_proxy: AgentRunsClient) -> AsyncIterator[Client]:
    async with mcp_over(via_proxy) as mcp:
        yield mcp


async def start(mcp: Client, **demo: Any) -> str:
    result = await mcp.call_tool("start_agent_run", {"interaction": "Demo", "interactive": False,
                                                     "data": {"task": "faults", "step_delay_ms": 5, **demo}})
    return str(data(result)["runs"][0]["run_id"])


async def wait_relayed(mcp: Client, run_id: str) -> tuple[dict[str, Any], Progress]:
    """One wait from cursor 0 to the end of the run, with its progress lines."""
    progress = Progress()
    with anyio.fail_after(STEP_TIMEOUT * 2):
        result = await mcp.call_tool("wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 60},
                                     progress_callback=progress)
    waited = data(result)["runs"][0]
    return waited, progress


async def assert_exactly_once(service: RunningService, run_id: str, waited: dict[str, Any],
                              progress: Progress) -> None:
    stored = await stored_messages(service.base_url, service.sts_url, service.api_key, run_id)
    assert waited["done"], waited
    assert progress.lines == expected_lines(run_id, stored)  # each message once, in the service's order
    assert waited["messages"]["count"] == len(stored)
    assert Cursor.parse(waited["cursor"]).ts == stored[-1].timestamp
    values = [value for value, _, _ in progress.events]
    assert values == sorted(set(values))


async def test_stream_cut_at_random_points_relays_each_message_once_in_order(
        local_service: RunningService, proxy: FaultProxy, mcp: Client) -> None:
    for round_number in range(3):
        run_id = await start(mcp, steps=6, step_delay_ms=20)
        proxy.cut_streams_randomly(max_bytes=700, times=12, seed=round_number)
        waited, progress = await wait_relayed(mcp, run_id)
        proxy.reset()
        await assert_exactly_once(local_service, run_id, waited, progress)
        assert waited["status"] == "completed" and waited["answer"]
    assert proxy.cuts >= 6, f"only {proxy.cuts} cuts were made: the test did not exercise reconnection"


async def test_cuts_after_each_event_delays_and_error_bursts_lose_nothing(
        local_service: RunningService, proxy: FaultProxy, mcp: Client) -> None:
    run_id = await start(mcp, steps=5, step_delay_ms=40)
    proxy.set_delay(0.01)
    proxy.cut_streams_after(events=1, times=10)
    proxy.fail_next(2, status=503, path_contains="/updates")
    proxy.fail_next(2, status=429, retry_after="0", path_contains="/stream")
    proxy.fail_next(1, status=502, path_contains=f"/agents/{run_id}")
    waited, progress = await wait_relayed(mcp, run_id)
    proxy.reset()
    await assert_exactly_once(local_service, run_id, waited, progress)
    assert proxy.cuts >= 3


async def test_malformed_events_injected_into_a_live_stream_are_skipped(
        local_service: RunningService, proxy: FaultProxy, mcp: Client, caplog: pytest.LogCaptureFixture) -> None:
    run_id = await start(mcp, steps=4, step_delay_ms=30)
    proxy.inject_into_streams(b'data: {"t": "UPDATE", "m": broken\n\ndata: [1]\n\nevent: x\ndata: {"m": "no type"}\n\n'
                              b'data: {"t": "ANSWER", "m": "forged", "ts": "never"}\n\n', times=5)
    proxy.cut_streams_after(events=2, times=3)
    waited, progress = await wait_relayed(mcp, run_id)
    proxy.reset()
    await assert_exactly_once(local_service, run_id, waited, progress)
    assert "forged" not in " ".join(progress.lines) and waited["answer"] != "forged"
    skipped = [r for r in caplog.records if "skipped a malformed stream event" in r.getMessage()]
    assert len(skipped) >= 4  # the injection reached the client, which skipped it


async def test_get_messages_during_bursts_matches_stored_history(
        local_service: RunningService, proxy: FaultProxy, mcp: Client) -> None:
    run_id = await start(mcp, steps=3, step_delay_ms=1)
    await wait_relayed(mcp, run_id)
    stored = await stored_messages(local_service.base_url, local_service.sts_url, local_service.api_key, run_id)
    proxy.fail_next(3, status=503, path_contains="/updates")
    result = data(await mcp.call_tool("get_agent_messages", {"run_id": run_id, "limit": 500, "detail": "full"}))
    got = [(m.get("type"), m.get("ts") or m.get("timestamp")) for m in result["messages"]]
    assert [m["type"] for m in result["messages"]] == [m.type.value for m in stored]
    assert len(got) == len(stored)


async def test_retries_stay_within_bounds(proxy: FaultProxy, mcp: Client, via_proxy: AgentRunsClient) -> None:
    run_id = await start(mcp, steps=1, step_delay_ms=1)
    path = f"/api/v1/agents/{run_id}"
    max_attempts = via_proxy.retry_policy.max_retries + 1

    # A short burst is absorbed: the call succeeds after exactly burst + 1 requests.
    before = proxy.count("GET", path)
    proxy.fail_next(3, status=503, path_contains=path)
    assert data(await mcp.call_tool("get_agent_run", {"run_id": run_id}))["run"]["id"] == run_id
    assert proxy.count("GET", path) - before == 4

    # A long burst: exactly max_attempts requests, then a clear error; the next call succeeds.
    before = proxy.count("GET", path)
    proxy.fail_next(50, status=503, path_contains=path)
    failed = await mcp.call_tool("get_agent_run", {"run_id": run_id})
    assert_clean_error(failed, "503", "retry")
    assert proxy.count("GET", path) - before == max_attempts
    proxy.reset()
    assert data(await mcp.call_tool("get_agent_run", {"run_id": run_id}))["run"]["id"] == run_id

    # A 429 with a long Retry-After is not waited for: one request, and the error says to wait.
    before = proxy.count("GET", path)
    proxy.fail_next(1, status=429, retry_after="120", path_contains=path)
    limited = await mcp.call_tool("get_agent_run", {"run_id": run_id})
    assert_clean_error(limited, "429")
    assert proxy.count("GET", path) - before == 1
    proxy.reset()


async def test_a_post_is_not_repeated_after_a_5xx_but_is_after_a_429(
        local_service: RunningService, proxy: FaultProxy, mcp: Client) -> None:
    async def runs() -> int:
        async with fast_client(local_service.base_url, local_service.sts_url, local_service.api_key) as direct:
            return len((await direct.runs.list(limit=200)).items)

    before_runs, before_posts = await runs(), proxy.count("POST", "/api/v1/agents")
    proxy.fail_next(1, status=503, path_contains="/api/v1/agents")
    failed = await mcp.call_tool("start_agent_run", {"interaction": "Echo", "data": {"task": "x"}})
    assert_clean_error(failed, "503")
    assert proxy.count("POST", "/api/v1/agents") - before_posts == 1
    assert await runs() == before_runs

    before_posts = proxy.count("POST", "/api/v1/agents")
    proxy.fail_next(1, status=429, retry_after="0", path_contains="/api/v1/agents")
    data(await mcp.call_tool("start_agent_run", {"interaction": "Echo", "interactive": False,
                                                 "data": {"task": "x"}}))
    assert proxy.count("POST", "/api/v1/agents") - before_posts == 2
    assert await runs() == before_runs + 1


async def test_outage_gives_a_clear_error_and_the_next_call_after_recovery_succeeds(
        proxy: FaultProxy, mcp: Client) -> None:
    run_id = await start(mcp, steps=1, step_delay_ms=1)
    proxy.set_down(True)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("get_agent_run", {"run_id": run_id}),
        ("list_agent_runs", {}),
        ("wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 5}),
        ("get_agent_messages", {"run_id": run_id}),
        ("start_agent_run", {"interaction": "Echo"}),
        ("list_agent_artifacts", {"run_id": run_id}),
    ]
    for name, arguments in calls:
        with anyio.fail_after(STEP_TIMEOUT):
            result = await mcp.call_tool(name, arguments)
        assert_clean_error(result, "502")
    proxy.set_down(False)
    for name, arguments in calls[:4]:
        data(await mcp.call_tool(name, arguments))


async def test_a_stream_opened_during_an_outage_waits_it_out(
        local_service: RunningService, proxy: FaultProxy, via_proxy: AgentRunsClient) -> None:
    """Regression: the stream's first history request failed for good after its few quick retries, so a wait
    that began following a run while the service restarted gave up instead of carrying on."""
    run = await via_proxy.runs.create(interaction="Demo", interactive=False,
                                      data={"task": "outage", "steps": 2, "step_delay_ms": 1})
    stored = await stored_messages(local_service.base_url, local_service.sts_url, local_service.api_key, run.id)
    with anyio.fail_after(STEP_TIMEOUT):
        while not stored or not stored[-1].ends_run:
            await anyio.sleep(0.02)
            stored = await stored_messages(local_service.base_url, local_service.sts_url, local_service.api_key,
                                           run.id)
    updates = f"/api/v1/agents/{run.id}/updates"
    proxy.set_down(True)
    got: list[str] = []

    async def follow() -> None:
        async for message in via_proxy.messages.stream(run.id):
            got.append(repr(message.identity()))

    with anyio.fail_after(STEP_TIMEOUT):
        async with anyio.create_task_group() as group:
            group.start_soon(follow)
            # the proxy counts requests; there is no event to wait on
            while proxy.count("GET", updates) < 3 * (via_proxy.retry_policy.max_retries + 1):  # noqa: ASYNC110
                await anyio.sleep(0.01)
            proxy.set_down(False)
    assert got == [repr(message.identity()) for message in stored]


async def test_a_stream_gives_up_after_its_outage_bound(local_service: RunningService, proxy: FaultProxy) -> None:
    """Regression: the count of failed polls restarted at every SSE retry, so `max_poll_failures` never ended
    a stream whose service stayed down: its consumer waited forever."""
    policy = StreamPolicy(read_timeout=1.0, connect_timeout=1.0, base_delay=0.01, max_delay=0.02, jitter=0.0,
                          max_attempts=2, stable_after=0.5, poll_interval=0.01, sse_retry_interval=0.03,
                          max_poll_failures=6)
    async with fast_client(proxy.url + "/api/v1", proxy.url, local_service.api_key, stream=policy,
                           retry=RetryPolicy(max_retries=0)) as client:
        run = await client.runs.create(interaction="Echo", data={"task": "outage"})
        proxy.stall_streams_after(events=1, times=1)  # the first stream goes silent, then everything fails
        seen: list[str] = []
        with anyio.fail_after(STEP_TIMEOUT):
            with pytest.raises(BaseException) as raised:
                async with anyio.create_task_group() as group:
                    async def outage() -> None:
                        await anyio.sleep(0.3)
                        proxy.set_down(True)

                    group.start_soon(outage)
                    async for message in client.messages.stream(run.id):
                        seen.append(message.type.value)
        errors = raised.value.exceptions if isinstance(raised.value, BaseExceptionGroup) else [raised.value]
        assert any(isinstance(error, ServerError) for error in errors), errors
        assert seen  # it followed the run before the outage
        assert len(proxy.requests) < 200  # bounded, not a busy loop
