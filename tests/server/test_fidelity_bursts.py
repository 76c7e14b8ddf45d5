"""No message lost, repeated or merged at a shared millisecond: waits, resumed waits, paging, subscriptions.

The local service runs with producer-stamped bursts (`LocalServiceConfig.bursts`) on both wires, and producers post
with their own timestamps (`POST /updates` `timestamp`), as on the hosted service: parallel tool calls
that only their details tell apart, a QUESTION and the IDLE after it, an answer and its IDLE, even two
identical messages, all in one millisecond. First the four ways messages were lost, then volume.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.types import ResourceUpdatedNotification

from mcp_agents.client import AgentRunsClient
from mcp_agents.local import LocalServiceConfig, RunningService, run_local_service
from mcp_agents.models import AgentMessage, MessageType
from mcp_agents.models.cursor import Cursor, Position
from mcp_agents.models.hosted import WIRES
from mcp_agents.models.messages import type_code
from tests.local.helpers import client as client_for
from tests.local.helpers import issue_token
from tests.server.serving_helpers import STEP_TIMEOUT, api_client, mcp_client
from tests.server.tools_helpers import call, data

RUNS = 10
WORTH_PER_RUN = 100  # RUNS * WORTH_PER_RUN = 1,000 runs' worth of messages
PAGE = 50
WAIT_TIMEOUT = 60  # never reached when things work: each wait returns on a turn's end
Post = tuple[str, str, Any, str | None]  # type, text, details, workstream


@pytest.fixture(params=WIRES)
async def bursty(tmp_path: Path, anyio_backend: str, request: pytest.FixtureRequest) -> AsyncIterator[RunningService]:
    """The local service with bursts, on each wire (the hosted one is what users meet)."""
    config = LocalServiceConfig(data_dir=tmp_path / "bursty", heartbeat_seconds=0.2, bursts=True, wire=request.param)
    async with run_local_service(config) as service:
        yield service


def one_runs_worth(index: int) -> list[list[Post]]:
    """What a hosted conversation run posts in one turn, as bursts (each burst: one millisecond)."""
    ws = f"ws-{index % 3}"
    calls = [("THOUGHT", "", {"tool": "search", "args": {"q": f"q{index}-{part}"}}, ws) for part in range(3)]
    done = [("THOUGHT", "", {"tool": "search", "tool_status": "completed", "part": part}, ws) for part in range(3)]
    bursts: list[list[Post]] = [
        [("PLAN", f"plan {index}", {"plan": [{"id": 1, "goal": "g"}]}, None), *calls],
        [*done, ("UPDATE", "tick", None, ws), ("UPDATE", "tick", None, ws)],  # two identical messages
        [("UPDATE", f"child {index}", {"process_run_id": "child-1"}, "child"), ("IDLE", "child idle", None, "child")],
    ]
    if index % 4 == 0:
        bursts.append([("QUESTION", f"question {index}?", None, None), ("IDLE", "Waiting for your command...", None,
                                                                          None)])
        bursts.append([("THOUGHT", f"resumed {index}", None, None)])
    bursts.append([("ANSWER", f"answer {index}", None, None), ("IDLE", "Waiting for your command...", None, None)])
    return bursts


async def post_bursts(client: AgentRunsClient, run_id: str, bursts: list[list[Post]], clock: list[int]) -> None:
    """Post each burst with one producer timestamp (`clock` moves one millisecond per burst)."""
    for burst in bursts:
        clock[0] += 1
        for kind, text, details, workstream in burst:
            await client.messages.post(run_id, type=kind, message=text, details=details, workstream_id=workstream,
                                       timestamp=clock[0])


async def produce(http: httpx2.AsyncClient, run_id: str, bursts: list[list[Post]], clock: int) -> None:
    """`post_bursts` over a bare HTTP client: the volume test's load is the service's and the MCP server's."""
    for burst in bursts:
        clock += 1
        for kind, text, details, workstream in burst:
            body = {"type": type_code(MessageType(kind)), "message": text, "details": details,
                    "workstream_id": workstream, "timestamp": clock}  # the integer type code, as the schema wants
            posted = await http.post(f"/agents/{run_id}/updates", json={k: v for k, v in body.items() if v is not None})
            assert posted.status_code in (200, 201), posted.text  # the hosted wire answers 201, as published


def shape(message: AgentMessage) -> tuple[Any, ...]:
    return message.type.value, message.message, message.workstream_id, message.identity()[4]


