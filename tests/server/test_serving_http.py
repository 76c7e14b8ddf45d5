"""Streamable HTTP serving: /healthz, DNS-rebinding protection, bearer rules, binding rules, the CLI."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_agents.local import RunningService
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.server.http import HttpConfigError, HttpOptions, build_http_app, check_bind, transport_security
from mcp_agents.settings import OPTIONS, Settings
from tests.server.serving_helpers import MODES, api_client, serve_with_lifespan
from tests.support.processes import clean_env, free_port, stop

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
CLI_TIMEOUT = 60


@asynccontextmanager
async def http_server(service: RunningService, **options: Any) -> AsyncIterator[str]:
    port = free_port()
    settings = Settings(port=port)
    async with api_client(service) as client:
        server = build_server(settings, deps=ServerDeps(settings, client))
        app = build_http_app(server, settings, HttpOptions(**options))
        async with serve_with_lifespan(app, port) as root:
            yield root


async def test_healthz_and_dns_rebinding_protection(local_service: RunningService) -> None:
    async with http_server(local_service) as root, httpx2.AsyncClient(base_url=root, timeout=10) as http:
        health = await http.get("/healthz")
        assert health.status_code == 200
        assert health.json()["status"] == "ok" and health.json()["mcp_path"] == "/mcp"

        evil_host = await http.post("/mcp", json=INITIALIZE, headers={**HEADERS, "Host": "evil.example"})
        assert evil_host.status_code == 421
        evil_origin = await http.post("/mcp", json=INITIALIZE, headers={**HEADERS, "Origin": "http://evil.example"})
        assert evil_origin.status_code == 403
        fine = await http.post("/mcp", json=INITIALIZE, headers={**HEADERS, "Origin": root})
        assert fine.status_code == 200


async def test_a_malformed_bearer_is_refused_not_replaced(local_service: RunningService) -> None:
    async with http_server(local_service) as root, httpx2.AsyncClient(base_url=root, timeout=10) as http:
        refused = await http.post("/mcp", json=INITIALIZE, headers={**HEADERS, "Authorization": "Bearer not a key"})
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Bearer")
        assert "not a key" not in refused.text


async def test_required_auth_demands_a_bearer_but_health_stays_open(local_service: RunningService) -> None:
    async with http_server(local_service, auth="required") as root, \
            httpx2.AsyncClient(base_url=root, timeout=10) as http:
        assert (await http.get("/healthz")).status_code == 200
        missing = await http.post("/mcp", json=INITIALIZE, headers=HEADERS)
        assert missing.status_code == 401 and "resource_metadata" in missing.headers["www-authenticate"]
        with_key = await http.post("/mcp", json=INITIALIZE,
                                   headers={**HEADERS, "Authorization": f"Bearer {local_service.api_key}"})
        assert with_key.status_code == 200


@pytest.mark.parametrize("mode", MODES)
async def test_python_client_over_http_uses_its_bearer(local_service: RunningService, mode: str) -> None:
    async with http_server(local_service, auth="required") as root, \
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {local_service.api_key}"}, timeout=30) as http, \
            Client(streamable_http_client(f"{root}/mcp", http_client=http), mode=mode) as mcp:
        result = await mcp.call_tool("start_agent_run", {"interaction": "Echo", "data": {"task": "hi"}})
        assert not result.is_error
        run_id = result.structured_content["runs"][0]["run_id"]  # type: ignore[index]
        resources = {str(r.uri) for r in (await mcp.list_resources()).resources}
        assert f"agent-run://{run_id}" in resources


def test_non_loopback_bind_needs_required_auth() -> None:
    with pytest.raises(HttpConfigError, match="--auth required"):
        check_bind(Settings(host="0.0.0.0"), HttpOptions())
    check_bind(Settings(host="0.0.0.0"), HttpOptions(auth="required"))
    check_bind(Settings(host="::1"), HttpOptions())
    security = transport_security(Settings(host="0.0.0.0"), HttpOptions(allowed_hosts=("mcp.example.com",)))
    assert security.enable_dns_rebinding_protection
    assert {"0.0.0.0:*", "localhost:*", "127.0.0.1:*", "mcp.example.com"} <= set(security.allowed_hosts)


def test_http_options_come_from_env_and_flags() -> None:
    options = HttpOptions.load({"MCP_AGENTS_HTTP_AUTH": "required", "MCP_AGENTS_ALLOWED_HOSTS": "a.example, b:*"},
                               stateless=True)
    assert options == HttpOptions(auth="required", stateless=True, allowed_hosts=("a.example", "b:*"))
    with pytest.raises(HttpConfigError):
        HttpOptions.load({"MCP_AGENTS_HTTP_AUTH": "sometimes"})


def test_cli_refuses_a_public_bind_without_auth() -> None:
    done = subprocess.run([sys.executable, "-m", "mcp_agents", "serve", "--transport", "http", "--host", "0.0.0.0"],
                          capture_output=True, text=True, timeout=CLI_TIMEOUT, stdin=subprocess.DEVNULL)
    assert done.returncode == 2
    assert "refusing to serve on non-loopback address" in done.stderr and done.stdout == ""


def test_serve_help_lists_every_flag() -> None:
    done = subprocess.run([sys.executable, "-m", "mcp_agents", "serve", "--help"], capture_output=True, text=True,
                          timeout=CLI_TIMEOUT)
    assert done.returncode == 0
    for option in OPTIONS:
        if option.flag:
            assert option.flag in done.stdout, option.flag


async def test_stateless_mode_serves_handshake_clients_without_sessions(local_service: RunningService) -> None:
    async with http_server(local_service, stateless=True) as root:
        async with httpx2.AsyncClient(base_url=root, timeout=10) as http:
            opened = await http.post("/mcp", json=INITIALIZE, headers=HEADERS)
            assert opened.status_code == 200 and "mcp-session-id" not in opened.headers
        async with Client(f"{root}/mcp", mode="legacy") as mcp:
            result = await mcp.call_tool("start_agent_run", {"interaction": "Echo", "data": {"task": "hi"}})
            assert not result.is_error


@pytest.mark.parametrize("bearer", ["sk-not-a-key-of-this-service-0123", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln"])
async def test_a_refused_bearer_is_answered_401_before_any_session(local_service: RunningService, bearer: str) -> None:
    """The service's refusal is the caller's: 401 about its bearer (not the server's VERTESIA_API_KEY),
    before a session exists."""
    async with http_server(local_service) as root, \
            httpx2.AsyncClient(base_url=root, headers={"Authorization": f"Bearer {bearer}"}, timeout=30) as http:
        refused = await http.post("/mcp", json=INITIALIZE, headers=HEADERS)
        assert refused.status_code == 401 and "mcp-session-id" not in refused.headers
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        assert "refused this bearer" in refused.text and "VERTESIA" not in refused.text and bearer not in refused.text


def test_http_serving_lifts_the_open_file_limit_so_waits_are_not_capped_by_descriptors(tmp_path: Path) -> None:
    """Each wait holds two sockets: a replica started under the common soft limit must not stop near 500 waits."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(256, hard)
    if hard != resource.RLIM_INFINITY and hard <= low:
        pytest.skip("the hard open-file limit leaves nothing to lift")
    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "mcp_agents", "serve", "--transport", "http", "--port", str(port)]
    env = clean_env(VERTESIA_API_KEY="sk-test-not-used", MCP_AGENTS_DATA_DIR=str(tmp_path / "data"))
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                   preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard)))
    try:
        deadline = time.monotonic() + CLI_TIMEOUT
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-2000:]
            try:
                if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer /healthz"
            time.sleep(0.05)
        limits = Path(f"/proc/{process.pid}/limits").read_text()
        (line,) = [row for row in limits.splitlines() if row.startswith("Max open files")]
        soft = line.split()[3]
        assert soft == ("unlimited" if hard == resource.RLIM_INFINITY else str(hard)) or int(soft) > low
    finally:
        stop(process)


async def test_a_deeply_nested_body_from_an_accepted_caller_gets_a_parse_error_not_a_500(
        local_service: RunningService) -> None:
    """The bearer gate peeks at a session-opening body: nesting too deep for the JSON parser must reach the
    transport, which answers a JSON-RPC parse error, rather than escape the gate as a 500 with a traceback."""
    async with http_server(local_service) as root, \
            httpx2.AsyncClient(base_url=root, headers={"Authorization": f"Bearer {local_service.api_key}"},
                               timeout=30) as http:
        answer = await http.post("/mcp", content=b"[" * 60_000, headers=HEADERS)
        assert 400 <= answer.status_code < 500 and "error" in answer.json()
        assert (await http.post("/mcp", json=INITIALIZE, headers=HEADERS)).status_code == 200  # still serving
