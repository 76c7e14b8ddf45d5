"""A round-robin HTTP reverse proxy in front of several replicas (a load balancer without affinity).

Each request goes to the next replica in turn; a replica that refuses connections (killed) is
skipped. `served` records `(replica index, JSON-RPC method)` for every forwarded POST.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.fault_proxy import HOP_HEADERS
from tests.support.serve import serve_app

TIMEOUT = 60.0


class RoundRobin:
    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = [url.rstrip("/") for url in upstreams]
        self.served: list[tuple[int, str]] = []
        self._next = 0
        self._http = httpx2.AsyncClient(timeout=TIMEOUT)
        self.app = Starlette(routes=[Route("/{path:path}", self._forward, methods=["GET", "POST", "DELETE"])])

    def replicas_for(self, method: str) -> set[int]:
        return {index for index, name in self.served if name == method}

    async def _forward(self, request: Request) -> Response:
        body = await request.body()
        try:
            method = str(json.loads(body).get("method")) if body else request.method
        except (ValueError, AttributeError):
            method = "?"
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_HEADERS]
        for _ in self.upstreams:
            index = self._next
            self._next = (self._next + 1) % len(self.upstreams)
            upstream = self._http.build_request(request.method, self.upstreams[index] + request.url.path,
                                                headers=headers, content=body)
            try:
                response = await self._http.send(upstream, stream=True)
            except httpx2.ConnectError:
                continue  # killed: the next replica takes it
            self.served.append((index, method))
            out = {k: v for k, v in response.headers.items() if k.lower() not in HOP_HEADERS}
            return StreamingResponse(_relay(response), status_code=response.status_code, headers=out)
        return JSONResponse({"error": "no replica answers"}, 502)

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        try:
            async with serve_app(self.app) as url:
                yield url
        finally:
            await self._http.aclose()


async def _relay(response: httpx2.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    finally:
        await response.aclose()