def row_shape(row: dict[str, Any]) -> tuple[Any, ...]:
    details = row.get("details")
    return row["type"], row.get("text", ""), row["workstream"], AgentMessage(details=details).identity()[4]


async def interactive_echo(client: AgentRunsClient) -> str:
    """An interactive Echo run that answered its task and went IDLE (its ANSWER and IDLE share a millisecond)."""
    run = await client.runs.create(interaction="Echo", data={"task": "start"}, interactive=True)
    with anyio.fail_after(STEP_TIMEOUT):
        async with aclosing(client.messages.stream(run.id)) as stream:
            async for message in stream:
                if message.type is MessageType.IDLE:
                    break
    return run.id


async def page_all(mcp: Client, run_id: str, limit: int, since: str | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for _ in range(10_000):
        page = data(await call(mcp, "get_agent_messages", {"run_id": run_id, "limit": limit, "detail": "full",
                                                           **({"since": since} if since else {})}))
        rows.extend(page["messages"])
        since = page["cursor"]
        if not page["more"]:
            return rows
    raise AssertionError("paging did not end")


async def test_tool_calls_told_apart_only_by_details_are_all_delivered(bursty: RunningService) -> None:
    async with api_client(bursty) as client, mcp_client(client, "auto") as mcp:
        run_id = await interactive_echo(client)
        cursor = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id]}))["runs"][0]["cursor"]
        clock = [Cursor.parse(cursor).ts + 5]
        await post_bursts(client, run_id, [[("THOUGHT", "", {"tool": "search", "args": {"q": q}}, None)
                                            for q in ("a", "b")], [("IDLE", "Waiting", None, None)]], clock)
        waited = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "since": {run_id: cursor},
                                                              "timeout_seconds": WAIT_TIMEOUT}))
        run = waited["runs"][0]
        assert not waited["timed_out"] and run["messages"]["count"] == 3
        assert run["messages"]["by_type"] == {"THOUGHT": 2, "IDLE": 1}
        rows = await page_all(mcp, run_id, 1, since=cursor)
        assert [row["details"]["args"]["q"] for row in rows[:2]] == ["a", "b"]


async def test_a_wait_stopped_on_a_question_misses_nothing_of_its_millisecond(bursty: RunningService) -> None:
    async with api_client(bursty) as client, mcp_client(client, "legacy") as mcp:
        run_id = await interactive_echo(client)
        start = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id]}))["runs"][0]["cursor"]
        stamp = Cursor.parse(start).ts + 5
        await client.messages.post(run_id, type="THOUGHT", message="thinking", timestamp=stamp)
        await client.messages.post(run_id, type="QUESTION", message="Which colour?", timestamp=stamp)
        asked = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "since": {run_id: start},
                                                             "timeout_seconds": WAIT_TIMEOUT}))["runs"][0]
        assert asked["question"] == "Which colour?" and asked["turn"] == "waiting_for_input"
        # The rest of that millisecond comes after the wait returned: the IDLE after the question, then the run goes
        # on (someone answered elsewhere) and ends its turn, all stamped with the question's millisecond.
        for kind, text in (("IDLE", "Waiting"), ("UPDATE", "going on"), ("ANSWER", "teal"), ("IDLE", "Waiting")):
            await client.messages.post(run_id, type=kind, message=text, timestamp=stamp)
        went_on = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "since": {run_id: asked["cursor"]},
                                                               "timeout_seconds": WAIT_TIMEOUT}))
        run = went_on["runs"][0]
        assert not went_on["timed_out"] and run["messages"]["count"] == 4 and run["answer"] == "teal"
        assert run["turn"] == "waiting_for_input" and "question" not in run


async def test_a_millisecond_split_between_history_and_stream_is_delivered_whole(bursty: RunningService) -> None:
    async with api_client(bursty) as client:
        run_id = await interactive_echo(client)
        stamp = max(m.timestamp or 0 for m in await client.messages.retrieve(run_id)) + 5
        for text in ("a", "b"):
            await client.messages.post(run_id, type="UPDATE", message=text, timestamp=stamp)
        position = Position()
        history = position.take(await client.messages.retrieve(run_id, since=position.cursor.since))
        assert [m.message for m in history][-2:] == ["a", "b"]
        received: list[str] = []
        with anyio.fail_after(STEP_TIMEOUT):
            async with anyio.create_task_group() as group:
                async def follow() -> None:
                    async for message in client.messages.stream(run_id, since=position.cursor, read_history=False):
                        received.append(message.message)
                        if message.message == "d":
                            group.cancel_scope.cancel()

                group.start_soon(follow)
                await anyio.sleep(0.3)  # the stream is open: the rest of the millisecond arrives live
                for text in ("c", "d"):
                    await client.messages.post(run_id, type="UPDATE", message=text, timestamp=stamp)
        assert received == ["c", "d"]


