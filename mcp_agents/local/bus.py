"""In-process publish/subscribe of committed messages, per run.

Publishers call `publish` only after the messages are committed, so a subscriber never sees a
message that a crash could lose. `END` tells a subscriber that the run reached a terminal status.
Each message is serialized to its SSE frame once, in `publish`, and the same bytes are shared by
every subscriber (with many followers, per-subscriber serialization dominated the fan-out cost).
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any, NamedTuple

from mcp_agents.local.config import SUBSCRIBER_QUEUE_BYTES_MAX, SUBSCRIBER_QUEUE_MAX
from mcp_agents.local.records import SEQ


class Frame(NamedTuple):
    """A committed message as its Server-Sent Events frame (`ts` is its SSE id; `seq` its stored order,
    which tells apart the messages of one millisecond)."""

    ts: int
    data: bytes
    seq: int = 0


def compact_json(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def sse_frame(message: dict[str, Any], encode: Callable[[dict[str, Any]], str] = compact_json,
              seq: int | None = None) -> Frame:
    """The frame of a stored message; `seq` defaults to the row id `records.insert_messages` left on it."""
    body = {key: value for key, value in message.items() if key != SEQ}
    text = f"id: {message['ts']}\ndata: {encode(body)}\n\n"
    return Frame(int(message["ts"]), text.encode(), int(message.get(SEQ, 0) if seq is None else seq))


END = Frame(-1, b"", -1)  # the run reached a terminal status
CLOSED = Frame(-2, b"", -2)  # the subscriber was dropped (too slow) or the service is stopping


class Subscription:
    def __init__(self, bus: Bus, run_id: str) -> None:
        self.bus = bus
        self.run_id = run_id
        self.queue: asyncio.Queue[Frame] = asyncio.Queue()
        self.queued_bytes = 0  # of the frames in `queue`: the reader subtracts what it takes
        self.dropped = False

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.bus.unsubscribe(self)


class Bus:
    """`encode` writes a stored message as the wire's JSON (the seed's as stored, or the hosted compact one)."""

    def __init__(self, encode: Callable[[dict[str, Any]], str] = compact_json) -> None:
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        self.encode = encode

    def subscribe(self, run_id: str) -> Subscription:
        sub = Subscription(self, run_id)
        self._subs[run_id].add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.run_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subs[sub.run_id]

    def publish(self, run_id: str, messages: list[dict[str, Any]]) -> None:
        subs = self._subs.get(run_id)
        if subs:
            self._put(subs, [sse_frame(message, self.encode) for message in messages])

    def _put(self, subs: set[Subscription], frames: list[Frame]) -> None:
        size = sum(len(frame.data) for frame in frames)
        for sub in list(subs):
            if (sub.queue.qsize() + len(frames) > SUBSCRIBER_QUEUE_MAX
                    or sub.queued_bytes + size > SUBSCRIBER_QUEUE_BYTES_MAX):
                sub.dropped = True  # too slow: it is closed and resumes with `since`
                sub.queue.put_nowait(CLOSED)
                self.unsubscribe(sub)
                continue
            sub.queued_bytes += size
            for frame in frames:
                sub.queue.put_nowait(frame)

    def end(self, run_id: str) -> None:
        subs = self._subs.get(run_id)
        if subs:
            self._put(subs, [END])

    def close_all(self) -> None:
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.queue.put_nowait(CLOSED)
        self._subs.clear()
