"""The 2026-07-28 task surface on the wire: `notifications/tasks` on `subscriptions/listen`, `Mcp-Name` checks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2

from mcp_agents.local import RunningService
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.server.http import HttpOptions, build_http_app
from mcp_agents.server.tasks import TaskKeys
from mcp_agents.settings import Settings
from tests.server.serving_helpers import STEP_TIMEOUT, api_client, fast_demo, serve_with_lifespan
from tests.support.processes import free_port

KEY = "the task key of the wire tests and long enough to be real"
VERSION = "2026-07-28"
TASKS = "io.modelcontextprotocol/tasks"
WITH_TASKS = {"extensions": {TASKS: {}}, "elicitation": {"form": {}}}


@asynccontextmanager
async def served(service: RunningService) -> AsyncIterator[str]:
    async with api_client(service) as client:
        settings = Settings(task_key=KEY)
        port = free_port()
        app = build_http_app(build_server(settings, deps=ServerDeps(settings, client), http=HttpOptions()),
                             Settings(port=port), HttpOptions())
        async with serve_with_lifespan(app, port) as root:
            yield f"{root}/mcp"


def request(method: str, params: dict[str, Any], capabilities: dict[str, Any], ident: int = 1) -> dict[str, Any]:
    meta = {"io.modelcontextprotocol/protocolVersion": VERSION,
            "io.modelcontextprotocol/clientCapabilities": capabilities}
    return {"jsonrpc": "2.0", "id": ident, "method": method, "params": {**params, "_meta": meta}}


def headers(method: str, name: str | None = None) -> dict[str, str]:
    out = {"accept": "application/json, text/event-stream", "mcp-protocol-version": VERSION, "mcp-method": method}
    if name is not None:
        out["mcp-name"] = name
    return out


def last_message(response: httpx2.Response) -> dict[str, Any]:
    if response.headers.get("content-type", "").startswith("application/json"):
        return dict(response.json())
    data = [line[5:].strip() for line in response.text.splitlines() if line.startswith("data:")]
    return dict(json.loads(data[-1]))


async def call(http: httpx2.AsyncClient, url: str, method: str, params: dict[str, Any],
               name: str | None = None, capabilities: dict[str, Any] = WITH_TASKS) -> dict[str, Any]:
    response = await http.post(url, json=request(method, params, capabilities), headers=headers(method, name))
    return last_message(response)


async def raw_post(url: str, body: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """A POST written by hand: HTTP clients refuse to send header values with surrounding whitespace."""
    parsed = httpx2.URL(url)
    payload = json.dumps(body).encode()
    lines = [f"POST {parsed.path} HTTP/1.1", f"host: {parsed.host}:{parsed.port}", "content-type: application/json",
             f"content-length: {len(payload)}", "connection: close", *(f"{k}: {v}" for k, v in fields.items())]
    with anyio.fail_after(STEP_TIMEOUT):
        async with await anyio.connect_tcp(parsed.host, parsed.port or 80) as stream:
            await stream.send("\r\n".join(lines).encode() + b"\r\n\r\n" + payload)
            raw = b""
            try:
                while chunk := await stream.receive():
                    raw += chunk
            except anyio.EndOfStream:
                pass
    head, _, rest = raw.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" in head.lower():
        body_bytes, rest_bytes = b"", rest
        while rest_bytes:
            size_text, _, rest_bytes = rest_bytes.partition(b"\r\n")
            size = int(size_text, 16)
            if not size:
                break
            body_bytes, rest_bytes = body_bytes + rest_bytes[:size], rest_bytes[size + 2:]
        rest = body_bytes
    text = rest.decode()
    if text.lstrip().startswith("{"):
        return dict(json.loads(text))
    data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
    return dict(json.loads(data[-1]))


async def test_mcp_name_on_tasks_methods_is_compared_trimmed_and_may_be_absent(local_service: RunningService) -> None:
    async with served(local_service) as url, httpx2.AsyncClient(timeout=STEP_TIMEOUT) as http:
        created = await call(http, url, "tools/call", {"name": "start_agent_run", "arguments": {
            "interaction": "Demo", "data": fast_demo(), "interactive": False}}, name="start_agent_run")
        task_id = created["result"]["taskId"]
        assert created["result"]["resultType"] == "task" and created["result"]["status"] == "working"
        assert created["result"]["ttlMs"] > 0 and created["result"]["pollIntervalMs"] > 0
        for name in (task_id, None):  # exact, absent (fastmcp-tasks sends none)
            got = await call(http, url, "tasks/get", {"taskId": task_id}, name=name)
            assert got["result"]["taskId"] == task_id
        padded = await raw_post(url, request("tasks/get", {"taskId": task_id}, WITH_TASKS),
                                {**headers("tasks/get"), "mcp-name": f"  {task_id}\t"})
        assert padded["result"]["taskId"] == task_id  # RFC 9110: the value is what is between the whitespace
        refused = await call(http, url, "tasks/get", {"taskId": task_id}, name="another-task")
        assert refused["error"]["code"] == -32020
        without = await call(http, url, "tasks/get", {"taskId": task_id}, name=task_id, capabilities={})
        assert without["error"]["code"] == -32021


async def test_listen_with_task_ids_streams_the_task_beside_resource_updates(local_service: RunningService) -> None:
    async with served(local_service) as url, httpx2.AsyncClient(timeout=STEP_TIMEOUT) as http:
        created = await call(http, url, "tools/call", {"name": "start_agent_run", "arguments": {
            "interaction": "Demo", "data": fast_demo(ask="Which colour?")}}, name="start_agent_run")
        task_id = created["result"]["taskId"]
        run_id = TaskKeys.from_secret(KEY).open(task_id).run_id  # type: ignore[union-attr]
        uri = f"agent-run://{run_id}/messages"
        listen = request("subscriptions/listen", {"notifications": {"taskIds": [task_id],
                                                                    "resourceSubscriptions": [uri]}}, WITH_TASKS, 7)
        seen: list[dict[str, Any]] = []
        with anyio.fail_after(STEP_TIMEOUT * 2):
            async with http.stream("POST", url, json=listen, headers=headers("subscriptions/listen")) as stream:
                async for line in stream.aiter_lines():
                    if not line.startswith("data:"):
                        continue
                    message = json.loads(line[5:])
                    seen.append(message)
                    params = message.get("params", {})
                    if message.get("method") == "notifications/tasks" and params["status"] == "input_required":
                        (key,) = params["inputRequests"]
                        answer = {key: {"action": "accept", "content": {"answer": "teal"}}}
                        assert "result" in await call(http, url, "tasks/update",
                                                      {"taskId": task_id, "inputResponses": answer})
                    if message.get("method") == "notifications/tasks" and params["status"] == "completed":
                        break
        ack = seen[0]
        assert ack["method"] == "notifications/subscriptions/acknowledged"
        assert ack["params"]["notifications"] == {"taskIds": [task_id], "resourceSubscriptions": [uri]}
        tasks = [m["params"] for m in seen if m.get("method") == "notifications/tasks"]
        statuses = [t["status"] for t in tasks]
        assert statuses[0] == "working" and "input_required" in statuses and statuses[-1] == "completed"
        assert "inputRequests" not in tasks[-1] and "result" not in tasks[0]
        assert all(t["taskId"] == task_id and t["_meta"]["io.modelcontextprotocol/subscriptionId"] == 7
                   for t in tasks)
        assert "You said: teal" in tasks[-1]["result"]["structuredContent"]["runs"][0]["answer"]
        assert any(m.get("method") == "notifications/resources/updated" and m["params"]["uri"] == uri for m in seen)

        refused = await call(http, url, "subscriptions/listen", {"notifications": {"taskIds": [task_id]}},
                             capabilities={})
        assert refused["error"]["code"] == -32021
