"""Following a run: exactly once, in order, through cuts, malformed events, and SSE outages."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import anyio
import pytest

from mcp_agents.client import AgentRunsClient, NotFoundError
from mcp_agents.client._constants import STREAM_HANDOFF_MARGIN_MS
from mcp_agents.models import AgentMessage
from tests.client.conftest import FAST_STREAM, make_client
from tests.support.fault_proxy import FaultProxy
from tests.support.scripted_api import ScriptedAPI

FOLLOW_TIMEOUT = 20.0


@pytest.fixture
async def proxy(api: ScriptedAPI) -> AsyncIterator[FaultProxy]:
    async with FaultProxy(api.root, seed=11) as instance:
        yield instance


@pytest.fixture
async def proxied(api: ScriptedAPI, proxy: FaultProxy) -> AsyncIterator[AgentRunsClient]:
    async with make_client(proxy.url, api_key=api.api_key) as instance:
        yield instance


async def produce(api: ScriptedAPI, run_id: str, count: int, *, delay: float = 0.003, end: bool = True) -> None:
    for index in range(count):
        api.emit(run_id, index % 4 + 1 if index % 4 + 1 != 4 else 3, f"message {index}")
        await anyio.sleep(delay)
    if end:
        api.emit(run_id, "COMPLETE", "done")
        api.finish(run_id)


async def collect(client: AgentRunsClient, run_id: str, **kwargs: Any) -> list[AgentMessage]:
    out: list[AgentMessage] = []
    with anyio.fail_after(FOLLOW_TIMEOUT):
        async for message in client.messages.stream(run_id, **kwargs):
            out.append(message)
    return out


def wire(api: ScriptedAPI, run_id: str) -> list[tuple[int, str]]:
    return [(m["ts"], m["m"]) for m in api.messages[run_id]]


def seen(messages: list[AgentMessage]) -> list[tuple[int | None, str]]:
    return [(m.timestamp, m.message) for m in messages]


@asynccontextmanager
async def following(client: AgentRunsClient, run_id: str, *, settle: float = 0.05,
                    **kwargs: Any) -> AsyncIterator[list[AgentMessage]]:
    """Follow `run_id` in the background while the block produces; the list is filled when the stream ends,
    which the end of the block waits for."""
    result: list[AgentMessage] = []

    async def consume() -> None:
        result.extend(await collect(client, run_id, **kwargs))

    async with anyio.create_task_group() as group:
        group.start_soon(consume)
        await anyio.sleep(settle)
        yield result


async def follow_while_producing(client: AgentRunsClient, api: ScriptedAPI, run_id: str, count: int,
                                 *, delay: float = 0.003, **kwargs: Any) -> list[AgentMessage]:
    async with following(client, run_id, settle=0, **kwargs) as result:
        # Produce once the follower is live, so "history, then live" holds however slow its start is
        # (bounded: a stream refused by a fault proxy never reaches the API; then producing starts anyway).
        with anyio.move_on_after(1.0):
            while not api.calls_to("/stream"):  # noqa: ASYNC110 - polling the fake API, bounded
                await anyio.sleep(0.005)
        await produce(api, run_id, count, delay=delay)
    return result


async def test_history_then_live_then_end(api: ScriptedAPI, client: AgentRunsClient) -> None:
    run = api.create_run()
    for index in range(3):
        api.emit(run["id"], "UPDATE", f"old {index}")
    messages = await follow_while_producing(client, api, run["id"], 10)
    assert seen(messages) == wire(api, run["id"])
    assert messages[-1].ends_run
    stream_calls = api.calls_to("/stream")
    assert stream_calls[0].query["skipHistory"] == "true"
    assert int(stream_calls[0].query["since"]) == api.messages[run["id"]][2]["ts"] - 1
    assert "access_token" not in stream_calls[0].query


async def test_since_skips_older_history(api: ScriptedAPI, client: AgentRunsClient) -> None:
    run = api.create_run()
    first = api.emit(run["id"], "UPDATE", "old")
    api.emit(run["id"], "UPDATE", "new")
    api.emit(run["id"], "COMPLETE", "done")
    messages = await collect(client, run["id"], since=first["ts"])
    assert [m.message for m in messages] == ["new", "done"]


async def test_cut_streams_are_resumed_without_loss_or_duplicates(api: ScriptedAPI, proxy: FaultProxy,
                                                                 proxied: AgentRunsClient) -> None:
    run = api.create_run()
    api.emit(run["id"], "UPDATE", "before")
    proxy.cut_streams_after(events=4, times=6)
    messages = await follow_while_producing(proxied, api, run["id"], 40)
    assert seen(messages) == wire(api, run["id"])
    assert proxy.cuts >= 3


async def test_random_byte_cuts_are_resumed_exactly_once(api: ScriptedAPI, proxy: FaultProxy,
                                                         proxied: AgentRunsClient) -> None:
    run = api.create_run()
    proxy.cut_streams_randomly(max_bytes=300, times=8, seed=5)
    messages = await follow_while_producing(proxied, api, run["id"], 40)
    assert proxy.cuts >= 3
    assert seen(messages) == wire(api, run["id"])


async def test_equal_timestamps_at_a_cut_are_neither_lost_nor_repeated(api: ScriptedAPI, proxy: FaultProxy,
                                                                      proxied: AgentRunsClient) -> None:
    run = api.create_run()
    stamp = 1_700_000_000_000
    api.emit(run["id"], "UPDATE", "a", ts=stamp)
    proxy.cut_streams_after(events=2, times=3)
    async with following(proxied, run["id"]) as result:
        for name in "bcdef":
            api.emit(run["id"], "UPDATE", name, ts=stamp + 5)  # five messages share one timestamp
        api.emit(run["id"], "UPDATE", "g", ts=stamp + 6)
        api.emit(run["id"], "COMPLETE", "done", ts=stamp + 7)
    assert proxy.cuts >= 2
    assert [m.message for m in result] == ["a", "b", "c", "d", "e", "f", "g", "done"]


async def test_heartbeats_ignored_and_malformed_events_skipped(api: ScriptedAPI, client: AgentRunsClient,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    api.stream_script.prelude = [": heartbeat\n\n", "data: {not json\n\n", "data: [1, 2]\n\n",
                                 "data: \"text\"\n\n", ": another\n\n", 'data: {"error": "x"}\n\n',
                                 "event: ping\ndata:\n\n"]
    run = api.create_run()
    with caplog.at_level(logging.WARNING, logger="mcp_agents.client"):
        messages = await follow_while_producing(client, api, run["id"], 5)
    assert seen(messages) == wire(api, run["id"])
    skipped = [r for r in caplog.records if "malformed stream event" in r.getMessage()]
    assert len(skipped) >= 4
    assert all("127.0.0.1" not in r.getMessage() and "eyJ" not in r.getMessage() for r in caplog.records)


async def test_unknown_types_and_extras_survive_the_stream(api: ScriptedAPI, client: AgentRunsClient) -> None:
    run = api.create_run()
    api.emit(run["id"], 99, "odd", custom={"k": 1})
    api.emit(run["id"], "THOUGHT", "calling", d={"tool": "search"})
    api.emit(run["id"], "COMPLETE", "child done", d={"process_run_id": "child-1"})
    api.emit(run["id"], "COMPLETE", "side", w="ws2")
    api.emit(run["id"], "TERMINATED", "stopped")
    messages = await collect(client, run["id"])
    assert messages[0].type.value == "UPDATE" and messages[0].raw_type == 99
    assert messages[0].model_extra == {"custom": {"k": 1}}
    assert messages[1].tool_name == "search"
    assert [m.ends_run for m in messages] == [False, False, False, False, True]


async def test_polling_fallback_when_sse_keeps_failing(api: ScriptedAPI, proxy: FaultProxy) -> None:
    policy = replace(FAST_STREAM, max_attempts=3, poll_interval=0.01, sse_retry_interval=0.1)
    proxy.fail_next(10_000, status=503, path_contains="/stream")
    run = api.create_run()
    async with make_client(proxy.url, api_key=api.api_key, stream_policy=policy) as client:
        messages = await follow_while_producing(client, api, run["id"], 30, delay=0.01)
    assert seen(messages) == wire(api, run["id"])
    assert len([p for m, p in proxy.requests if "/stream" in p]) >= 4  # SSE retried while polling
    assert len([p for m, p in proxy.requests if p.endswith(f"/agents/{run['id']}")]) >= 1  # status checked


async def test_terminal_status_ends_the_stream_without_an_end_message(api: ScriptedAPI, proxy: FaultProxy) -> None:
    policy = replace(FAST_STREAM, max_attempts=2, poll_interval=0.01)
    proxy.fail_next(10_000, status=502, path_contains="/stream")
    run = api.create_run()
    async with make_client(proxy.url, api_key=api.api_key, stream_policy=policy) as client:
        async def finish() -> None:
            await anyio.sleep(0.05)
            api.emit(run["id"], "ERROR", "boom")
            api.finish(run["id"], "failed")

        async with anyio.create_task_group() as group:
            group.start_soon(finish)
            messages = await collect(client, run["id"])
    assert [m.message for m in messages] == ["boom"]


async def test_clean_close_of_a_finished_run_ends_the_stream(api: ScriptedAPI, client: AgentRunsClient) -> None:
    run = api.create_run()
    api.emit(run["id"], "UPDATE", "only")
    api.finish(run["id"], "completed")  # no COMPLETE message: the server just closes the stream
    messages = await collect(client, run["id"])
    assert [m.message for m in messages] == ["only"]


async def test_not_found_on_the_stream_is_raised_not_retried(api: ScriptedAPI, proxy: FaultProxy,
                                                            proxied: AgentRunsClient) -> None:
    run = api.create_run()
    proxy.fail_next(1, status=404, path_contains="/stream")
    with pytest.raises(NotFoundError):
        await collect(proxied, run["id"])
    assert len([p for m, p in proxy.requests if "/stream" in p]) == 1
    with pytest.raises(NotFoundError):
        await collect(proxied, "no-such-run")


async def test_reconnect_resolves_a_fresh_credential(api: ScriptedAPI, proxy: FaultProxy,
                                                     proxied: AgentRunsClient) -> None:
    run = api.create_run()
    proxy.cut_streams_after(events=3, times=1)
    async with following(proxied, run["id"]) as result:
        for index in range(3):
            api.emit(run["id"], "UPDATE", f"m{index}")
        with anyio.fail_after(5):
            await proxy.wait_for_cuts(1)
        api.revoke_tokens()  # the reconnect's cached token is now refused: it must exchange again
        api.emit(run["id"], "COMPLETE", "done")
    assert seen(result) == wire(api, run["id"])
    assert api.exchanges == 2
    streams = [c for c in api.calls_to("/stream")]
    assert streams[0].headers["authorization"] != streams[-1].headers["authorization"]


async def test_breaking_out_of_the_stream_closes_it(api: ScriptedAPI, client: AgentRunsClient) -> None:
    run = api.create_run()
    for index in range(5):
        api.emit(run["id"], "UPDATE", f"m{index}")
    stream = client.messages.stream(run["id"])
    with anyio.fail_after(5):
        async for message in stream:
            if message.message == "m1":
                break
    await stream.aclose()  # type: ignore[attr-defined]


async def test_a_silent_connection_is_detected_by_the_read_timeout(api: ScriptedAPI, proxy: FaultProxy) -> None:
    policy = replace(FAST_STREAM, read_timeout=0.3)
    run = api.create_run()
    proxy.stall_streams_after(events=2, times=1)
    async with make_client(proxy.url, api_key=api.api_key, stream_policy=policy) as client:
        messages = await follow_while_producing(client, api, run["id"], 10, delay=0.02)
    assert seen(messages) == wire(api, run["id"])
    assert len([p for m, p in proxy.requests if "/stream" in p]) >= 2


async def test_stream_rate_limit_and_busy_answers_are_retried(api: ScriptedAPI, proxy: FaultProxy,
                                                              proxied: AgentRunsClient) -> None:
    run = api.create_run()
    proxy.fail_next(2, status=429, retry_after="0", path_contains="/stream")
    proxy.fail_next(2, status=503, path_contains="/stream")
    messages = await follow_while_producing(proxied, api, run["id"], 5)
    assert seen(messages) == wire(api, run["id"])
    assert len([p for m, p in proxy.requests if "/stream" in p]) >= 5


async def test_a_stable_connection_resets_the_attempt_counter(api: ScriptedAPI, proxy: FaultProxy,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    policy = replace(FAST_STREAM, max_attempts=2, stable_after=0.0)
    run = api.create_run()
    proxy.cut_streams_after(events=2, times=8)
    with caplog.at_level(logging.INFO, logger="mcp_agents.client"):
        async with make_client(proxy.url, api_key=api.api_key, stream_policy=policy) as client:
            messages = await follow_while_producing(client, api, run["id"], 30, delay=0.005)
    assert seen(messages) == wire(api, run["id"])
    assert proxy.cuts >= 3
    assert "polling" not in caplog.text  # eight drops, but each connection worked: never degraded



async def test_without_history_the_stream_starts_just_before_the_history_request(
        api: ScriptedAPI, client: AgentRunsClient) -> None:
    run = api.create_run()
    before = int(time.time() * 1000)
    messages = await follow_while_producing(client, api, run["id"], 3)
    assert seen(messages) == wire(api, run["id"])
    first_stream = api.calls_to("/stream")[0]
    since = int(first_stream.query["since"])
    assert before - STREAM_HANDOFF_MARGIN_MS - 1 <= since < api.messages[run["id"]][0]["ts"]


async def test_resuming_from_a_cursor_never_repeats_the_message_at_the_cursor(
        api: ScriptedAPI, client: AgentRunsClient) -> None:
    """A caller that saw a message resumes from its timestamp: that message is not delivered again,
    however recent it is (the no-history hand-off margin reaches back before it)."""
    run = api.create_run()
    api.emit(run["id"], "UPDATE", "seen 1")
    api.emit(run["id"], "UPDATE", "seen 2")
    cursor = api.messages[run["id"]][-1]["ts"]
    messages = await follow_while_producing(client, api, run["id"], 2, since=cursor)
    assert seen(messages) == wire(api, run["id"])[2:]


async def test_a_caller_that_read_the_history_skips_that_request_and_loses_nothing(
        api: ScriptedAPI, client: AgentRunsClient) -> None:
    """`read_history=False`: no `/updates` request; messages stored after the caller's own read still arrive."""
    run = api.create_run()
    api.emit(run["id"], "UPDATE", "read by the caller")
    cursor = api.messages[run["id"]][-1]["ts"]
    api.emit(run["id"], "UPDATE", "stored between the read and the stream")
    updates_before = len(api.calls_to("/updates"))
    messages = await follow_while_producing(client, api, run["id"], 2, since=cursor, read_history=False)
    assert seen(messages) == wire(api, run["id"])[1:]
    assert len(api.calls_to("/updates")) == updates_before
