"""The one message cursor: a position in a run's message stream that survives shared milliseconds.

The hosted service stamps messages with the producer's clock, so any number of messages of a run
can share one millisecond, and `since` means strictly after. A bare timestamp therefore cannot say
"after the second of the five messages stamped 1764450000123": resuming strictly after it loses
the other three, resuming at it repeats the first two. A `Cursor` carries the timestamp of the
last delivered message and how many messages of that millisecond were delivered. It resumes by
asking for one millisecond earlier (`since`) and skipping that many messages of that millisecond,
which the service returns first and in the order it stores them (a stable order).

On the wire (tool arguments and results, resource URIs, the 2026-07-28 request state) a cursor
is an opaque string, `"<ms>:<count>"`. A plain integer (or digit string) is still accepted, with
its old meaning: everything stamped at or before that millisecond was delivered.

`Position` is the mutable side: it filters what a read or a stream returns against the cursor and
moves the cursor along, so that every reader (waits, paging, subscriptions, the stream's resume)
applies exactly one rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

SEPARATOR = ":"
MAX_CURSOR_LENGTH = 40


class Stamped(Protocol):
    @property
    def timestamp(self) -> int | None: ...


class CursorError(ValueError):
    """A cursor that is not one this project returned (the message says what a cursor is)."""


@dataclass(frozen=True, slots=True)
class Cursor:
    """Messages stamped before `ts`, and the first `seen` of those stamped `ts`, were delivered.

    `seen is None` means every message stamped `ts` was delivered (a legacy integer cursor, or the
    start: `Cursor(0)`).
    """

    ts: int = 0
    seen: int | None = None

    @classmethod
    def parse(cls, value: object) -> Cursor:
        """A cursor from its wire form (`"<ms>:<count>"`, an integer, a digit string, or None for the start)."""
        if value is None or value == "":
            return START
        if isinstance(value, Cursor):
            return value
        if isinstance(value, bool):
            raise CursorError(_HELP)
        if isinstance(value, int):
            if value < 0:
                raise CursorError(_HELP)
            return cls(value)
        if not isinstance(value, str) or len(value) > MAX_CURSOR_LENGTH:
            raise CursorError(_HELP)
        text = value.strip()
        ts_text, sep, seen_text = text.partition(SEPARATOR)
        if not text.isascii() or not ts_text.isdigit() or (sep and not seen_text.isdigit()):
            raise CursorError(_HELP)
        seen = int(seen_text) if sep else None
        return cls(int(ts_text), seen)

    def __str__(self) -> str:
        return str(self.ts) if self.seen is None else f"{self.ts}{SEPARATOR}{self.seen}"

    @property
    def is_start(self) -> bool:
        return self.ts == 0 and self.seen is None

    @property
    def since(self) -> int:
        """The `since` to ask the service for (strictly after): one millisecond early when some of `ts` are left."""
        if self.seen is None:
            return self.ts
        return max(0, self.ts - 1)

    def covers(self, other: Cursor) -> bool:
        """True when this cursor is at or after `other`."""
        if self.ts != other.ts:
            return self.ts > other.ts
        if self.seen is None:
            return True
        return other.seen is not None and self.seen >= other.seen


START = Cursor()
_HELP = ("a cursor is the opaque string a previous result returned (e.g. '1764450000123:2'); "
         "omit it to start from the first message")


class Position:
    """Where a reader stands: filters messages read from `cursor.since` on, and advances the cursor.

    Feed it every message a read or a stream returns, in the service's order; `accept` answers
    whether the message is new (to deliver) and moves the cursor past it. A reconnect resumes from
    `cursor` again (`restart()`): the messages of the cursor's millisecond that come back are skipped.
    """

    __slots__ = ("_skip", "cursor")

    def __init__(self, cursor: Cursor = START) -> None:
        self.cursor = cursor
        self._skip: int | None = cursor.seen

    def restart(self) -> None:
        """A new read from `cursor.since`: the messages of its millisecond come back and are skipped again."""
        self._skip = self.cursor.seen

    def accept(self, message: Stamped) -> bool:
        ts = message.timestamp
        cursor = self.cursor
        if ts is None:
            return True  # cannot be placed: delivered as it comes (stored messages always carry a time)
        if ts < cursor.ts:
            # Older than the cursor: a read from `since` never returns one, so it is a late message on a live
            # stream (another producer's clock). It is new; the cursor cannot move back to it, nor must it.
            return True
        if ts == cursor.ts:
            if self._skip is None:
                return False  # everything of this millisecond was delivered (legacy cursor)
            if self._skip > 0:
                self._skip -= 1
                return False
            self.cursor = Cursor(ts, (cursor.seen or 0) + 1)
            return True
        self.cursor = Cursor(ts, 1)
        self._skip = 0
        return True

    def settle(self) -> None:
        """A complete read from `cursor.since` is over: whatever of the cursor's millisecond it did not return
        will not come back, so a later message of that millisecond (a live stream's) is new."""
        if self._skip:
            self._skip = 0

    def take(self, messages: Any) -> list[Any]:
        """The new messages among `messages` (a complete read from `cursor.since`), in order."""
        self.restart()
        new = [message for message in messages if self.accept(message)]
        self.settle()
        return new
