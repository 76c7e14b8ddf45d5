"""Fair shares of the upstream connection pool: per-credential slots for requests and event streams.

Every credential view of a client shares one httpx2 pool. Without shares, one caller following a
hundred runs holds a hundred connections and every other caller's request waits for the pool. So:
- each credential has at most `caller_requests` requests in flight; one more waits for a slot at
  most `queue_seconds`, then fails with `CallerBusyError` (a clear error, never an endless wait);
- each credential holds at most `caller_streams` event streams, and all credentials together at
  most `pool_streams` (two thirds of the pool), so ordinary requests always find connections. A
  stream that finds no slot is not refused: its run is followed by polling `/updates` over
  short requests until a slot frees up (see `_streaming.Follower`), so one wait can follow many
  runs over a few connections.
Slots are shared by every view of one credential (looked up by a hash of it, never the secret).
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import httpx2

from mcp_agents.client import _constants as C
from mcp_agents.client.errors import CallerBusyError


@dataclass(frozen=True)
class UpstreamLimits:
    """The pool and each credential's share of it (the settings `MCP_AGENTS_UPSTREAM_*` / `_CALLER_*`)."""

    connections: int = C.POOL_CONNECTIONS
    caller_requests: int = C.CALLER_REQUESTS
    caller_streams: int = C.CALLER_STREAMS
    queue_seconds: float = C.CALLER_QUEUE_SECONDS

    def __post_init__(self) -> None:
        if min(self.connections, self.caller_requests, self.caller_streams) < 1 or self.queue_seconds <= 0:
            raise ValueError("upstream limits must be positive")

    @property
    def pool_streams(self) -> int:
        """Streams of all callers together: two thirds of the pool, the rest is kept for requests."""
        return max(1, self.connections * 2 // 3)

    def http_limits(self) -> httpx2.Limits:
        """The connection pool's own limits: `connections`, of which `POOL_KEEPALIVE` kept alive when idle."""
        return httpx2.Limits(max_connections=self.connections,
                             max_keepalive_connections=min(self.connections, C.POOL_KEEPALIVE))


class StreamSlot:
    """A held stream slot (the caller's and the pool's); `release()` is idempotent."""

    def __init__(self, *semaphores: anyio.Semaphore) -> None:
        self._semaphores = semaphores
        self._held = True

    def release(self) -> None:
        if self._held:
            self._held = False
            for semaphore in self._semaphores:
                semaphore.release()


class CallerSlots:
    """One credential's slots (shared by all its views through `SlotTable`)."""

    def __init__(self, limits: UpstreamLimits, pool_streams: anyio.Semaphore) -> None:
        self._limits = limits
        self._requests = anyio.Semaphore(limits.caller_requests)
        self._streams = anyio.Semaphore(limits.caller_streams)
        self._pool_streams = pool_streams

    @asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        """Hold a request slot for the body of the block; wait for one at most `queue_seconds`."""
        acquired = False
        with anyio.move_on_after(self._limits.queue_seconds):  # bounds the wait only, never the request
            await self._requests.acquire()
            acquired = True
        if acquired:
            try:
                yield
            finally:
                self._requests.release()
            return
        raise CallerBusyError(
            f"this credential already has {self._limits.caller_requests} requests to the Agent Runs API in flight "
            f"and none finished within {self._limits.queue_seconds:g} s; retry when some of your calls have "
            "finished (the server's operator sets the share with MCP_AGENTS_CALLER_REQUESTS)")

    def stream(self) -> StreamSlot | None:
        """A stream slot if one is free now (this credential's and the pool's), else None: follow by polling."""
        try:
            self._streams.acquire_nowait()
        except anyio.WouldBlock:
            return None
        try:
            self._pool_streams.acquire_nowait()
        except anyio.WouldBlock:
            self._streams.release()
            return None
        return StreamSlot(self._streams, self._pool_streams)

    @property
    def stream_free(self) -> bool:
        return self._streams.value > 0 and self._pool_streams.value > 0


class SlotTable:
    """The slots of every credential using one pool; a credential's entry lives while a view holds it."""

    def __init__(self, limits: UpstreamLimits) -> None:
        self.limits = limits
        self._pool_streams = anyio.Semaphore(limits.pool_streams)
        self._callers: weakref.WeakValueDictionary[str, CallerSlots] = weakref.WeakValueDictionary()

    def for_credential(self, fingerprint: str) -> CallerSlots:
        slots = self._callers.get(fingerprint)
        if slots is None:
            slots = CallerSlots(self.limits, self._pool_streams)
            self._callers[fingerprint] = slots
        return slots
