"""Access: refused tokens everywhere, private runs invisible to other principals (SSE, artifacts, search,
analytics), `workflow:run` enforced, and MCP over HTTP keeping concurrent callers apart."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import anyio
import httpx2
import jwt
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_agents.local import RunningService
from mcp_agents.models import REPORTS
from mcp_agents.models.paths import ANALYTICS
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.server.http import HttpOptions, build_http_app
from mcp_agents.settings import TOOLSETS, Settings
from tests.local.helpers import KEYS, client, issue_token, wait_status
from tests.reliability.helpers import STEP_TIMEOUT, data, fast_client, text_of
from tests.server.serving_helpers import serve_with_lifespan
from tests.support.processes import free_port

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")]  # the forged HS512 one
ENDPOINTS = ["", "/updates", "/stream", "/artifacts", "/artifacts/notes.txt", "/artifacts/notes.txt?url=1",
             "/internals", "/details", "/children", "/query/AgentPlan", "/query/NoSuchQuery"]
WRITES = [("POST", "/restart"), ("POST", "/fork"), ("POST", "/signal/Stop"), ("POST", "/signal/NoSuchSignal"),
          ("DELETE", ""), ("POST", "/updates"), ("POST", "/events"), ("PUT", "/artifacts/x.txt")]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged_tokens(service: RunningService, genuine: str) -> dict[str, str]:
    """Tokens that must all be refused: tampered, expired, unsigned, signed with another key, no exp."""
    header, payload, signature = genuine.split(".")
    claims = jwt.decode(genuine, options={"verify_signature": False})
    now = int(time.time())
    from mcp_agents.local.auth import ALGORITHM, ISSUER, load_secret

    secret = load_secret(service.data_dir)
    return {
        "tampered": f"{header}.{_b64({**claims, 'sub': 'user:bob', 'role': 'superadmin'})}.{signature}",
        "alg-none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "alg-none-superadmin": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({**claims, 'role': 'superadmin'})}.",
        "other-key": jwt.encode({**claims, "role": "superadmin"}, "k" * 32, algorithm="HS256"),
        "expired": jwt.encode({**claims, "iat": now - 100, "exp": now - 5}, secret, algorithm=ALGORITHM),
        "no-exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, secret, algorithm=ALGORITHM),
        "other-issuer": jwt.encode({**claims, "iss": "evil"}, secret, algorithm=ALGORITHM),
        "hs512": jwt.encode({**claims, "iss": ISSUER}, secret, algorithm="HS512"),
    }


async def test_forged_tokens_are_refused_on_every_endpoint(multi_service: RunningService) -> None:
    alice_token = await issue_token(multi_service, KEYS["alice"])
    async with client(multi_service, alice_token) as alice:
        run_id = (await alice.post("/agents", json={"interaction": "Echo", "visibility": "private"})).json()["id"]
        for name, token in forged_tokens(multi_service, alice_token).items():
            async with client(multi_service, token) as forged:
                for path in ENDPOINTS:
                    answer = await forged.get(f"/agents/{run_id}{path}")
                    assert answer.status_code == 401, (name, path, answer.text)
                    assert token not in answer.text
                for method, path in WRITES:
                    assert (await forged.request(method, f"/agents/{run_id}{path}", json={})).status_code == 401
                assert (await forged.get("/agents")).status_code == 401
            async with client(multi_service, None) as anonymous:  # the SSE query-string token is checked too
                answer = await anonymous.get(f"/agents/{run_id}/stream", params={"access_token": token})
                assert answer.status_code == 401, name
        await alice.delete(f"/agents/{run_id}")


async def _reports(http: httpx2.AsyncClient) -> dict[str, Any]:
    window = {"from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z"}
    out: dict[str, Any] = {}
    for name, path in REPORTS.items():
        body = {**window, "toolName": "search_documents"} if name == "tool_parameters" else window
        answer = await http.post(ANALYTICS.format(report=path), json=body)
        assert answer.status_code == 200, (name, answer.text)
        out[name] = answer.json()
    return out


async def test_a_private_run_is_invisible_to_other_principals_everywhere(multi_service: RunningService) -> None:
    tokens = {name: await issue_token(multi_service, key) for name, key in KEYS.items()}
    async with client(multi_service, tokens["alice"]) as alice, client(multi_service, tokens["bob"]) as bob, \
            client(multi_service, tokens["reader"]) as reader:
        bob_before = await _reports(bob)
        private = (await alice.post("/agents", json={
            "interaction": "Demo", "visibility": "private", "interactive": False, "tags": ["okapi"],
            "data": {"task": "okapi secret", "steps": 2, "step_delay_ms": 1}})).json()
        run_id = private["id"]
        await wait_status(alice, run_id, {"completed"})
        assert (await alice.put(f"/agents/{run_id}/artifacts/notes.txt", content=b"okapi",
                                headers={"content-type": "text/plain"})).status_code == 201
        for path in ENDPOINTS:
            answer = await bob.get(f"/agents/{run_id}{path}")
            assert answer.status_code == 404, (path, answer.status_code)
            assert "okapi" not in answer.text
            assert (await alice.get(f"/agents/{run_id}{path}")).status_code in (200, 404 if "NoSuch" in path else 200)
        async with client(multi_service, None) as anonymous:
            refused = await anonymous.get(f"/agents/{run_id}/stream", params={"access_token": tokens["bob"]})
            assert refused.status_code == 404
            own = await anonymous.get(f"/agents/{run_id}/stream", params={"access_token": tokens["alice"]})
            assert own.status_code == 200 and "okapi" in own.text  # a finished run's stream ends
            signed = (await alice.get(f"/agents/{run_id}/artifacts/notes.txt", params={"url": "1"})).json()["url"]
            assert (await anonymous.get(signed)).content == b"okapi"
            parts = urlsplit(signed)
            query = dict(parse_qsl(parts.query))
            for changed in ({"signature": query["signature"][:-2] + "00"}, {"expires": str(int(query["expires"]) + 9)},
                            {"disposition": "attachment"}):
                forged = parts._replace(query=urlencode({**query, **changed})).geturl()
                assert (await anonymous.get(forged)).status_code == 403, changed
            other = parts._replace(path=parts.path.replace("notes.txt", "other.txt")).geturl()
            assert (await anonymous.get(other)).status_code in (403, 404)
        for method, path in WRITES:
            assert (await bob.request(method, f"/agents/{run_id}{path}", json={})).status_code == 404, path
        assert run_id not in json.dumps((await bob.get("/agents")).json())
        assert run_id not in json.dumps((await bob.get("/agents/search", params={"query": "okapi"})).json())
        assert run_id not in json.dumps((await bob.get("/agents/search", params={"tags": "okapi"})).json())
        assert await _reports(bob) == bob_before  # analytics: alice's private run counts for nobody else
        assert (await _reports(alice))["summary"] != bob_before["summary"]
        for path in ENDPOINTS[:3]:  # no workflow:run: refused even for what is visible
            assert (await reader.get(f"/agents/{run_id}{path}")).status_code == 403
        assert (await reader.post("/agents", json={"interaction": "Echo"})).status_code == 403
        assert (await reader.post(ANALYTICS.format(report="summary"), json={})).status_code == 403


@pytest.fixture
async def mcp_http(multi_service: RunningService) -> AsyncIterator[str]:
    """`/mcp` over HTTP in this loop, backed by the multi-principal service; the server holds no caller key."""
    port = free_port()
    settings = Settings(port=port, toolsets=TOOLSETS)
    async with fast_client(multi_service.base_url, multi_service.sts_url, multi_service.api_key) as own:
        server = build_server(settings, deps=ServerDeps(settings, own))
        app = build_http_app(server, settings, HttpOptions(auth="required"))
        async with serve_with_lifespan(app, port) as root:
            yield root


async def _session(root: str, bearer: str, name: str, runs: int) -> dict[str, Any]:
    """One caller's session: private runs, waits, messages, listing; returns what it saw."""
    seen: list[str] = []
    own: list[str] = []
    headers = {"Authorization": f"Bearer {bearer}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60)) as http, \
            Client(streamable_http_client(f"{root}/mcp", http_client=http)) as mcp:
        for number in range(runs):
            started = data(await mcp.call_tool("start_agent_run", {
                "interaction": "Demo", "visibility": "private", "interactive": False,
                "data": {"task": f"{name}-secret-{number}", "steps": 2, "step_delay_ms": 5}}))
            run_id = started["runs"][0]["run_id"]
            own.append(run_id)
            waited = await mcp.call_tool("wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30},
                                         progress_callback=_collect(seen))
            seen.append(text_of(waited))
            seen.append(text_of(await mcp.call_tool("get_agent_messages", {"run_id": run_id, "detail": "full"})))
            seen.append(text_of(await mcp.call_tool("list_agent_runs", {"limit": 200})))
            seen.append(text_of(await mcp.call_tool("list_agent_runs", {"query": "secret"})))
            seen.append(json.dumps([str(r.uri) for r in (await mcp.list_resources()).resources]))
        return {"own": own, "seen": "\n".join(seen), "mcp_headers": headers}


def _collect(seen: list[str]) -> Any:
    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message or "")

    return on_progress