@pytest.mark.parametrize("limit", [1, 4, 5])
async def test_paging_returns_every_message_once_in_order(bursty: RunningService, limit: int) -> None:
    async with api_client(bursty) as client, mcp_client(client, "auto") as mcp:
        run_id = await interactive_echo(client)
        clock = [max(m.timestamp or 0 for m in await client.messages.retrieve(run_id)) + 5]
        triplets: list[Post] = [("UPDATE", "same", None, None)] * 3
        await post_bursts(client, run_id, [triplets, *one_runs_worth(1), *one_runs_worth(2)[1:]], clock)
        stored = await client.messages.retrieve(run_id)
        assert len(stored) == 27  # the issue's case: 27 messages, most of them sharing a millisecond with others
        rows = await page_all(mcp, run_id, limit)
        assert [row_shape(row) for row in rows] == [shape(m) for m in stored]


@pytest.mark.parametrize("bursty", ["hosted"], indirect=True)  # what users meet; the loss cases run on both wires
async def test_a_thousand_runs_worth_through_waits_paging_and_subscriptions(bursty: RunningService) -> None:
    announced: Counter[str] = Counter()

    async def on_message(message: Any) -> None:
        notification = getattr(message, "root", message)
        if isinstance(notification, ResourceUpdatedNotification) and str(notification.params.uri).endswith(
                "/messages"):
            announced[str(notification.params.uri)] += 1

    async with api_client(bursty) as client, mcp_client(client, "legacy", message_handler=on_message) as mcp:
        run_ids = [await interactive_echo(client) for _ in range(RUNS)]
        for run_id in run_ids:
            await mcp.subscribe_resource(f"agent-run://{run_id}/messages")
        plans = {run_id: [burst for index in range(WORTH_PER_RUN) for burst in one_runs_worth(index)]
                 for run_id in run_ids}
        expected = {run_id: Counter({"ANSWER": 1, "IDLE": 1}) for run_id in run_ids}  # Echo's own first turn
        for run_id, bursts in plans.items():
            expected[run_id].update(kind for burst in bursts for kind, *_ in burst)
        totals = {run_id: sum(counts.values()) for run_id, counts in expected.items()}
        seen = {run_id: Counter[str]() for run_id in run_ids}
        cursors: dict[str, str] = {}

        async def producers() -> None:
            base = int(time.time() * 1000) + 1000
            async with client_for(bursty, await issue_token(bursty, bursty.api_key)) as http, \
                    anyio.create_task_group() as group:
                for number, (run_id, bursts) in enumerate(plans.items()):
                    group.start_soon(produce, http, run_id, bursts, base + number)

        with anyio.fail_after(300):
            async with anyio.create_task_group() as group:
                group.start_soon(producers)
                while any(sum(seen[run_id].values()) < totals[run_id] for run_id in run_ids):
                    waited = data(await call(mcp, "wait_for_agent_runs", {
                        "run_ids": run_ids, "until": "all", "since": cursors, "timeout_seconds": WAIT_TIMEOUT}))
                    for run in waited["runs"]:
                        seen[run["run_id"]].update(run["messages"]["by_type"])
                        cursors[run["run_id"]] = run["cursor"]
        assert seen == expected  # every message counted once by the resumed waits, none twice

        for run_id in run_ids[:3]:  # paging: every message once, in the service's order
            stored = await client.messages.retrieve(run_id)
            assert len(stored) == totals[run_id]
            rows = await page_all(mcp, run_id, PAGE)
            assert [row_shape(row) for row in rows] == [shape(m) for m in stored]

        with anyio.fail_after(STEP_TIMEOUT * 4):  # subscriptions: one announcement per message posted after them
            while any(announced[f"agent-run://{run_id}/messages"] < totals[run_id] - 2 for run_id in run_ids):
                await anyio.sleep(0.05)
                assert len(announced) <= RUNS
        await anyio.sleep(0.3)  # late extra announcements would show below
        assert {uri: count for uri, count in announced.items()} == {
            f"agent-run://{run_id}/messages": totals[run_id] - 2 for run_id in run_ids}
