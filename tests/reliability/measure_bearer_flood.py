"""Measures (not a test): a genuine caller's first bearer check while invented bearers flood a slow service.

`python -m tests.reliability.measure_bearer_flood DELAY N ADDRESSES SETTLE`: a stand-in upstream answers the
genuine JWT at once and every other bearer 401 after DELAY s; N invented JWTs are sent at once from ADDRESSES
loopback addresses (127.0.0.2, ...); SETTLE s later the genuine caller (127.0.0.1) opens sessions one after
another. Prints its first (checked) and later (cached) latencies and the flood's statuses.
"""

from __future__ import annotations

import statistics
import sys
import time

import anyio
import httpx2
import jwt
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp_agents.server.app import build_server
from mcp_agents.server.http import HttpOptions, build_http_app
from mcp_agents.settings import Settings
from tests.server.serving_helpers import serve_with_lifespan
from tests.support.processes import free_port

ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}}

async def open_session(http: httpx2.AsyncClient, root: str, bearer: str) -> httpx2.Response:
    return await http.post(f"{root}/mcp", json=INITIALIZE, headers={**ACCEPT, "Authorization": f"Bearer {bearer}"})

def made_up_bearers(count: int) -> list[str]:
    return [jwt.encode({"sub": f"user:ghost{i}", "exp": 4_000_000_000}, "not-the-service-key" * 2,
                       algorithm="HS256") for i in range(count)]

SETTLE = float(sys.argv[4]) if len(sys.argv) > 4 else 0.2
DELAY = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200
FLOOD_ADDRESSES = int(sys.argv[3]) if len(sys.argv) > 3 else 1
GENUINE = jwt.encode({"sub": "user:genuine", "exp": 4_000_000_000}, "k" * 40, algorithm="HS256")

async def runs(request: Request) -> JSONResponse:
    if request.headers.get("authorization") == f"Bearer {GENUINE}":
        return JSONResponse({"items": [], "total_count": 0, "next_cursor": None})
    await anyio.sleep(DELAY)
    return JSONResponse({"error": "Unauthorized", "status": 401, "message": "no"}, status_code=401)

async def main() -> None:
    up_port, port = free_port(), free_port()
    up = uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/api/v1/agents", runs)]), host="127.0.0.1",
                                       port=up_port, log_level="warning", lifespan="off"))
    async with anyio.create_task_group() as group:
        group.start_soon(up.serve)
        while not up.started:  # noqa: ASYNC110 - uvicorn has a flag, no event
            await anyio.sleep(0.01)
        url = f"http://127.0.0.1:{up_port}/api/v1"
        settings = Settings.load({"VERTESIA_API_URL": url, "VERTESIA_STS_URL": f"http://127.0.0.1:{up_port}",
                                  "MCP_AGENTS_PORT": str(port), "MCP_AGENTS_LOG_LEVEL": "error"})
        options = HttpOptions(auth="required", max_sessions=5000, caller_sessions=1000)
        app = build_http_app(build_server(settings, http=options), settings, options)
        floods = [httpx2.AsyncClient(transport=httpx2.AsyncHTTPTransport(local_address=f"127.0.0.{2 + i}",
                  limits=httpx2.Limits(max_connections=N)), timeout=120) for i in range(FLOOD_ADDRESSES)]
        statuses: list[int] = []
        latencies: list[float] = []
        async with serve_with_lifespan(app, port) as root, httpx2.AsyncClient(timeout=120) as http:
            async def intrude(i: int, bearer: str) -> None:
                statuses.append((await open_session(floods[i % FLOOD_ADDRESSES], root, bearer)).status_code)
            flood_started = time.perf_counter()
            async with anyio.create_task_group() as g2:
                for i, bearer in enumerate(made_up_bearers(2 * N)[N:]):
                    g2.start_soon(intrude, i, bearer)
                await anyio.sleep(SETTLE)  # the flood is in
                for _ in range(5):
                    t = time.perf_counter()
                    r = await open_session(http, root, GENUINE)
                    latencies.append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200, r.status_code
                    await anyio.sleep(0.2)
            flood_s = time.perf_counter() - flood_started
        for f in floods:
            await f.aclose()
        up.should_exit = True
        group.cancel_scope.cancel()
    counts = {s: statuses.count(s) for s in sorted(set(statuses))}
    print(f"delay={DELAY}s flood={N} bearers from {FLOOD_ADDRESSES} address(es): genuine first check "
          f"{latencies[0]:.1f} ms, later (cached) p50={statistics.median(latencies[1:]):.1f} ms; "
          f"flood statuses {counts}; flood over in {flood_s:.1f}s")

if __name__ == "__main__":
    anyio.run(main)
