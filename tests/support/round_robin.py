"""A small round-robin HTTP proxy (ASGI), as a load balancer in front of stateless replicas.

Each request goes to the next backend in turn, whole (body read, then the answer streamed back chunk by
chunk, so SSE answers stream); a backend that refuses the connection is skipped, as a load balancer's
health check would. Every forwarded request is recorded with the JSON-RPC method and tool name it
carried and the backend that answered it, so a test can say where each call landed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx2
from starlette.types import Receive, Scope, Send

HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer", b"upgrade",
              b"proxy-authorization", b"proxy-authenticate", b"content-length"}


@dataclass(frozen=True)
class Forwarded:
    backend: int
    method: str  # the JSON-RPC method ("" for a GET or DELETE)
    tool: str  # the tool name of a tools/call


@dataclass
class RoundRobin:
    backends: list[str]  # root URLs
    forwarded: list[Forwarded] = field(default_factory=list)
    _next: int = 0
    _http: httpx2.AsyncClient = field(default_factory=lambda: httpx2.AsyncClient(
        timeout=httpx2.Timeout(60.0, connect=2.0), limits=httpx2.Limits(max_connections=200)))

    def landed(self, method: str, tool: str = "") -> list[int]:
        """The backends that answered each request with this method (and tool), in order."""
        return [item.backend for item in self.forwarded if item.method == method and (not tool or item.tool == tool)]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP_BY_HOP]
        path = scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
        for _ in range(len(self.backends)):
            index = self._next % len(self.backends)
            self._next += 1
            request = self._http.build_request(scope["method"], self.backends[index] + path, headers=headers,
                                               content=body)
            try:
                response = await self._http.send(request, stream=True)
            except httpx2.ConnectError:
                continue  # a dead replica: the next one answers
            self.forwarded.append(Forwarded(index, *_rpc(body)))
            await send({"type": "http.response.start", "status": response.status_code,
                        "headers": [(k, v) for k, v in response.headers.raw if k.lower() not in HOP_BY_HOP]})
            try:
                async for chunk in response.aiter_raw():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except httpx2.TransportError:
                pass  # the replica died mid-answer: the caller sees its answer end
            finally:
                await response.aclose()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        await send({"type": "http.response.start", "status": 502, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"no replica answered"})


def _rpc(body: bytes) -> tuple[str, str]:
    try:
        message: Any = json.loads(body) if body else {}
    except ValueError:
        return "", ""
    if not isinstance(message, dict):
        return "", ""
    method = str(message.get("method") or "")
    params = message.get("params") if isinstance(message.get("params"), dict) else {}
    return method, str(params.get("name") or "") if method == "tools/call" else ""