async def test_concurrent_mcp_callers_never_see_each_others_private_runs(
        multi_service: RunningService, mcp_http: str) -> None:
    bob_jwt = await issue_token(multi_service, KEYS["bob"])  # one caller with a key, one with a JWT
    results: dict[str, dict[str, Any]] = {}

    async def run(name: str, bearer: str) -> None:
        results[name] = await _session(mcp_http, bearer, name, runs=3)

    with anyio.fail_after(STEP_TIMEOUT * 3):
        async with anyio.create_task_group() as group:
            group.start_soon(run, "alice", KEYS["alice"])
            group.start_soon(run, "bob", bob_jwt)
    alice, bob = results["alice"], results["bob"]
    assert "alice-secret" in alice["seen"] and "bob-secret" in bob["seen"]
    assert "bob-secret" not in alice["seen"] and "alice-secret" not in bob["seen"]
    for run_id in bob["own"]:
        assert run_id[-6:] not in alice["seen"]
    for run_id in alice["own"]:
        assert run_id[-6:] not in bob["seen"]

    headers = {"Authorization": f"Bearer {bob_jwt}"}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http, \
            Client(streamable_http_client(f"{mcp_http}/mcp", http_client=http)) as mcp:
        for tool, arguments in [("get_agent_run", {"run_id": alice["own"][0]}),
                                ("get_agent_messages", {"run_id": alice["own"][0]}),
                                ("wait_for_agent_runs", {"run_ids": alice["own"], "timeout_seconds": 5}),
                                ("list_agent_artifacts", {"run_id": alice["own"][0]}),
                                ("cancel_agent_run", {"run_id": alice["own"][0]}),
                                ("send_agent_input", {"run_id": alice["own"][0], "message": "hi"})]:
            result = await mcp.call_tool(tool, arguments)
            assert result.is_error and "404" in text_of(result), (tool, text_of(result))
            assert "alice-secret" not in text_of(result)


