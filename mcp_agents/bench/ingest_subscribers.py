"""The ingest figure's SSE subscribers, run as their own process (`python -m mcp_agents.bench.ingest_subscribers`).

Each subscriber follows one run's `/stream` over a raw HTTP/1.1 connection and counts frames on
bytes: it splits the dechunked body on the blank line ending each frame, reads the `id:` (the
message's `ts`) to check order, and the `ingest-<index>` marker to count each benchmark message
once (a second sight is a duplicate). Nothing else is parsed. Once every subscriber has seen a
`bench-ready` marker the process writes `--ready-file`; at the end (every subscriber has every
message, or the timeout: `--timeout` to be ready, twice that for the rest) it writes
`--result-file` with, per subscriber, the counts and the `time.monotonic()` of its last
benchmark frame (the same clock as the posting process on Linux).
The JWT comes in the environment (`BENCH_INGEST_TOKEN`), never on the command line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from mcp_agents.bench.rawhttp import Endpoint, next_chunk, read_head, request_head

TOKEN_ENV = "BENCH_INGEST_TOKEN"
MARK = b'"m":"ingest-'
READY = b"bench-ready"


class Follower:
    """One SSE subscriber's counts."""

    def __init__(self, messages: int) -> None:
        self.seen = bytearray(messages)
        self.count = 0
        self.duplicates = 0
        self.disorder = 0  # frames whose id (ts) is not above the previous one
        self.frames = 0
        self.last_ts = 0
        self.last_at = 0.0
        self.ready = asyncio.Event()
        self.complete = asyncio.Event()
        self.ended = False
        self.error = ""

    def take(self, frame: bytes) -> None:
        if not frame.startswith(b"id: "):
            return  # a comment (`: connected`, `: ping`)
        self.frames += 1
        ts = int(frame[4:frame.index(b"\n")])
        if ts <= self.last_ts:
            self.disorder += 1
        self.last_ts = max(ts, self.last_ts)
        start = frame.find(MARK)
        if start < 0:
            if READY in frame:
                self.ready.set()
            return
        start += len(MARK)
        index = int(frame[start:frame.index(b'"', start)])
        if 0 <= index < len(self.seen) and not self.seen[index]:
            self.seen[index] = 1
            self.count += 1
            self.last_at = time.monotonic()
            if self.count == len(self.seen):
                self.complete.set()
        else:
            self.duplicates += 1

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "duplicates": self.duplicates, "disorder": self.disorder, "frames": self.frames,
                "last_at": self.last_at, "ended": self.ended, "error": self.error}


async def follow(follower: Follower, endpoint: Endpoint, path: str, headers: dict[str, str]) -> None:
    reader, writer = await endpoint.connect()
    try:
        writer.write(request_head("GET", endpoint, path, {**headers, "Accept": "text/event-stream"}, None))
        status, response_headers = await read_head(reader)
        if status != 200 or response_headers.get(b"transfer-encoding", b"").lower() != b"chunked":
            raise RuntimeError(f"stream answered {status} {response_headers.get(b'content-type', b'')!r}")
        rest = b""
        while (chunk := await next_chunk(reader)) is not None:
            *frames, rest = (rest + chunk).split(b"\n\n")
            for frame in frames:
                follower.take(frame)
        follower.ended = True  # the service closed the stream (run ended, or this subscriber was dropped)
    finally:
        writer.close()
    follower.complete.set()


async def _main(args: argparse.Namespace) -> None:
    endpoint = Endpoint.from_url(args.base_url)
    headers = {"Authorization": f"Bearer {os.environ[TOKEN_ENV]}", "x-api-version": args.api_version}
    path = f"/agents/{args.run_id}/stream?skipHistory=true&since={args.since}"
    followers = [Follower(args.messages) for _ in range(args.subscribers)]
    tasks = [asyncio.create_task(follow(f, endpoint, path, headers)) for f in followers]

    async def watch(task: asyncio.Task[None], follower: Follower) -> None:
        try:
            await task
        except Exception as exc:  # reported as this subscriber's error; the others go on
            follower.error = f"{type(exc).__name__}: {exc}"[:200]
            follower.ready.set()
            follower.complete.set()

    watchers = [asyncio.create_task(watch(t, f)) for t, f in zip(tasks, followers, strict=True)]
    # A timeout is an outcome, not a failure: what arrived is reported and the shortfall counts as lost.
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.timeout):
                await asyncio.gather(*(f.ready.wait() for f in followers))
            _write(args.ready_file, "{}")
            async with asyncio.timeout(2 * args.timeout):  # posting, then delivery, each bounded by the poster
                await asyncio.gather(*(f.complete.wait() for f in followers))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
    result = {"subscribers": [f.to_json() for f in followers], "cpu_seconds": time.process_time()}
    _write(args.result_file, json.dumps(result))


def _write(path: str, text: str) -> None:
    """Write `path` whole: the reader polls for it and must never see half of it."""
    partial = Path(path + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.rename(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--api-version", required=True)
    parser.add_argument("--since", type=int, required=True)
    parser.add_argument("--subscribers", type=int, required=True)
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--result-file", required=True)
    asyncio.run(_main(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
