"""A real fault-injecting HTTP reverse proxy for reliability tests.

It listens on a free loopback port and forwards every request (raw path and query kept, so
percent-encoding survives) to `upstream_url`, streaming answers back. Faults are switched on at
runtime and apply to the requests that follow:

    async with FaultProxy("http://127.0.0.1:8000") as proxy:
        client = AgentRunsClient(base_url=proxy.url + "/api/v1", ...)
        proxy.cut_streams_after(events=3, times=2)    # the next 2 SSE streams drop after 3 events
        proxy.cut_streams_randomly(max_bytes=400, times=5, seed=7)  # drop at a random byte offset
        proxy.stall_streams_after(events=2)            # go silent, connection left open (read timeout test)
        proxy.fail_next(3, status=503)                # a 503 burst (optionally path_contains=...)
        proxy.fail_next(1, status=429, retry_after="1")
        proxy.set_delay(0.05)                         # delay before forwarding each request
        proxy.set_down(True)                          # upstream unreachable: 502 from the proxy
        proxy.inject_into_streams(b"data: {broken\n\n", times=3)  # raw bytes after each stream's first chunk
        proxy.reset()                                 # all faults off

A cut aborts the connection mid-body (the client sees a protocol/read error, as on a real drop).
`proxy.requests` lists `(method, path)` of everything received (`proxy.count(method, path)` counts
one of them); `proxy.cuts` counts cuts made.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import anyio
import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.serve import serve_app

HOP_HEADERS = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                         "trailer", "transfer-encoding", "upgrade", "host", "content-length"})
UPSTREAM_TIMEOUT = 30.0
STALL_SECONDS = 60.0


class StreamCut(Exception):
    """Raised inside a response body to abort the client connection."""


def _hide_cuts(record: logging.LogRecord) -> bool:
    """Keep uvicorn from logging our deliberate cuts as application errors."""
    exc = record.exc_info[1] if record.exc_info else None
    for _ in range(10):  # the cause chain is short; bounded all the same
        if exc is None:
            break
        if isinstance(exc, StreamCut):
            return False
        exc = exc.__cause__ or exc.__context__ or (exc.exceptions[0] if isinstance(exc, BaseExceptionGroup) else None)
    return True


@dataclass
class _Failure:
    remaining: int
    status: int
    retry_after: str | None
    path_contains: str | None


@dataclass
class _Cut:
    remaining: int
    events: int | None
    max_bytes: int | None
    random_bytes: bool
    stall: bool = False


@dataclass(frozen=True)
class _Claimed:
    events: int | None
    max_bytes: int | None
    stall: bool


class FaultProxy:
    """A reverse proxy between a client and `upstream_url` that injects faults on demand."""

    def __init__(self, upstream_url: str, *, seed: int = 0) -> None:
        self.upstream_url = upstream_url.rstrip("/")
        self.url = ""
        self.requests: list[tuple[str, str]] = []
        self.cuts = 0
        self._random = random.Random(seed)
        self._failures: list[_Failure] = []
        self._cut: _Cut | None = None
        self._delay = 0.0
        self._down = False
        self._inject: tuple[bytes, int] | None = None
        self._http: httpx2.AsyncClient | None = None
        self._server: Any = None
        self._cut_event = anyio.Event()
        self.app = Starlette(routes=[Route("/{path:path}", self._forward,
                                           methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])])

    # ---- faults --------------------------------------------------------------------------------
    def cut_streams_after(self, *, events: int | None = None, bytes: int | None = None, times: int = 1) -> None:
        """Drop the next `times` event streams after `events` SSE events or `bytes` body bytes."""
        self._cut = _Cut(times, events, bytes, random_bytes=False)

    def stall_streams_after(self, *, events: int, times: int = 1) -> None:
        """After `events` data events, the next `times` streams go silent (no bytes, no heartbeats) but stay
        open, like a half-dead connection; the client must notice through its read timeout."""
        self._cut = _Cut(times, events, None, random_bytes=False, stall=True)

    def cut_streams_randomly(self, *, max_bytes: int, times: int, seed: int | None = None) -> None:
        """Drop the next `times` event streams at a random byte offset in [1, max_bytes] (seeded)."""
        if seed is not None:
            self._random.seed(seed)
        self._cut = _Cut(times, None, max_bytes, random_bytes=True)

    def fail_next(self, count: int, *, status: int = 503, retry_after: str | None = None,
                  path_contains: str | None = None) -> None:
        """Answer the next `count` matching requests with `status` (and `Retry-After`) without forwarding."""
        self._failures.append(_Failure(count, status, retry_after, path_contains))

    def set_delay(self, seconds: float) -> None:
        self._delay = seconds

    def set_down(self, down: bool = True) -> None:
        """While down, every request gets a 502 as from a gateway whose upstream is unreachable."""
        self._down = down

    def inject_into_streams(self, raw: bytes, *, times: int = 1) -> None:
        """Insert `raw` (e.g. a malformed SSE event) after the first chunk of the next `times` event streams."""
        self._inject = (raw, times)

    def count(self, method: str, path: str) -> int:
        """How many `method` requests for exactly `path` (raw, without query) were received."""
        return sum(1 for m, p in self.requests if m == method and p == path)

    def reset(self) -> None:
        self._failures.clear()
        self._cut = None
        self._delay = 0.0
        self._down = False
        self._inject = None

    # ---- lifecycle -----------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        logging.getLogger("uvicorn.error").addFilter(_hide_cuts)
        self._http = httpx2.AsyncClient(timeout=UPSTREAM_TIMEOUT)
        self._server = serve_app(self.app)
        self.url = await self._server.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            await self._server.__aexit__(exc_type, exc, tb)
        finally:
            if self._http is not None:
                await self._http.aclose()
            logging.getLogger("uvicorn.error").removeFilter(_hide_cuts)

    # ---- forwarding ----------------------------------------------------------------------------
    def _take_failure(self, path: str) -> _Failure | None:
        for failure in self._failures:
            if failure.remaining > 0 and (failure.path_contains is None or failure.path_contains in path):
                failure.remaining -= 1
                return failure
        return None

    async def _forward(self, request: Request) -> Response:
        raw_path = request.scope.get("raw_path", request.url.path.encode()).decode()
        query = request.scope.get("query_string", b"").decode()
        self.requests.append((request.method, raw_path))
        if self._delay:
            await anyio.sleep(self._delay)
        if self._down:
            return JSONResponse({"error": "Bad Gateway", "status": 502, "message": "upstream down"}, 502)
        failure = self._take_failure(raw_path)
        if failure is not None:
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            return JSONResponse({"error": "Injected", "status": failure.status,
                                 "message": f"injected {failure.status}"}, failure.status, headers=headers)
        assert self._http is not None
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_HEADERS]
        target = f"{self.upstream_url}{raw_path}" + (f"?{query}" if query else "")
        upstream_request = self._http.build_request(request.method, target, headers=headers,
                                                    content=await request.body())
        try:
            upstream = await self._http.send(upstream_request, stream=True)
        except httpx2.TransportError:
            return JSONResponse({"error": "Bad Gateway", "status": 502, "message": "upstream unreachable"}, 502)
        out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
        is_stream = upstream.headers.get("content-type", "").startswith("text/event-stream")
        cut = self._claim_cut() if is_stream else None
        extra = self._claim_injection() if is_stream else b""
        return StreamingResponse(self._body(upstream, cut, extra), status_code=upstream.status_code,
                                 headers=out_headers)

    def _claim_injection(self) -> bytes:
        if self._inject is None or self._inject[1] <= 0:
            return b""
        raw, left = self._inject
        self._inject = (raw, left - 1)
        return raw

    def _claim_cut(self) -> _Claimed | None:
        cut = self._cut
        if cut is None or cut.remaining <= 0:
            return None
        cut.remaining -= 1
        if cut.random_bytes and cut.max_bytes:
            return _Claimed(None, self._random.randint(1, cut.max_bytes), False)
        return _Claimed(cut.events, cut.max_bytes, cut.stall)

    async def _body(self, upstream: httpx2.Response, cut: _Claimed | None, extra: bytes = b"") -> AsyncIterator[bytes]:
        """Upstream's body, aborted (or stalled) after `events` data events or `bytes` bytes when a cut is set;
        `extra` goes out after the first chunk (the service's first event or comment, so between events)."""
        events_left = cut.events if cut else None
        bytes_left = cut.max_bytes if cut else None
        stall = cut.stall if cut else False
        block = b""  # the SSE block in progress, to count only blocks that carry data (not heartbeats)
        try:
            async for chunk in upstream.aiter_raw():
                if bytes_left is not None and len(chunk) >= bytes_left:
                    yield chunk[:bytes_left]
                    self._cut_made()
                if bytes_left is not None:
                    bytes_left -= len(chunk)
                if events_left is not None:
                    start = 0
                    while (end := chunk.find(b"\n\n", start)) >= 0:
                        block += chunk[start:end]
                        start = end + 2
                        if b"data:" in block:
                            events_left -= 1
                            if events_left <= 0:
                                yield chunk[:start]
                                if stall:
                                    await anyio.sleep(STALL_SECONDS)  # ends when the client hangs up
                                self._cut_made()
                        block = b""
                    block += chunk[start:]
                yield chunk
                if extra and chunk.endswith(b"\n\n"):
                    yield extra
                    extra = b""
        finally:
            await upstream.aclose()

    def _cut_made(self) -> None:
        self.cuts += 1
        self._cut_event.set()
        self._cut_event = anyio.Event()
        raise StreamCut("injected cut")

    async def wait_for_cuts(self, count: int) -> None:
        """Wait until at least `count` cuts were made (wrap in `anyio.fail_after`)."""
        while self.cuts < count:
            await self._cut_event.wait()