async def test_mcp_http_refuses_missing_bearers_and_foreign_hosts(mcp_http: str) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
    base = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
            "Authorization": f"Bearer {KEYS['alice']}"}
    async with httpx2.AsyncClient(base_url=mcp_http, timeout=10) as http:
        assert (await http.post("/mcp", json=initialize, headers=base)).status_code == 200
        no_bearer = {k: v for k, v in base.items() if k != "Authorization"}
        assert (await http.post("/mcp", json=initialize, headers=no_bearer)).status_code == 401
        for bad in ("Bearer", "Bearer sk-", "Bearer a.b", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 20000):
            refused = await http.post("/mcp", json=initialize, headers={**base, "Authorization": bad})
            assert refused.status_code == 401, bad[:30]
        for host in ("evil.example", "evil.example:80", "127.0.0.1.evil.example"):
            assert (await http.post("/mcp", json=initialize, headers={**base, "Host": host})).status_code == 421
        for origin in ("http://evil.example", "null", "http://127.0.0.1.evil.example"):
            answer = await http.post("/mcp", json=initialize, headers={**base, "Origin": origin})
            assert answer.status_code == 403, origin


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_a_non_loopback_bind_without_authentication_is_refused_at_start(host: str) -> None:
    done = subprocess.run([sys.executable, "-m", "mcp_agents", "serve", "--transport", "http", "--host", host,
                           "--port", str(free_port())], capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
                          env={"PATH": "/usr/bin:/bin", "MCP_AGENTS_DATA_DIR": "/nonexistent/never-created"})
    assert done.returncode == 2, done.stderr
    assert b"--auth required" in done.stderr and b"Traceback" not in done.stderr
