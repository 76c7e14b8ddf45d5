"""Delegate and wait: live progress, fan-out, questions, cancellation (both protocol eras)."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from mcp.types import ElicitResult

from mcp_agents.local import RunningService
from mcp_agents.models.cursor import Cursor
from tests.server.tools_helpers import MODES, api_client, call, data, demo, mcp_client, text_of
from tests.support.progress import Progress

pytestmark = pytest.mark.parametrize("mode", MODES)


async def start(mcp: Any, **fields: Any) -> str:
    result = data(await call(mcp, "start_agent_run", {"interaction": "Demo", "interactive": False, **fields}))
    return str(result["runs"][0]["run_id"])


async def test_start_and_wait_relays_progress(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        started = data(await call(mcp, "start_agent_run", {"interaction": "Demo", "interactive": False,
                                                           "data": demo(steps=3, step_delay_ms=20)}))
        run = started["runs"][0]
        assert run["cursor"] == "0" and "wait_for_agent_runs" in started["next_step"]
        progress = Progress()
        result = await call(mcp, "wait_for_agent_runs", {"run_ids": [run["run_id"]], "timeout_seconds": 30},
                            progress_callback=progress)
        waited = data(result)["runs"][0]
        assert waited["done"] and waited["status"] == "completed"
        assert "Done: test" in waited["answer"] and Cursor.parse(waited["cursor"]).ts > 0
        assert waited["messages"]["by_type"]["THOUGHT"] >= 3 and "search_documents" in waited["messages"]["tools"]
        assert progress.lines and all(len(line) <= 200 for line in progress.lines)
        short = run["run_id"][-6:]
        assert all(line.startswith(f"[run {short}] ") for line in progress.lines)
        assert any(line.startswith(f"[run {short}] THOUGHT ws-1: tool search_documents") for line in progress.lines)
        values = [value for value, _, _ in progress.events]
        assert values == sorted(values) and len(set(values)) == len(values)
        assert any(total is not None for _, total, _ in progress.events)
        assert "answer:\n> Done: test" in text_of(result)

        again = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run["run_id"]],
                                                             "since": {run["run_id"]: waited["cursor"]}}))
        assert again["runs"][0]["messages"]["count"] == 0 and again["runs"][0]["done"]


async def test_start_with_wait_returns_the_answer(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        result = data(await call(mcp, "start_agent_run", {"interaction": "Demo", "data": demo(),
                                                          "interactive": False, "wait_seconds": 30}))
        assert result["runs"][0]["status"] == "completed" and result["runs"][0]["answer"]


async def test_fan_out_until_all_and_any(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        fast = [await start(mcp, data=demo(steps=1)) for _ in range(2)]
        slow = await start(mcp, data=demo(steps=100, step_delay_ms=200))
        progress = Progress()
        first = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [*fast, slow], "until": "any",
                                                             "timeout_seconds": 30}, progress_callback=progress))
        assert not first["timed_out"] and any(run["done"] for run in first["runs"])
        assert next(run for run in first["runs"] if run["run_id"] == slow)["done"] is False
        named = {line.split("]")[0] for line in progress.lines}
        assert named <= {f"[run {run_id[-6:]}" for run_id in [*fast, slow]}
        await call(mcp, "cancel_agent_run", {"run_id": slow, "reason": "test"})
        every = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [*fast, slow], "until": "all",
                                                             "timeout_seconds": 30}))
        assert [run["done"] for run in every["runs"]] == [True, True, True]
        statuses = {run["run_id"]: run["status"] for run in every["runs"]}
        assert statuses == {fast[0]: "completed", fast[1]: "completed", slow: "cancelled"}
        assert all(run["answer"] for run in every["runs"] if run["run_id"] in fast)


async def test_question_answered_by_elicitation(local_service: RunningService, mode: str) -> None:
    asked: list[str] = []

    async def human(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"answer": "blue"})

    async with mcp_client(local_service, mode, elicit=human) as mcp:
        run_id = await start(mcp, data=demo(ask="Which colour?"), interactive=True)
        result = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30}))
        run = result["runs"][0]
        assert len(asked) == 1 and "Which colour?" in asked[0] and run_id[-6:] in asked[0]
        # The answered question starts a new turn; the wait returns when that turn ends (IDLE after the answer).
        assert not result["timed_out"] and run["status"] == "running" and run["turn"] == "waiting_for_input"
        assert "You said: blue" in run["answer"] and run.get("question") is None
        assert "send_agent_input" in result["next_step"] and "cancel_agent_run" in result["next_step"]


async def test_question_without_elicitation_goes_to_the_model(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        run_id = await start(mcp, data=demo(ask="Which colour?"), interactive=True)
        result = await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30})
        run = data(result)["runs"][0]
        assert run["question"] == "Which colour?" and not run["done"] and not data(result)["timed_out"]
        assert "send_agent_input" in data(result)["next_step"] and "> Which colour?" in text_of(result)
        answered = data(await call(mcp, "send_agent_input", {"run_id": run_id, "message": "green",
                                                             "wait_seconds": 30}))
        assert "You said: green" in answered["runs"][0]["answer"]


async def test_input_sent_without_a_wait_gives_the_cursor_its_turn_starts_at(local_service: RunningService,
                                                                             mode: str) -> None:
    """The cursor is taken before the input: a wait from it follows the turn the input starts, which neither the
    question it answers nor the IDLE posted after that question ends (a view or a model waits from it)."""
    async with mcp_client(local_service, mode) as mcp:
        run_id = await start(mcp, data=demo(ask="Which colour?"), interactive=True)
        asked = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30}))
        assert asked["runs"][0]["question"] == "Which colour?"
        sent = data(await call(mcp, "send_agent_input", {"run_id": run_id, "message": "teal"}))
        cursor = sent["runs"][0]["cursor"]
        assert Cursor.parse(cursor).covers(Cursor.parse(asked["runs"][0]["cursor"]))
        assert f"since={{{run_id!r}: {cursor!r}}}" in sent["next_step"]
        waited = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "since": {run_id: cursor},
                                                              "timeout_seconds": 30}))
        run = waited["runs"][0]
        assert not waited["timed_out"] and run["turn"] == "waiting_for_input" and run.get("question") is None
        assert "You said: teal" in run["answer"] and "QUESTION" not in run["messages"]["by_type"]


async def test_declined_elicitation_leaves_the_question(local_service: RunningService, mode: str) -> None:
    async def human(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="decline")

    async with mcp_client(local_service, mode, elicit=human) as mcp:
        run_id = await start(mcp, data=demo(ask="Proceed?"), interactive=True)
        result = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30}))
        assert result["runs"][0]["question"] == "Proceed?" and "decline" in result["runs"][0]["note"]


async def test_silent_elicitation_does_not_hang(local_service: RunningService, mode: str) -> None:
    """A client that declares elicitation and never answers: the wait still ends within its timeout."""
    never = anyio.Event()

    async def human(context: Any, params: Any) -> ElicitResult:
        await never.wait()
        raise AssertionError("unreachable")

    async with mcp_client(local_service, mode, elicit=human) as mcp:
        run_id = await start(mcp, data=demo(ask="Anyone?"), interactive=True)
        if mode == "legacy":  # the server asks live and bounds the question by the wait's timeout
            with anyio.fail_after(20):
                result = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 2}))
            assert result["timed_out"] and result["runs"][0]["question"] == "Anyone?"
        else:  # the server returns the question at once; the client's retry loop is the client's own
            with anyio.fail_after(20):
                raw = await mcp.session.call_tool("wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30},
                                                  allow_input_required=True)
            assert type(raw).__name__ == "InputRequiredResult"
        never.set()


async def test_cancelled_wait_leaves_the_run_running(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp, api_client(local_service) as client:
        run_id = await start(mcp, data=demo(steps=20, step_delay_ms=50))
        progress = Progress()
        with anyio.move_on_after(0.5) as scope:
            await mcp.call_tool("wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30},
                                progress_callback=progress)
        assert scope.cancelled_caught
        assert (await client.runs.retrieve(run_id)).status == "running"
        result = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30}))
        assert result["runs"][0]["status"] == "completed"


async def test_start_with_wait_asks_once_and_starts_once(local_service: RunningService, mode: str) -> None:
    """In the 2026-07-28 era the retry after the question must resume the wait, not start a second run."""

    async def human(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"answer": "yes"})

    async with mcp_client(local_service, mode, elicit=human) as mcp, api_client(local_service) as client:
        progress = Progress()
        result = data(await call(mcp, "start_agent_run", {"interaction": "Demo", "interactive": True,
                                                          "data": demo(ask="Go?"), "wait_seconds": 30},
                                 progress_callback=progress))
        assert "You said: yes" in result["runs"][0]["answer"]
        assert len((await client.runs.list()).items) == 1
        assert any("QUESTION" in line for line in progress.lines)


async def test_timed_out_wait_resumes_from_its_cursor(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        run_id = await start(mcp, data=demo(steps=6, step_delay_ms=300))
        first = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 1}))
        run = first["runs"][0]
        assert first["timed_out"] and not run["done"] and Cursor.parse(run["cursor"]).ts > 0
        assert "since=" in first["next_step"] and str(run["cursor"]) in first["next_step"]
        progress = Progress()
        rest = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30,
                                                            "since": {run_id: run["cursor"]}},
                               progress_callback=progress))
        total = run["messages"]["count"] + rest["runs"][0]["messages"]["count"]
        everything = data(await call(mcp, "get_agent_messages", {"run_id": run_id, "limit": 500}))
        assert rest["runs"][0]["done"] and total == len(everything["messages"])
        assert progress.lines and not any("tool plan (completed)" in line for line in progress.lines)


async def test_read_only_mode_never_relays_an_answer(local_service: RunningService, mode: str) -> None:
    asked: list[str] = []

    async def human(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"answer": "x"})

    async with mcp_client(local_service, "auto") as writer, \
            mcp_client(local_service, mode, elicit=human, read_only=True) as reader:
        run_id = await start(writer, data=demo(ask="Sure?"), interactive=True)
        result = data(await call(reader, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30}))
        assert result["runs"][0]["question"] == "Sure?" and asked == []
        await call(writer, "send_agent_input", {"run_id": run_id, "signal": "Stop"})


async def test_fan_out_with_a_question_keeps_every_answer(local_service: RunningService, mode: str) -> None:
    async def human(context: Any, params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"answer": "ok"})

    async with mcp_client(local_service, mode, elicit=human) as mcp:
        quick = await start(mcp, data=demo(steps=1))
        asking = await start(mcp, data=demo(steps=3, step_delay_ms=40, ask="Continue?"), interactive=True)
        result = data(await call(mcp, "wait_for_agent_runs", {"run_ids": [quick, asking], "timeout_seconds": 30}))
        answers = {run["run_id"]: run.get("answer", "") for run in result["runs"]}
        assert answers[quick].startswith("Done: test. 1 steps") and "You said: ok" in answers[asking]
        counts = {run["run_id"]: run["messages"]["by_type"] for run in result["runs"]}
        assert counts[asking]["QUESTION"] == 1 and counts[quick]["ANSWER"] == 1
