"""Malformed input from the service (a scripted fake of the API): skipped or refused, never a crash or a hang."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import pytest
from mcp import Client

from tests.reliability.helpers import STEP_TIMEOUT, assert_clean_error, data, fast_client, mcp_over, text_of
from tests.support.progress import Progress
from tests.support.scripted_api import ScriptedAPI

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def api() -> AsyncIterator[ScriptedAPI]:
    api = ScriptedAPI(heartbeat=0.05)
    async with api.serve():
        yield api


@pytest.fixture
async def mcp(api: ScriptedAPI) -> AsyncIterator[Client]:
    async with fast_client(api.root + "/api/v1", api.root, api.api_key) as client, mcp_over(client) as mcp:
        yield mcp


async def wait(mcp: Client, run_id: str, seconds: float = 20) -> tuple[dict[str, Any], Progress]:
    progress = Progress()
    with anyio.fail_after(seconds + STEP_TIMEOUT):
        result = await mcp.call_tool("wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": seconds},
                                     progress_callback=progress)
    return data(result), progress


async def wait_while(mcp: Client, run_id: str,
                     produce: Callable[[], Awaitable[None]]) -> tuple[dict[str, Any], Progress]:
    """A wait on `run_id` while `produce` emits the run's messages in the background."""
    async with anyio.create_task_group() as group:
        group.start_soon(produce)
        return await wait(mcp, run_id)


def answer_and_finish(api: ScriptedAPI, run_id: str, answer: str) -> None:
    api.emit(run_id, "ANSWER", answer)
    api.emit(run_id, "COMPLETE", "done")
    api.finish(run_id)


async def test_broken_events_and_unknown_types_are_skipped(api: ScriptedAPI, mcp: Client) -> None:
    run = api.create_run()
    api.stream_script.prelude = ["data: {not json\n\n", "data: [1, 2]\n\n", "data: {\"x\": 1}\n\n", "data: \"s\"\n\n",
                                 "data: {\"t\": {\"deep\": []}, \"ts\": \"soon\"}\n\n", "event: weird\ndata: \n\n",
                                 ": comment only\n\n", "retry: abc\n\n", "id: \x00\n\n"]

    async def later() -> None:
        await anyio.sleep(0.3)
        api.emit(run["id"], "UPDATE", "before")
        api.emit(run["id"], "MYSTERY_TYPE", "an unknown type")
        api.emit(run["id"], 99, "an unknown code", d={"x": [1, {"y": None}]})
        api.emit(run["id"], "UPDATE", "\x00\x1b[31mcontrol\r\n\u202echars " + "é" * 500)
        answer_and_finish(api, run["id"], "the answer")

    result, progress = await wait_while(mcp, run["id"], later)
    waited = result["runs"][0]
    assert waited["done"] and waited["answer"] == "the answer"
    assert waited["messages"]["count"] == 6
    lines = progress.lines
    assert len(lines) == 6 and any("an unknown type" in line for line in lines)
    assert all(len(line) <= 200 and "\x00" not in line and "\x1b" not in line for line in lines)


async def test_an_event_over_the_size_limit_does_not_stop_the_wait(api: ScriptedAPI, mcp: Client) -> None:
    """An SSE event over the client's limit (1 MiB) breaks the stream each time; the follower falls back to
    polling `/updates`, so the message still arrives once, in order, and the wait ends."""
    run = api.create_run()

    async def later() -> None:
        await anyio.sleep(0.2)  # after the wait read the history: the messages come through the stream
        api.emit(run["id"], "UPDATE", "small")
        api.emit(run["id"], "UPDATE", "huge " + "x" * (2 * 1024 * 1024))
        answer_and_finish(api, run["id"], "after the huge one")

    result, progress = await wait_while(mcp, run["id"], later)
    waited = result["runs"][0]
    assert waited["done"] and waited["answer"] == "after the huge one" and waited["messages"]["count"] == 4, waited
    assert len(progress.lines) == 4 and all(len(line) <= 200 for line in progress.lines)
    assert len(json.dumps(result)) < 20_000  # the huge text is summarized, not passed on


async def test_a_stream_of_heartbeats_only_ends_at_the_wait_timeout(api: ScriptedAPI, mcp: Client) -> None:
    run = api.create_run()
    result, progress = await wait(mcp, run["id"], seconds=1.5)
    assert result["timed_out"] and not result["runs"][0]["done"] and not progress.lines
    assert "wait_for_agent_runs" in result["next_step"]


async def test_a_huge_run_record_gives_a_bounded_answer(api: ScriptedAPI, mcp: Client) -> None:
    run = api.create_run(properties={"blob": "y" * 5_000_000}, error="e" * 100_000, tags=["t"] * 10_000)
    with anyio.fail_after(STEP_TIMEOUT):
        result = await mcp.call_tool("get_agent_run", {"run_id": run["id"]})
        listed = await mcp.call_tool("list_agent_runs", {})
    for answer in (result, listed):
        assert "Traceback" not in text_of(answer)
        assert len(json.dumps(answer.model_dump(mode="json"))) < 200_000, len(json.dumps(answer.model_dump()))


async def test_non_json_and_wrong_shape_answers_are_clear_errors(api: ScriptedAPI, mcp: Client) -> None:
    run = api.create_run()
    for body in ("<html>oops</html>", [1, 2, 3], {"id": 5}, "", None):
        api.scripted.clear()
        if body is None:
            api.script(200, path=f"/agents/{run['id']}", body=json.loads("null"))
        else:
            api.script(200, path=f"/agents/{run['id']}", body=body)
        result = await mcp.call_tool("get_agent_run", {"run_id": run["id"]})
        if result.is_error:
            assert_clean_error(result)
    api.scripted.clear()
    assert data(await mcp.call_tool("get_agent_run", {"run_id": run["id"]}))["run"]["id"] == run["id"]
