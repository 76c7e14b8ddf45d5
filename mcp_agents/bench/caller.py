"""The other caller of the `fairness` figure, in a process of its own, as another user's client is.

Sampled from the bench's own event loop, that caller's times included the bench's load: the heavy
caller's client parsing thousands of progress notifications and the posting of 500 messages a
second share that loop and stalled it for up to 80 ms, so a reply that had arrived waited there.

`python -m mcp_agents.bench.caller URL RUN_ID`, its API key in `BENCH_CALLER_KEY` (never in argv):
connects over streamable HTTP, warms up, then for every line `COUNT` on stdin times `COUNT` calls
of `get_agent_run` (`SAMPLE_GAP_SECONDS` apart) and writes their milliseconds as one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time

import anyio
import anyio.to_thread
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_agents.bench.harness import caller_http, structured

KEY_ENV = "BENCH_CALLER_KEY"
SAMPLE_GAP_SECONDS = 0.05  # between samples: the busy ones then span several of the heavy wait's poll rounds
WARM_CALLS = 5  # the caller's bearer check and token, first-call paths
TIMEOUT = httpx2.Timeout(60.0, connect=30.0)


async def sample(mcp: Client, run_id: str, count: int, gap: float = SAMPLE_GAP_SECONDS) -> list[float]:
    out: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        structured(await mcp.call_tool("get_agent_run", {"run_id": run_id}))
        out.append((time.perf_counter() - started) * 1000)
        await anyio.sleep(gap)
    return out


async def main(url: str, run_id: str, api_key: str) -> None:
    async with httpx2.AsyncHTTPTransport() as transport, \
            Client(streamable_http_client(url, http_client=caller_http(transport, api_key, TIMEOUT)),
                   cache=None) as mcp:
        await sample(mcp, run_id, WARM_CALLS, 0)
        while line := (await anyio.to_thread.run_sync(sys.stdin.readline)).strip():
            sys.stdout.write(json.dumps(await sample(mcp, run_id, int(line))) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2], os.environ[KEY_ENV])
