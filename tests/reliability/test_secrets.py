"""No credential (API key, JWT, `access_token` value) in any log line, error, tool result or progress message.

A representative session (several callers and credentials, faults, refusals, errors) runs with every
logger at DEBUG; everything it produced is then scanned for the secrets it used and for anything
shaped like one.
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from mcp_agents.local import LocalServiceConfig, RunningService, run_local_service
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.server.http import HttpOptions, build_http_app
from mcp_agents.settings import TOOLSETS, Settings
from tests.local.helpers import KEYS, issue_token
from tests.reliability.helpers import STEP_TIMEOUT, fast_client
from tests.server.serving_helpers import serve_with_lifespan
from tests.support.fault_proxy import FaultProxy
from tests.support.processes import LocalServiceProcess, clean_env, free_port, start_http_server, stop

pytestmark = pytest.mark.timeout(120)
SHAPES = re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}|access_token=[^&\s\"']+")


class Transcript:
    """Everything a session showed anyone: tool results, progress lines, errors."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def result(self, result: CallToolResult) -> CallToolResult:
        self.parts.append(json.dumps(result.model_dump(mode="json")))
        return result

    async def progress(self, progress: float, total: float | None, message: str | None) -> None:
        self.parts.append(message or "")

    def text(self) -> str:
        return "\n".join(self.parts)


def assert_no_secrets(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a credential ({secret[:6]}…) appears in {where}"
    leaked = SHAPES.findall(text)
    assert not leaked, f"credential-shaped text in {where}: {[item[:12] + '…' for item in leaked]}"


def log_text(records: list[logging.LogRecord]) -> str:
    lines = []
    for record in records:
        lines.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            lines.extend(traceback.format_exception(record.exc_info[1]))
    return "\n".join(lines)


async def session(mcp_url: str, bearer: str | None, transcript: Transcript, proxy: FaultProxy | None) -> None:
    """Start, wait (through stream cuts), read, upload, fail in several ways."""
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=60)) as http, \
            Client(streamable_http_client(mcp_url, http_client=http)) as mcp:
        async def call(tool: str, arguments: dict[str, Any], **options: Any) -> CallToolResult:
            with anyio.fail_after(STEP_TIMEOUT):
                return transcript.result(await mcp.call_tool(tool, arguments, **options))

        started = await call("start_agent_run", {"interaction": "Demo", "interactive": False, "visibility": "private",
                                                 "data": {"task": "leak check", "steps": 2, "step_delay_ms": 5}})
        run_id = (started.structured_content or {})["runs"][0]["run_id"]
        if proxy is not None:
            proxy.cut_streams_after(events=1, times=2)
        await call("wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30},
                   progress_callback=transcript.progress)
        await call("get_agent_run", {"run_id": run_id, "include": ["artifacts", "details", "internals"]})
        await call("get_agent_messages", {"run_id": run_id, "detail": "full"})
        await call("upload_agent_artifact", {"run_id": run_id, "path": "in/a.txt", "text": "hello"})
        await call("read_agent_artifact", {"run_id": run_id, "path": "in/a.txt"})
        await call("read_agent_artifact", {"run_id": run_id, "path": "report.md"})
        await call("get_agent_analytics", {"report": "summary"})
        await call("get_agent_run", {"run_id": "no-such-run"})  # 404
        await call("read_agent_artifact", {"run_id": run_id, "path": "../../etc/passwd"})  # refused
        if proxy is not None:
            proxy.fail_next(20, status=503, path_contains=f"/agents/{run_id}")
            await call("get_agent_run", {"run_id": run_id})  # retries, then a 503 error
            proxy.reset()
        transcript.parts.append(json.dumps([str(r.uri) for r in (await mcp.list_resources()).resources]))


@pytest.fixture
async def keyed_service(tmp_path: Path) -> AsyncIterator[RunningService]:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": [{"key": KEYS["alice"], "id": "alice", "principal": "user:alice"},
                                         {"key": KEYS["bob"], "id": "bob", "principal": "user:bob"}]}))
    config = LocalServiceConfig(data_dir=tmp_path / "data", keys_file=keys, heartbeat_seconds=0.2)
    async with run_local_service(config) as service:
        yield service


