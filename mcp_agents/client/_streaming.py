"""Following a run's messages: history, then SSE, with gap-free resume, dedupe and a polling fallback.

The protocol is the official client's (live-service-notes, "How the official client follows a run"):
1. `GET /updates?since=` for the history.
2. SSE `GET /stream?since=<cursor.since>&skipHistory=true`. The cursor (`models.cursor`) is the last
   delivered millisecond and how many of its messages were delivered: the service may give any number
   of messages the same `ts`, so every read (history, stream, reconnect, poll) asks for one millisecond
   early and skips the messages of that millisecond already delivered (`Position`).
   With no history the stream starts at the time the history request started, minus a margin (the
   official client uses one millisecond; a wider margin also covers commit lag and clock skew, at no cost).
3. A dropped connection reconnects with exponential backoff and jitter, resolving the credential
   again each time (a long stream outlives a JWT); a connection that stayed up `stable_after`
   seconds resets the attempt counter. 401/403/404 (and other 4xx but 429) are raised, not retried.
4. After `max_attempts` failures it polls `/updates` every `poll_interval` seconds, checks the run's
   status, and tries SSE again every `sse_retry_interval` seconds.
5. A stream needs one of its credential's stream slots (`_limits.py`). With none free, the run is
   followed by polling, as in 4, until a slot frees up: one caller following many runs holds a
   bounded number of connections and the rest of the pool stays free for everyone else.
The iterator ends after the run's own end-of-run message (`AgentMessage.ends_run`) or once the run's
status is terminal and the remaining `/updates` are drained. Each message is yielded once, in order.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass

import anyio
import httpx2
from pydantic import ValidationError

from mcp_agents.client import _constants as C
from mcp_agents.client._paths import segment
from mcp_agents.client._request import Requester, decode_json
from mcp_agents.client.errors import APIConnectionError, RateLimitError, ServerError, error_from_response, redact
from mcp_agents.models import AgentMessage, AgentRun
from mcp_agents.models.cursor import Cursor, Position
from mcp_agents.models.paths import RUN, STREAM, UPDATES

logger = logging.getLogger("mcp_agents.client.stream")
_SNIPPET = 120


@dataclass(frozen=True)
class StreamPolicy:
    """Timing of `messages.stream()`. Tests shrink it; production keeps the defaults."""

    read_timeout: float = C.STREAM_READ_TIMEOUT
    connect_timeout: float = C.DEFAULT_CONNECT_TIMEOUT
    base_delay: float = C.STREAM_BASE_DELAY
    max_delay: float = C.STREAM_MAX_DELAY
    jitter: float = C.STREAM_JITTER
    max_attempts: int = C.STREAM_MAX_ATTEMPTS
    stable_after: float = C.STREAM_STABLE_AFTER
    poll_interval: float = C.STREAM_POLL_INTERVAL
    sse_retry_interval: float = C.STREAM_SSE_RETRY_INTERVAL
    max_poll_failures: int = C.STREAM_MAX_POLL_FAILURES

    def backoff(self, attempt: int) -> float:
        """Delay before reconnect number `attempt` (1-based)."""
        delay = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempt - 1))
        return delay * (1 + self.jitter * (2 * random.random() - 1))


class _Resume:
    """Where the stream stands (the one cursor rule, `Position`), plus the first connection's floor."""

    def __init__(self, since: Cursor) -> None:
        self.position = Position(since)
        self.floor = 0
        """Lowest `since` to resume from while nothing was delivered (the history request's start)."""

    def accept(self, message: AgentMessage) -> bool:
        """True when `message` is new; moves the cursor past it."""
        if not self.position.accept(message):
            return False
        if message.timestamp is not None:
            self.floor = 0  # from the first placed message on, resume from the cursor
        return True

    def resume_since(self) -> int:
        """The `since` of the next read; the messages of the cursor's millisecond that come back are skipped."""
        self.position.restart()
        return max(self.floor, self.position.cursor.since)


