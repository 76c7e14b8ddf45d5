"""Turns: an answered turn ends on IDLE; child workstreams and passive updates never end it."""

from __future__ import annotations

from mcp_agents.models import AgentMessage
from mcp_agents.models.turns import Turn, TurnState, turn_effect


def m(t: int, text: str = "", **extra: object) -> AgentMessage:
    return AgentMessage.model_validate({"t": t, "m": text, **extra})


THOUGHT, UPDATE, COMPLETE, ANSWER, QUESTION, REQUEST_INPUT, IDLE, TERMINATED = 1, 3, 4, 7, 8, 9, 10, 11


def feed(*messages: AgentMessage) -> Turn:
    turn = Turn()
    for message in messages:
        turn.take(message)
    return turn


def test_an_answer_then_idle_ends_the_turn_without_a_question() -> None:
    turn = feed(m(THOUGHT, "thinking"), m(ANSWER, "42"), m(IDLE, "Waiting for your command..."))
    assert turn.state is TurnState.WAITING and turn.idle and turn.over
    assert turn.ended_by is not None and turn.ended_by.message.startswith("Waiting")


def test_a_question_stays_pending_through_the_idle_after_it() -> None:
    turn = feed(m(QUESTION, "Which region?"), m(IDLE))
    assert turn.state is TurnState.WAITING and not turn.idle
    assert turn.question is not None and turn.question.message == "Which region?"
    turn.take(m(THOUGHT, "got it"))
    assert turn.state is TurnState.WORKING and turn.question is None


def test_request_input_complete_and_terminated() -> None:
    assert feed(m(REQUEST_INPUT)).state is TurnState.WAITING
    assert feed(m(COMPLETE, "done")).state is TurnState.ENDED
    assert feed(m(TERMINATED, w="ws-1")).state is TurnState.ENDED


def test_child_workstreams_child_runs_and_passive_updates_do_not_touch_the_turn() -> None:
    assert turn_effect(m(IDLE, w="research")) is None
    assert turn_effect(m(COMPLETE, w="research")) is None
    assert turn_effect(m(TERMINATED, d={"process_run_id": "child-1"})) is None
    assert turn_effect(m(UPDATE, "chart.png", d={"event_class": "artifact_updated"})) is None
    turn = feed(m(ANSWER, "a"), m(IDLE), m(UPDATE, "f", d={"event_class": "artifact_updated"}), m(THOUGHT, w="x"))
    assert turn.state is TurnState.WAITING


def test_a_turn_read_from_a_cursor_starts_working() -> None:
    assert Turn().state is TurnState.WORKING and not Turn().over
