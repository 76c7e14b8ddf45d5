"""The message cursor: no message skipped or repeated, whatever number share a millisecond."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mcp_agents.models import AgentMessage
from mcp_agents.models.cursor import START, Cursor, CursorError, Position


def msg(ts: int, text: str = "", **extra: object) -> AgentMessage:
    return AgentMessage.model_validate({"t": 1, "m": text, "ts": ts, **extra})


def read_since(stored: list[AgentMessage], since: int) -> list[AgentMessage]:
    """What the service answers: strictly after `since`, in stored order."""
    return [m for m in stored if m.timestamp is not None and m.timestamp > since]


def test_wire_form_round_trips() -> None:
    assert str(Cursor(1764450000123, 2)) == "1764450000123:2"
    assert Cursor.parse("1764450000123:2") == Cursor(1764450000123, 2)
    assert Cursor.parse(str(Cursor(5))) == Cursor(5)
    assert Cursor.parse(None) == Cursor.parse("") == START
    assert Cursor.parse(17) == Cursor(17) and Cursor(17).since == 17  # legacy: strictly after
    assert Cursor(17, 3).since == 16  # counted: one millisecond early, then skip three


@pytest.mark.parametrize("bad", [-1, "x", "1:x", "1:", ":2", "-1:2", "1.5", True, 1.5, "١٢", "9" * 41,
                                 "1:²", "1:\u0661"])
def test_foreign_cursors_are_refused_with_help(bad: object) -> None:
    with pytest.raises(CursorError, match="opaque string a previous result returned"):
        Cursor.parse(bad)


def test_tool_calls_sharing_a_millisecond_are_all_delivered_once() -> None:
    # Two tool-call THOUGHTs with no text and no activity id, one millisecond: only details tell them apart.
    a = AgentMessage.model_validate({"t": 1, "ts": 10, "d": {"tool": "search", "args": {"q": "a"}}})
    b = AgentMessage.model_validate({"t": 1, "ts": 10, "d": {"tool": "search", "args": {"q": "b"}}})
    assert a.identity() != b.identity()
    stored = [msg(9), a, b, msg(11)]
    position = Position()
    first = position.take(read_since(stored, position.cursor.since)[:2])  # a read that stops between a and b
    assert first == [stored[0], a]
    rest = position.take(read_since(stored, position.cursor.since))
    assert rest == [b, stored[3]]


def test_identity_ignores_key_order_of_details() -> None:
    a = AgentMessage.model_validate({"t": 1, "ts": 1, "d": {"x": 1, "y": 2}})
    b = AgentMessage.model_validate({"t": 1, "ts": 1, "d": {"y": 2, "x": 1}})
    assert a.identity() == b.identity()


def test_a_legacy_integer_cursor_means_after_that_millisecond() -> None:
    stored = [msg(10, "a"), msg(10, "b"), msg(11, "c")]
    position = Position(Cursor.parse(10))
    assert [m.message for m in position.take(read_since(stored, position.cursor.since))] == ["c"]


def test_a_reconnect_mid_millisecond_replays_nothing() -> None:
    stored = [msg(10, "a"), msg(10, "b"), msg(10, "c")]
    position = Position()
    assert position.accept(stored[0]) and position.accept(stored[1])
    assert position.cursor == Cursor(10, 2)
    # The stream drops; the reconnect reads from one millisecond early and gets a, b again first.
    assert [m.message for m in position.take(read_since(stored, position.cursor.since))] == ["c"]
    assert position.cursor == Cursor(10, 3)


def test_a_late_message_on_a_live_stream_is_delivered_and_the_cursor_stays() -> None:
    position = Position(Cursor(20, 1))
    assert position.accept(msg(15, "late"))
    assert position.cursor == Cursor(20, 1)


@given(st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=60),
       st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=30),
       st.randoms(use_true_random=False))
def test_paging_and_resuming_deliver_every_message_once_in_order(gaps: list[int], pages: list[int],
                                                                  rnd: random.Random) -> None:
    """Any burst shape, any page sizes, cursors passed through their wire form: exactly once, in order."""
    ts, stored = 1_000, []
    for index, gap in enumerate(gaps):
        ts += gap
        stored.append(msg(ts, f"m{index}"))
    delivered: list[AgentMessage] = []
    wire = str(START)
    for size in pages * (len(stored) + 1):
        position = Position(Cursor.parse(wire))
        page: list[AgentMessage] = []
        for message in read_since(stored, position.cursor.since):  # a page stops after `size` new messages
            if len(page) == size:
                break
            if position.accept(message):
                page.append(message)
        delivered.extend(page)
        wire = str(position.cursor) if rnd.random() < 0.9 else str(Cursor.parse(str(position.cursor)))
        if len(delivered) == len(stored):
            break
    assert [m.message for m in delivered] == [m.message for m in stored]


def test_after_a_complete_read_a_later_message_of_the_cursor_millisecond_is_new() -> None:
    # The cursor says two messages of ms 10 were delivered, but the read gives back only one (the service
    # dropped one): once the read is over, a message of ms 10 that arrives live is new, not a skipped one.
    position = Position(Cursor(10, 2))
    assert position.take([msg(10, "a")]) == []
    late = msg(10, "c")
    assert position.accept(late) and position.cursor == Cursor(10, 3)