class Follower:
    """One `messages.stream()` iteration; `run()` is the async iterator."""

    def __init__(self, requester: Requester, run_id: str, since: Cursor, policy: StreamPolicy, *,
                 read_history: bool = True) -> None:
        self._requester = requester
        self._read_history = read_history
        self._run_id = run_id
        self._encoded = segment(run_id, "run id")
        self._since = since
        self._policy = policy
        self._resume = _Resume(since)
        self._done = False
        self._poll_failures = 0
        """Failed polls in a row, across SSE retries: the outage bound (`max_poll_failures`)."""

    async def run(self) -> AsyncGenerator[AgentMessage]:
        started_ms = int(time.time() * 1000)
        # Without reading it, the history counts as empty: the caller read it up to `since` just before.
        for message in await self._first_history() if self._read_history else ():
            if self._resume.accept(message):
                yield message
                if message.ends_run:
                    return
        if self._resume.position.cursor == self._since and (self._read_history or self._since.is_start):
            # No history: start the stream a little before the history request started, so nothing emitted in
            # between is lost. Only the resume point moves; the position still accepts older timestamps, so a
            # service clock behind ours cannot make us drop what it sends. A caller that read the history
            # itself up to a cursor resumes from exactly that cursor.
            self._resume.floor = started_ms - C.STREAM_HANDOFF_MARGIN_MS
        attempts = 0
        while not self._done:
            if attempts >= self._policy.max_attempts:
                async with aclosing(self._poll()) as polled:
                    async for message in polled:
                        yield message
                attempts = self._policy.max_attempts - 1
                continue
            connected_at: float | None = None
            clean_close = False
            wait_at_least = 0.0
            slot = self._requester.slots.stream()
            if slot is None:
                async with aclosing(self._poll(until_stream_slot=True)) as polled:
                    async for message in polled:
                        yield message
                continue
            try:  # the slot is held while the connection is open
                async with aclosing(self._sse_once()) as events:
                    async for event, opened in events:
                        if event is None:
                            connected_at = time.monotonic() if opened else connected_at
                            self._poll_failures = 0
                            continue
                        yield event
                        if self._done:
                            return
                clean_close = True
            except (httpx2.RequestError, RateLimitError, ServerError) as exc:
                logger.info("stream of run %s dropped (%s); reconnecting", self._run_id, type(exc).__name__)
                if isinstance(exc, RateLimitError) and exc.retry_after is not None:
                    wait_at_least = min(exc.retry_after, self._policy.max_delay)
            finally:
                slot.release()
            if connected_at is not None and time.monotonic() - connected_at >= self._policy.stable_after:
                attempts = 0
            if clean_close:  # the service ends streams of finished runs: check before reconnecting
                async with aclosing(self._drain_if_terminal()) as drained:
                    async for message in drained:
                        yield message
                if self._done:
                    return
            attempts += 1
            if attempts < self._policy.max_attempts:
                await anyio.sleep(max(wait_at_least, self._policy.backoff(attempts)))

    async def _sse_once(self) -> AsyncGenerator[tuple[AgentMessage | None, bool]]:
        """One SSE connection: yields (None, True) once connected, then (message, False) per new message."""
        requester = self._requester
        policy = self._policy
        timeout = httpx2.Timeout(policy.read_timeout, connect=policy.connect_timeout)
        reauthenticated = False
        while True:
            token = await requester.credentials.get()
            params = {"since": str(self._resume.resume_since()), "skipHistory": "true"}
            async with requester.http.sse(requester.url(STREAM.format(run_id=self._encoded)), params=params,
                                          headers=requester.headers(token), timeout=timeout) as source:
                response = source.response
                if response.status_code == 401 and requester.credentials.refreshable and not reauthenticated:
                    reauthenticated = True
                    requester.credentials.invalidate(token)
                    continue
                if response.status_code >= 400:
                    await response.aread()
                    raise error_from_response(response)
                yield None, True
                async for event in source:
                    message = self._parse(event.data)
                    if message is not None and self._resume.accept(message):
                        self._done = message.ends_run
                        yield message, False
                        if self._done:
                            return
                return

    async def _first_history(self) -> list[AgentMessage]:
        """The history before the stream. An outage here is waited out like a dropped stream (polling,
        bounded by `max_poll_failures`), so a stream opened while the service restarts does not fail."""
        failures = 0
        while True:
            try:
                self._resume.position.restart()
                return await self._fetch_updates(self._since.since)
            except (APIConnectionError, ServerError, RateLimitError) as exc:
                failures += 1
                if failures >= self._policy.max_poll_failures:
                    raise
                logger.info("run %s: history not available (%s); retrying", self._run_id, type(exc).__name__)
            await anyio.sleep(self._policy.poll_interval)

    def _parse(self, data: str) -> AgentMessage | None:
        if not data.strip():
            return None
        try:
            raw = json.loads(data)
            if not isinstance(raw, dict):
                raise ValueError("not a JSON object")
            if "t" not in raw and "type" not in raw:
                raise ValueError("no message type ('t' or 'type')")
            return AgentMessage.model_validate(raw)
        except (ValueError, ValidationError) as exc:
            logger.warning("run %s: skipped a malformed stream event (%s): %s", self._run_id,
                           type(exc).__name__, redact(data[:_SNIPPET]))
            return None

    async def _fetch_updates(self, since: int) -> list[AgentMessage]:
        response = await self._requester.request("GET", UPDATES.format(run_id=self._encoded),
                                                 params={"since": since})
        body = decode_json(response)
        raw = body.get("messages") if isinstance(body, dict) else body
        out: list[AgentMessage] = []
        for item in raw if isinstance(raw, list) else []:
            try:
                out.append(AgentMessage.model_validate(item))
            except ValidationError:
                logger.warning("run %s: skipped a malformed stored message", self._run_id)
        out.sort(key=lambda m: m.timestamp if m.timestamp is not None else 0)
        return out

    async def _drain(self) -> AsyncGenerator[AgentMessage]:
        for message in await self._fetch_updates(self._resume.resume_since()):
            if self._resume.accept(message):
                yield message
                if message.ends_run:
                    self._done = True
                    return

    async def _run_is_terminal(self) -> bool:
        body = await self._requester.json("GET", RUN.format(run_id=self._encoded))
        try:
            return AgentRun.model_validate(body).is_terminal
        except ValidationError:
            return False

    async def _drain_if_terminal(self) -> AsyncGenerator[AgentMessage]:
        """After a connection ended: if the run is over, yield what is left and finish."""
        try:
            terminal = await self._run_is_terminal()
        except (APIConnectionError, ServerError, RateLimitError):
            return
        if terminal:
            async with aclosing(self._drain()) as drained:
                async for message in drained:
                    yield message
            self._done = True

    async def _poll(self, *, until_stream_slot: bool = False) -> AsyncGenerator[AgentMessage]:
        """Polling fallback until the run ends or it is time to try SSE again (when the stream kept
        failing: after `sse_retry_interval`; when no stream slot was free: once one is)."""
        if until_stream_slot:
            logger.debug("run %s: no stream slot free; polling every %.1f s", self._run_id,
                         self._policy.poll_interval)
        else:
            logger.warning("run %s: the stream keeps failing; polling every %.1f s", self._run_id,
                           self._policy.poll_interval)
        retry_sse_at = time.monotonic() + self._policy.sse_retry_interval
        first = True
        while not self._done:
            if until_stream_slot and not first and self._requester.slots.stream_free:
                return
            first = False
            try:
                async with aclosing(self._drain()) as drained:
                    async for message in drained:
                        yield message
                if self._done:
                    return
                if await self._run_is_terminal():
                    async with aclosing(self._drain()) as drained:
                        async for message in drained:
                            yield message
                    self._done = True
                    return
                self._poll_failures = 0
            except (APIConnectionError, ServerError, RateLimitError):
                self._poll_failures += 1
                if self._poll_failures >= self._policy.max_poll_failures:
                    raise
            if not until_stream_slot and time.monotonic() >= retry_sse_at:
                return
            await anyio.sleep(self._policy.poll_interval)


def follow(requester: Requester, run_id: str, since: Cursor, policy: StreamPolicy, *,
           read_history: bool = True) -> AsyncIterator[AgentMessage]:
    """The async iterator behind `messages.stream()`; checks the run id at once, before any request."""
    return Follower(requester, run_id, since, policy, read_history=read_history).run()
