"""`GET /agents/{id}/stream`: Server-Sent Events of a run's messages.

Subscribe first, then read the history, so nothing committed in between is missed; live
messages stored no later than the history's newest row (by row id: a millisecond may hold
several, and a producer's stamp may be older than rows before it) are skipped.
`skipHistory=true` replays only what is newer than `since` (nothing without `since`). A `: ping`
comment goes out every heartbeat interval; the stream ends after the run's final message (or at
once for a finished run). Frames already queued are written together, one chunk per wake-up, so
a burst costs one socket write.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

from mcp_agents.local import records
from mcp_agents.local.bus import CLOSED, END, Frame, Subscription, sse_frame
from mcp_agents.local.errors import ServiceError
from mcp_agents.models import TERMINAL_STATUSES

if TYPE_CHECKING:
    from mcp_agents.local.app import Services

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}


async def stream(request: Request) -> StreamingResponse:
    services: Services = request.app.state.services
    principal = services.tokens.authenticate(request, allow_query=True)
    run_id = request.path_params["run_id"]
    since = parse_since(request.query_params.get("since"))
    skip_history = request.query_params.get("skipHistory", "").lower() in ("true", "1", "yes")
    subscription = services.bus.subscribe(run_id)
    try:
        row = await services.store.read(lambda conn: records.visible_run(conn, run_id, principal))
        replay_from = since if not skip_history else (since if since > 0 else None)
        history = [] if replay_from is None else await services.store.read(
            lambda conn: records.list_messages_with_seq(conn, run_id, replay_from))
    except BaseException:
        subscription.bus.unsubscribe(subscription)
        raise
    finished = row["status"] in TERMINAL_STATUSES
    body = _events(subscription, history, since, finished, services.heartbeat_seconds, services.bus.encode)
    return StreamingResponse(body, media_type="text/event-stream", headers=HEADERS)


def parse_since(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    try:
        value = float(raw)
        if not 0 <= value <= 2**53:
            raise ValueError(raw)
        return int(value)
    except ValueError:
        raise ServiceError(400, f"since must be epoch milliseconds (0 or more), not {raw[:40]!r}") from None


async def _events(subscription: Subscription, history: list[tuple[int, dict[str, Any]]], since: int,
                  finished: bool, heartbeat: float, encode: Callable[[dict[str, Any]], str]) -> AsyncIterator[bytes]:
    with subscription:
        last = 0  # the highest row id sent (the history is in time order, and a producer's stamp may be older)
        for seq, message in history:
            last = max(last, seq)
            yield sse_frame(message, encode, seq).data
        if finished:
            return
        yield b": connected\n\n"
        queue = subscription.queue
        while True:
            if queue.empty():
                try:
                    async with asyncio.timeout(heartbeat):  # unlike wait_for, no task per wait
                        first = await queue.get()
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
            else:
                first = queue.get_nowait()
            chunk: list[bytes] = []
            item: Frame | None = first
            while item is not None:
                subscription.queued_bytes -= len(item.data)
                if item is END or item is CLOSED:
                    if chunk:
                        yield b"".join(chunk)
                    return
                if item.seq > last and item.ts > since:
                    last = item.seq
                    chunk.append(item.data)
                item = queue.get_nowait() if not queue.empty() else None
            if chunk:
                yield b"".join(chunk)
