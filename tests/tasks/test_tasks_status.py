"""Run -> task, from the messages alone: statuses, questions, answers traces, and turns that stay ended.

These feed `derive` the messages a service returns (the shapes of the hosted service's turns:
QUESTION then IDLE in one millisecond, ANSWER then IDLE, COMPLETE, TERMINATED, a failed run).
"""

from __future__ import annotations

from typing import Any

import pytest

from mcp_agents.models import AgentMessage, AgentRun
from mcp_agents.models.cursor import START, Cursor
from mcp_agents.server.tasks.ids import TaskIdError, TaskKeys, TaskRef
from mcp_agents.server.tasks.status import MARKER_EVENT, MARKER_WORKSTREAM, derive, question_key
from mcp_agents.server.tools.results import RunsUpdate

RUN = "run-1"


def msg(kind: str, text: str = "", ts: int = 1000, **extra: Any) -> AgentMessage:
    return AgentMessage.model_validate({"t": kind, "m": text, "ts": ts, **extra})


def trace(question: AgentMessage, action: str, ts: int, nonce: str = "n1") -> AgentMessage:
    return msg("UPDATE", "trace", ts, w=MARKER_WORKSTREAM,
               d={"event_class": MARKER_EVENT, "question": question_key(question), "action": action, "nonce": nonce})


def run(status: str = "running") -> AgentRun:
    return AgentRun(id=RUN, status=status, interaction_name="Demo")


def ref(start: Cursor = START) -> TaskRef:
    return TaskRef(RUN, start, 900)


def test_a_question_then_idle_is_input_required_with_a_stable_key_and_an_answer_moves_it_on() -> None:
    question = msg("QUESTION", "Which colour?", 1001)
    history = [msg("THOUGHT", "thinking", 1000), question, msg("IDLE", "Waiting for your command...", 1001)]
    view = derive(ref(), run(), history)
    assert view.status == "input_required" and [q.key for q in view.questions] == [question_key(question)]
    assert derive(ref(), run(), history).questions[0].key == view.questions[0].key  # stable across polls
    answered = derive(ref(), run(), [*history, trace(question, "accept", 1002)])
    assert answered.status == "working" and not answered.questions  # delivered; the agent resumes
    resumed = [*history, trace(question, "accept", 1002), msg("THOUGHT", "on it", 1003),
               msg("ANSWER", "teal it is", 1004), msg("IDLE", "Waiting for your command...", 1004)]
    done = derive(ref(), run(), resumed)
    assert done.status == "completed" and done.result is not None and not done.result.is_error
    (update,) = RunsUpdate.model_validate(done.result.structured_content).runs
    assert update.answer == "teal it is" and update.question is None


def test_a_finished_turn_stays_finished_whatever_the_run_does_next() -> None:
    turn = [msg("THOUGHT", "work", 1000), msg("ANSWER", "42", 1001), msg("IDLE", "", 1001)]
    later = [msg("THOUGHT", "a new turn", 1005), msg("QUESTION", "more?", 1006), msg("RESTARTING", "", 1007)]
    first = derive(ref(), run(), turn)
    again = derive(ref(), run("failed"), [*turn, *later])
    assert first.status == again.status == "completed"
    assert first.result is not None and again.result is not None
    assert first.result.structured_content == again.result.structured_content


def test_a_declined_question_ends_the_task_with_the_question_for_the_model() -> None:
    question = msg("QUESTION", "Which colour?", 1001)
    view = derive(ref(), run(), [question, msg("IDLE", "", 1001), trace(question, "decline", 1002),
                                 trace(question, "accept", 1003, "late")])
    assert view.status == "completed" and view.result is not None
    (update,) = RunsUpdate.model_validate(view.result.structured_content).runs
    assert update.question == "Which colour?" and update.note and "send_agent_input" in update.note


def test_two_questions_at_once_stay_pending_until_both_are_answered() -> None:
    first, second = msg("QUESTION", "First?", 1001), msg("QUESTION", "Second?", 1001)
    history = [first, second]
    assert len(derive(ref(), run(), history).questions) == 2
    partial = derive(ref(), run(), [*history, trace(first, "accept", 1002)])
    assert partial.status == "input_required" and [q.text for q in partial.questions] == ["Second?"]
    assert derive(ref(), run(), [*history, trace(first, "accept", 1002), trace(second, "accept", 1003)]).status \
        == "working"


@pytest.mark.parametrize(("record", "messages", "status", "is_error"), [
    ("completed", [msg("ANSWER", "done", 1001), msg("COMPLETE", "Run completed", 1002)], "completed", False),
    ("failed", [msg("ERROR", "disk full", 1001)], "completed", True),
    ("cancelled", [msg("TERMINATED", "Terminated", 1001)], "cancelled", None),
    ("running", [msg("ERROR", "disk full", 1001), msg("RESTARTING", "Run restarted", 1002)], "completed", True),
])
def test_how_a_run_ends_is_how_its_task_ends(record: str, messages: list[AgentMessage], status: str,
                                            is_error: bool | None) -> None:
    view = derive(ref(), run(record), [msg("THOUGHT", "work", 1000), *messages])
    assert view.status == status
    assert (view.result.is_error if view.result is not None else None) == is_error


def test_a_turn_that_starts_mid_millisecond_ignores_what_came_before_it() -> None:
    history = [msg("ANSWER", "old turn", 1000), msg("IDLE", "", 1000), msg("THOUGHT", "new turn", 1000)]
    view = derive(ref(Cursor(1000, 2)), run(), history)
    assert view.status == "working"  # the old IDLE is before the start: it does not end this turn


def test_task_ids_are_sealed_and_rotate() -> None:
    old, new = TaskKeys.from_secret("old-key-0123456789abcdef0123456789"), TaskKeys.from_secret(
        "new-key-0123456789abcdef0123456789,old-key-0123456789abcdef0123456789")
    assert old is not None and new is not None
    task_id = old.seal(RUN, Cursor(1000, 2))
    opened = new.open(task_id)  # an id sealed with the old key opens while it is still listed
    assert (opened.run_id, opened.start) == (RUN, Cursor(1000, 2))
    assert new.open(new.seal(RUN, START)).run_id == RUN
    for forged in (task_id[:-1] + ("A" if task_id[-1] != "A" else "B"), task_id.replace("t1.", "t2."), "", 42):
        with pytest.raises(TaskIdError, match="unknown task id"):
            new.open(forged)
    with pytest.raises(TaskIdError, match="expired"):
        new.open(task_id, now_ms=opened.expires_ms + 1)