async def test_an_in_process_session_leaks_no_credential(keyed_service: RunningService,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    service = keyed_service
    bob_jwt = await issue_token(service, KEYS["bob"])
    forged = bob_jwt[:-4] + ("AAAA" if not bob_jwt.endswith("AAAA") else "BBBB")
    transcript = Transcript()
    port = free_port()
    settings = Settings(port=port, toolsets=TOOLSETS)
    async with FaultProxy(service.sts_url, seed=5) as proxy, \
            fast_client(proxy.url + "/api/v1", proxy.url, service.api_key) as own:
        server = build_server(settings, deps=ServerDeps(settings, own))
        app = build_http_app(server, settings, HttpOptions(auth="optional"))
        async with serve_with_lifespan(app, port) as root:
            for bearer in (KEYS["alice"], bob_jwt, None):
                await session(f"{root}/mcp", bearer, transcript, proxy)
            # refused credentials: a forged JWT and an unknown key are checked with the backend, refused there,
            # and answered 401 before any session exists
            for bad in (forged, "sk-unknown-0123456789abcdef"):
                headers = {"Authorization": f"Bearer {bad}", "Accept": "application/json, text/event-stream"}
                async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
                    refused = await http.post(f"{root}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
                    assert refused.status_code == 401
                    transcript.parts.append(refused.text + str(refused.headers))
            # the SSE query-string credential, straight and through the proxy, accepted and refused; the
            # test's own HTTP client (and the proxy's) would log the URL it was given: only the service is scanned
            quiet = [logging.getLogger(name) for name in ("httpx2", "httpcore2")]
            for logger in quiet:
                logger.setLevel(logging.WARNING)
            async with httpx2.AsyncClient(timeout=10) as http:
                for base in (service.base_url, proxy.url + "/api/v1"):
                    for token in (bob_jwt, forged):
                        answer = await http.get(f"{base}/agents/nope/stream", params={"access_token": token})
                        assert answer.status_code in (401, 404)
                        transcript.parts.append(answer.text)
            for logger in quiet:
                logger.setLevel(logging.NOTSET)
    secrets = [service.api_key, KEYS["alice"], KEYS["bob"], bob_jwt, forged]
    assert_no_secrets(transcript.text(), secrets, "tool results and progress messages")
    assert_no_secrets(log_text(caplog.records), secrets, "the log")
    assert len(caplog.records) > 20  # the session did log: the scan looked at something


def test_a_new_development_key_is_not_printed(tmp_path: Path) -> None:
    """Regression: `mcp-agents local` printed a newly created development key on a piped stderr, where MCP hosts
    and supervisors keep logs. Off a terminal it is only stored (0600) and referred to by its file."""
    local = LocalServiceProcess(tmp_path / "data", args=("--log-level", "debug"))
    try:
        local.start()
    finally:
        local.stop(timeout=15)
    key = (tmp_path / "data" / "dev_api_key").read_text().strip()
    assert key.startswith("sk-") and "dev_api_key" in local.stderr()
    assert_no_secrets(local.stdout() + local.stderr(), [key], "the local service's output")


async def test_server_and_service_processes_log_no_credential(tmp_path: Path) -> None:
    """`mcp-agents serve --transport http` at DEBUG over `mcp-agents local`: both stderr streams are clean."""
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"keys": [{"key": KEYS["alice"], "id": "alice", "principal": "user:alice"}]}))
    service = LocalServiceProcess(tmp_path / "data", "sk-rel-secret-dev-key-0123456789", port=free_port(),
                                  keys_file=keys)
    server_log = tmp_path / "server.log"
    transcript = Transcript()
    try:
        await service.astart()
        env = clean_env(VERTESIA_API_URL=service.base_url, VERTESIA_STS_URL=service.sts_url,
                        VERTESIA_API_KEY="sk-rel-secret-dev-key-0123456789", MCP_AGENTS_LOG_LEVEL="debug",
                        PYTHONUNBUFFERED="1")
        server, root = await anyio.to_thread.run_sync(
            lambda: start_http_server(env, "--toolsets", "all", log=server_log))
        try:
            alice_jwt = await _token(service, KEYS["alice"])
            for bearer in (KEYS["alice"], alice_jwt, None):
                await session(f"{root}/mcp", bearer, transcript, None)
        finally:
            stop(server, timeout=15)
    finally:
        service.stop()
    secrets = ["sk-rel-secret-dev-key-0123456789", KEYS["alice"], alice_jwt]
    assert_no_secrets(transcript.text(), secrets, "tool results and progress messages")
    text = server_log.read_text(errors="replace")
    assert_no_secrets(text, secrets, "the MCP server's stderr")
    assert_no_secrets(service.stdout() + service.stderr(), secrets, "the local service's stderr")


async def _token(service: LocalServiceProcess, key: str) -> str:
    async with httpx2.AsyncClient(timeout=10) as http:
        answer = await http.post(f"{service.sts_url}/token/issue", json={"type": "apikey", "key": key})
        return str(answer.json()["token"])
