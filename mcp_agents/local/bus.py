"""In-process publish/subscribe of committed messages, per run.

Publishers call `publish` only after the messages are committed, so a subscriber never sees a
message that a crash could lose. `END` tells a subscriber that the run reached a terminal status.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from mcp_agents.local.config import SUBSCRIBER_QUEUE_MAX

END: dict[str, Any] = {"__end__": True}
CLOSED: dict[str, Any] = {"__closed__": True}


class Subscription:
    def __init__(self, bus: Bus, run_id: str) -> None:
        self.bus = bus
        self.run_id = run_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.dropped = False

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.bus.unsubscribe(self)


class Bus:
    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = defaultdict(set)

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
        for sub in list(self._subs.get(run_id, ())):
            if sub.queue.qsize() + len(messages) > SUBSCRIBER_QUEUE_MAX:
                sub.dropped = True  # too slow: it is closed and resumes with `since`
                sub.queue.put_nowait(CLOSED)
                self.unsubscribe(sub)
                continue
            for message in messages:
                sub.queue.put_nowait(message)

    def end(self, run_id: str) -> None:
        self.publish(run_id, [END])

    def close_all(self) -> None:
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.queue.put_nowait(CLOSED)
        self._subs.clear()
