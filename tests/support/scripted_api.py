"""A small, controllable fake of the Agent Runs API (and its token service) for client tests.

It speaks the seed's shapes (or the live service's, where `list_shape` / `artifacts_mode` say so),
records every request, and lets a test script failures in front of any route:

    api = ScriptedAPI(api_key="sk-test-123")
    async with api.serve() as root:           # root = "http://127.0.0.1:PORT"; API at root + "/api/v1"
        api.script(503, times=2, path="/agents")
        run = api.create_run(interaction="Echo")
        api.emit(run["id"], "UPDATE", "hello")

Tokens are JWT-shaped (so redaction is tested on realistic values) and expire for real.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.serve import serve_app

STREAM_MAX_SECONDS = 15.0
END_TYPES = {"COMPLETE", "TERMINATED", 4, 11}


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def make_jwt(exp: float, serial: int) -> str:
    """A JWT-shaped token (unsigned) carrying `exp`."""
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'exp': exp, 'sub': 'tester', 'n': serial})}.c2ln"


def error(status: int, message: str) -> JSONResponse:
    names = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
             422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
             502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    return JSONResponse({"error": names.get(status, "Error"), "status": status, "message": message}, status)


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]  # the last value of each parameter
    headers: dict[str, str]
    body: bytes
    params: list[tuple[str, str]] = field(default_factory=list)  # every parameter, repeated ones included


@dataclass
class Scripted:
    status: int
    times: int
    method: str | None
    path: str | None
    headers: dict[str, str]
    body: Any


@dataclass
class StreamScript:
    """What the SSE endpoint adds: raw chunks before the messages, and a cut after N events."""

    prelude: list[str] = field(default_factory=list)
    cut_after: int | None = None


class ScriptedAPI:
    def __init__(self, *, api_key: str = "sk-test-0123456789", token_ttl: float = 3600.0,
                 send_expires_in: bool = True, heartbeat: float = 0.05, list_shape: str = "array",
                 artifacts_mode: str = "seed") -> None:
        self.api_key = api_key
        self.token_ttl = token_ttl
        self.send_expires_in = send_expires_in
        self.heartbeat = heartbeat
        self.list_shape = list_shape
        self.artifacts_mode = artifacts_mode
        self.calls: list[Call] = []
        self.exchanges = 0
        self.exchange_delay = 0.0
        self.tokens: dict[str, float] = {}
        self.scripted: list[Scripted] = []
        self.stream_script = StreamScript()
        self.runs: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.artifacts: dict[str, dict[str, tuple[bytes, str]]] = {}
        self.signals: list[tuple[str, str, Any]] = []
        self.uploads: dict[str, tuple[str, str]] = {}
        self.root = ""
        self.redirect_root = ""
        """Where `artifacts_mode="redirect"` sends artifact downloads (another server's root)."""
        self._changed: dict[str, anyio.Event] = {}
        self._closing = anyio.Event()
        self._serial = 0
        self.raw_paths: list[str] = []
        """Every request's raw (still percent-encoded) path, including ones no route matched."""
        self._starlette = Starlette(routes=self._routes())

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        """The ASGI app: records the raw path, then routes."""
        if scope["type"] == "http":
            self.raw_paths.append(scope.get("raw_path", scope["path"].encode()).decode())
        await self._starlette(scope, receive, send)

    # ---- test controls -------------------------------------------------------------------------
    def script(self, status: int, *, times: int = 1, method: str | None = None, path: str | None = None,
               headers: dict[str, str] | None = None, body: Any = None) -> None:
        """Answer the next `times` matching requests (path substring, method) with `status`."""
        self.scripted.append(Scripted(status, times, method, path, headers or {}, body))

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def calls_to(self, fragment: str, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if fragment in c.path and (method is None or c.method == method)]

    def create_run(self, **fields: Any) -> dict[str, Any]:
        self._serial += 1
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        run = {"id": f"run{self._serial:04d}", "interaction": "Echo", "status": "running", "interactive": True,
               "started_at": now, "started_by": "user:tester", "visibility": "project", "created_at": now,
               "updated_at": now, **fields}
        self.runs[run["id"]] = run
        self.messages[run["id"]] = []
        return run

    def emit(self, run_id: str, t: str | int, m: str = "", *, ts: int | None = None, **extra: Any) -> dict[str, Any]:
        """Store a message (compact format) and wake the run's streams."""
        stored = self.messages[run_id]
        last = stored[-1]["ts"] if stored else 0
        stamp = ts if ts is not None else max(int(time.time() * 1000), last + 1)
        message = {"t": t, "m": m, "ts": stamp, **extra}
        stored.append(message)
        self._wake(run_id)
        return message

    def finish(self, run_id: str, status: str = "completed") -> None:
        self.runs[run_id]["status"] = status
        self._wake(run_id)

    def _wake(self, run_id: str) -> None:
        self._changed.setdefault(run_id, anyio.Event()).set()
        self._changed[run_id] = anyio.Event()

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[str]:
        async with serve_app(self.app) as root:
            self.root = root
            try:
                yield root
            finally:
                self._closing.set()
                for run_id in list(self._changed):
                    self._wake(run_id)

    # ---- plumbing ------------------------------------------------------------------------------
    def _routes(self) -> list[Route]:
        p = "/api/v1/agents"
        r = self._wrap
        return [
            Route("/token/issue", r(self._issue), methods=["POST"]),
            Route("/signed/{key:path}", r(self._signed_put, auth=False), methods=["PUT"]),
            Route("/download/{run_id}/{path:path}", r(self._download, auth=False), methods=["GET"]),
            Route(p, r(self._create), methods=["POST"]),
            Route(p, r(self._list), methods=["GET"]),
            Route(p + "/search", r(self._search), methods=["GET"]),
            Route(p + "/analytics/{report:path}", r(self._analytics), methods=["POST"]),
            Route(p + "/{run_id}", r(self._retrieve), methods=["GET"]),
            Route(p + "/{run_id}", r(self._terminate), methods=["DELETE"]),
            Route(p + "/{run_id}/restart", r(self._restart), methods=["POST"]),
            Route(p + "/{run_id}/fork", r(self._fork), methods=["POST"]),
            Route(p + "/{run_id}/signal/{name}", r(self._signal), methods=["POST"]),
            Route(p + "/{run_id}/query/{name}", r(self._query), methods=["GET"]),
            Route(p + "/{run_id}/updates", r(self._updates), methods=["GET"]),
            Route(p + "/{run_id}/updates", r(self._post_update), methods=["POST"]),
            Route(p + "/{run_id}/stream", r(self._stream), methods=["GET"]),
            Route(p + "/{run_id}/artifacts", r(self._artifacts), methods=["GET"]),
            Route(p + "/{run_id}/artifacts/{path:path}", r(self._artifact_get), methods=["GET"]),
            Route(p + "/{run_id}/artifacts/{path:path}", r(self._artifact_put), methods=["PUT"]),
            Route(p + "/{run_id}/internals", r(self._internals), methods=["GET"]),
            Route(p + "/{run_id}/details", r(self._details), methods=["GET"]),
            Route(p + "/{run_id}/children", r(self._children), methods=["GET"]),
            Route(p + "/{run_id}/events", r(self._events), methods=["POST"]),
        ]

    def _wrap(self, handler: Any, *, auth: bool = True) -> Any:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            raw_path = request.scope.get("raw_path", request.url.path.encode()).decode()
            call = Call(request.method, raw_path, dict(request.query_params), dict(request.headers), body,
                        list(request.query_params.multi_items()))
            self.calls.append(call)
            for item in self.scripted:
                if item.times > 0 and (item.method in (None, request.method)) and (
                        item.path is None or item.path in raw_path):
                    item.times -= 1
                    content = item.body if item.body is not None else {
                        "error": "Scripted", "status": item.status, "message": f"scripted {item.status}"}
                    return JSONResponse(content, item.status, headers=item.headers)
            if auth and raw_path.startswith("/api/"):
                header = request.headers.get("authorization", "")
                token = header.removeprefix("Bearer ")
                expiry = self.tokens.get(token)
                if expiry is None or expiry < time.time():
                    return error(401, "invalid or expired token")
            if "run_id" in request.path_params and request.path_params["run_id"] not in self.runs:
                return error(404, f"agent run {request.path_params['run_id']} not found")
            response: Response = await handler(request, call)
            return response

        return endpoint

    def _run(self, request: Request) -> dict[str, Any]:
        return self.runs[request.path_params["run_id"]]

    async def _issue(self, request: Request, call: Call) -> Response:
        body = json.loads(call.body or b"{}")
        if body.get("type") != "apikey" or body.get("key") != self.api_key or \
                request.headers.get("authorization") != f"Bearer {self.api_key}":
            return error(401, "invalid API key")
        if self.exchange_delay:
            await anyio.sleep(self.exchange_delay)
        self.exchanges += 1
        exp = time.time() + self.token_ttl
        token = make_jwt(exp, self.exchanges)
        self.tokens[token] = exp
        answer: dict[str, Any] = {"token": token}
        if self.send_expires_in:
            answer["expires_in"] = self.token_ttl
        return JSONResponse(answer)

    async def _create(self, request: Request, call: Call) -> Response:
        body = json.loads(call.body)
        if not body.get("interaction"):
            return error(400, "interaction is required")
        return JSONResponse(self.create_run(**body), 201)

    async def _list(self, request: Request, call: Call) -> Response:
        items = list(self.runs.values())
        if "status" in call.query:
            wanted = [value for key, value in call.params if key == "status"]
            items = [r for r in items if r["status"] in wanted]
        if self.list_shape == "array":
            return JSONResponse(items)
        return JSONResponse({"items": items, "total_count": len(items), "next_cursor": None})

    async def _search(self, request: Request, call: Call) -> Response:
        hits = [{"id": r["id"], "score": 1.0, "status": r["status"], "title": "t"} for r in self.runs.values()]
        return JSONResponse({"hits": hits, "total": len(hits)})

    async def _retrieve(self, request: Request, call: Call) -> Response:
        return JSONResponse(self._run(request))

    async def _terminate(self, request: Request, call: Call) -> Response:
        run = self._run(request)
        run["status"] = "cancelled"
        self.emit(run["id"], "TERMINATED", "terminated")
        return JSONResponse({"message": "Agent run terminated", "reason": call.query.get("reason")})

    async def _restart(self, request: Request, call: Call) -> Response:
        run = self._run(request)
        if run["status"] in ("running", "created"):
            return error(409, "the run is still running")
        run["status"] = "running"
        return JSONResponse(run)

    async def _fork(self, request: Request, call: Call) -> Response:
        source = self._run(request)
        return JSONResponse(self.create_run(interaction=source.get("interaction")))

    async def _signal(self, request: Request, call: Call) -> Response:
        name = request.path_params["name"]
        self.signals.append((request.path_params["run_id"], name, json.loads(call.body or b"null")))
        return JSONResponse({"status": "success", "message": f"Signal {name} sent"})

    async def _query(self, request: Request, call: Call) -> Response:
        if request.path_params["name"] != "ActiveWorkstreams":
            return error(404, "query handler not found")
        return JSONResponse({"workstreams": [{"id": "main", "name": "Main", "status": "active"}]})

    def _since(self, run_id: str, since: int) -> list[dict[str, Any]]:
        return [m for m in self.messages[run_id] if m["ts"] > since]

    async def _updates(self, request: Request, call: Call) -> Response:
        since = int(call.query.get("since", "0") or 0)
        return JSONResponse({"messages": self._since(request.path_params["run_id"], since)})

    async def _post_update(self, request: Request, call: Call) -> Response:
        body = json.loads(call.body)
        extra = {"d": body["details"]} if "details" in body else {}
        if body.get("workstream_id"):
            extra["w"] = body["workstream_id"]
        self.emit(request.path_params["run_id"], body.get("type", "UPDATE"), body.get("message", ""), **extra)
        return JSONResponse({"success": True})

    async def _stream(self, request: Request, call: Call) -> Response:
        run_id = request.path_params["run_id"]
        since = int(call.query.get("since", "0") or 0)
        script = self.stream_script

        async def events() -> AsyncIterator[str]:
            for chunk in script.prelude:
                yield chunk
            stored = self.messages[run_id]
            index = next((i for i, m in enumerate(stored) if m["ts"] > since), len(stored))
            sent = 0
            deadline = time.monotonic() + STREAM_MAX_SECONDS
            while time.monotonic() < deadline and not self._closing.is_set():
                changed = self._changed.setdefault(run_id, anyio.Event())
                while index < len(stored):
                    message = stored[index]
                    index += 1
                    yield f"data: {json.dumps(message)}\n\n"
                    sent += 1
                    if script.cut_after is not None and sent >= script.cut_after:
                        return
                    if message["t"] in END_TYPES and not message.get("d"):
                        return
                if self.runs[run_id]["status"] in ("completed", "failed", "cancelled"):
                    return
                with anyio.move_on_after(self.heartbeat) as scope:
                    await changed.wait()
                if scope.cancelled_caught:
                    yield ": heartbeat\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    def _store(self, run_id: str) -> dict[str, tuple[bytes, str]]:
        return self.artifacts.setdefault(run_id, {})

    async def _artifacts(self, request: Request, call: Call) -> Response:
        return JSONResponse(sorted(self._store(request.path_params["run_id"])))

    async def _artifact_get(self, request: Request, call: Call) -> Response:
        run_id, path = request.path_params["run_id"], request.path_params["path"]
        stored = self._store(run_id).get(path)
        if stored is None:
            return error(404, f"artifact {path} not found")
        if call.query.get("url") in ("1", "true"):
            url = f"{self.root}/download/{run_id}/{path}?disposition={call.query.get('disposition', '')}"
            return JSONResponse({"url": url, "path": path})
        if self.artifacts_mode == "redirect":  # content served from another origin, like signed storage
            return Response(status_code=307, headers={"Location": f"{self.redirect_root}/download/{run_id}/{path}"})
        return Response(stored[0], media_type=stored[1])

    async def _download(self, request: Request, call: Call) -> Response:
        stored = self._store(request.path_params["run_id"]).get(request.path_params["path"])
        return Response(stored[0], media_type=stored[1]) if stored else error(404, "no such object")

    async def _artifact_put(self, request: Request, call: Call) -> Response:
        run_id, path = request.path_params["run_id"], request.path_params["path"]
        content_type = request.headers.get("content-type", "application/octet-stream")
        if self.artifacts_mode == "live":
            key = f"k{len(self.uploads) + 1}"
            self.uploads[key] = (run_id, path)
            return JSONResponse({"url": f"/signed/{key}?expires=9999999999&signature=SIGNATURE-{key}", "path": path})
        self._store(run_id)[path] = (call.body, content_type)
        return JSONResponse({"path": path, "size": len(call.body)})

    async def _signed_put(self, request: Request, call: Call) -> Response:
        if "authorization" in request.headers:
            return error(400, "signed uploads must not carry a credential")
        run_id, path = self.uploads[request.path_params["key"]]
        self._store(run_id)[path] = (call.body, request.headers.get("content-type", ""))
        return Response(status_code=200)

    async def _internals(self, request: Request, call: Call) -> Response:
        run = self._run(request)
        return JSONResponse({"id": run["id"], "workflow_id": f"AgentRun:{run['id']}", "status": run["status"]})

    async def _details(self, request: Request, call: Call) -> Response:
        out: dict[str, Any] = {"status": "RUNNING", "run_id": "wr1", "workflow_id": "AgentRun:x"}
        if call.query.get("include_history") == "true":
            out["history"] = [{"task": "start"}]
        return JSONResponse(out)

    async def _children(self, request: Request, call: Call) -> Response:
        return JSONResponse({"runs": [{"run_id": "c1", "status": "COMPLETED"}], "has_more": False})

    async def _events(self, request: Request, call: Call) -> Response:
        return JSONResponse({"ingested": len(json.loads(call.body)["events"])})

    async def _analytics(self, request: Request, call: Call) -> Response:
        return JSONResponse(ANALYTICS_ANSWERS[request.path_params["report"]])


_LAT = {"summary": {"avgMs": 1, "count": 1}}
ANALYTICS_ANSWERS: dict[str, Any] = {
    "summary": {"summary": {"totalRuns": 3}},
    "tokens": {"summary": {"inputTokens": 1, "outputTokens": 2, "totalTokens": 3}},
    "latency/llm": _LAT, "latency/tools": _LAT, "latency/agents": _LAT,
    "errors": {"summary": {"totalCount": 1}},
    "tools": {"totalInvocations": 1, "tools": [{"toolName": "search"}]},
    "tools/parameters": {"analytics": {"toolName": "search", "parameters": {}}},
    "filter-options": {"agents": [{"id": "a", "name": "A"}]},
    "prompt-size": {"summary": {"avgPromptTokens": 10}, "byAgent": []},
    "top-principals": {"principals": [], "totalRuns": 0},
    "runs-by-agent": {"agents": [], "totalRuns": 0},
    "time-to-first-response": {"summary": {"avgMs": 5}},
    "first-response-behavior": {"summary": {"totalRuns": 0}},
}
