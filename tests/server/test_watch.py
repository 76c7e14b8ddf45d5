"""`Watch`, the per-run accumulator of waits and tasks: cursors and turns from the messages it is fed."""

from __future__ import annotations

from typing import Any

from mcp_agents.models import AgentMessage, AgentRun
from mcp_agents.models.cursor import Cursor
from mcp_agents.server.tools.results import WAITING
from mcp_agents.server.waiting import Watch


def msg(kind: str, text: str = "", ts: int = 100, **extra: Any) -> AgentMessage:
    return AgentMessage.model_validate({"t": kind, "m": text, "ts": ts, **extra})


def fed(*messages: AgentMessage, since: Cursor | None = None) -> Watch:
    watch = Watch("run-1", since) if since is not None else Watch("run-1")
    watch.read(list(messages))
    watch.caught_up = True
    return watch


def test_an_answered_turn_settles_with_its_answer() -> None:
    watch = fed(msg("THOUGHT", "thinking", 99), msg("ANSWER", "42"), msg("IDLE", "Waiting for your command..."))
    result = watch.result()
    assert watch.settled and result.turn == WAITING and not result.done and result.answer == "42"
    assert result.cursor == "100:2" and result.question is None


def test_child_workstreams_and_child_runs_never_end_the_turn() -> None:
    watch = fed(msg("THOUGHT", "working", 99), msg("IDLE", "child idle", w="ws-2"),
                msg("COMPLETE", "child done", d={"process_run_id": "child"}),
                msg("TERMINATED", "child stopped", d={"process_run_id": "child"}))
    assert not watch.settled and watch.result().turn is None


def test_a_question_and_the_idle_after_it_leave_the_question_pending() -> None:
    watch = fed(msg("QUESTION", "Which colour?"), msg("IDLE", "Waiting for your command..."))
    result = watch.result()
    assert watch.settled and result.turn == WAITING and result.question == "Which colour?"


def test_after_an_answer_the_questions_idle_does_not_end_the_new_turn() -> None:
    watch = fed(msg("QUESTION", "Which colour?"))
    watch.answered()
    watch.take(msg("IDLE", "Waiting for your command...", 101))  # posted after the question, before the answer
    assert not watch.settled
    watch.take(msg("ANSWER", "teal", 102))
    watch.take(msg("IDLE", "Waiting for your command...", 102))
    assert watch.settled and watch.result().answer == "teal" and watch.result().question is None


def test_a_wait_resumed_at_a_question_skips_the_idle_that_follows_it() -> None:
    history = [msg("QUESTION", "Which colour?"), msg("IDLE", "Waiting", 100)]  # one millisecond
    watch = fed(*history, since=Cursor(100, 1))  # the previous wait stopped on the question
    assert watch.count == 1 and not watch.settled  # the IDLE is new but belongs to the question
    watch.take(msg("ANSWER", "teal", 101))
    watch.take(msg("IDLE", "Waiting", 101))
    assert watch.settled and watch.result().answer == "teal"


def test_a_done_run_is_reported_done_not_waiting() -> None:
    watch = fed(msg("ANSWER", "42"), msg("COMPLETE", "Run completed"))
    assert not watch.settled
    watch.see(AgentRun.model_validate({"id": "run-1", "status": "completed"}))
    assert watch.settled and watch.result().done and watch.result().turn is None


def test_state_round_trip_keeps_cursor_turn_and_question() -> None:
    watch = fed(msg("ANSWER", "a", 99), msg("REQUEST_INPUT", "Your file?"), msg("IDLE", "Waiting"))
    again = Watch.load("run-1", watch.dump())
    assert again.cursor == watch.cursor == Cursor(100, 2)
    assert again.question == "Your file?" and again.turn.state is watch.turn.state
    assert Watch.load("run-1", {"since": 1234}).cursor == Cursor(1234)  # a legacy integer cursor


def test_the_digest_keeps_the_newest_lines_also_across_a_state_round_trip() -> None:
    watch = fed(*(msg("THOUGHT", f"step {index}", 100 + index) for index in range(8)))
    last = watch.result().messages.last
    assert [line.rsplit(" ", 1)[-1] for line in last] == ["3", "4", "5", "6", "7"]
    restored = Watch.load("run-1", {**watch.dump(), "last": [f"THOUGHT main: step {n}" for n in range(8)]})
    assert restored.result().messages.last == [f"THOUGHT main: step {n}" for n in range(3, 8)]
