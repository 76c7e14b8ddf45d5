"""Backend choice: credentials mean a remote service; none means the embedded local service."""

from __future__ import annotations

import logging
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from mcp_agents.client._client import upstream_limits
from mcp_agents.local import RunningService
from mcp_agents.local.store import DB_FILE
from mcp_agents.server.app import build_server
from mcp_agents.server.backend import open_backend
from mcp_agents.server.deps import client_with
from mcp_agents.server.http import HttpOptions, build_http_app
from mcp_agents.settings import Settings
from tests.server.serving_helpers import api_client, serve_with_lifespan
from tests.support.processes import free_port


async def test_without_credentials_the_local_service_runs_in_process(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.load({"MCP_AGENTS_DATA_DIR": str(tmp_path / "data")})
    assert settings.uses_local_service
    with caplog.at_level(logging.WARNING, logger="mcp_agents.server"):
        async with open_backend(settings) as deps:
            assert deps.local is not None and deps.local.data_dir == tmp_path / "data"
            run = await deps.client.runs.create(interaction="Echo", data={"task": "hi"}, interactive=False)
            assert (await deps.client.runs.retrieve(run.id)).id == run.id
    assert any("embedded local service" in record.getMessage() for record in caplog.records)
    assert not any(deps.local.api_key in record.getMessage() for record in caplog.records)


async def test_a_server_stopped_before_any_request_never_starts_the_embedded_service(tmp_path: Path) -> None:
    """A client that only checks the server (launch, list, quit) costs no local service start: the service
    starts when a request needs it (or a moment after launch), and a stop before then skips it."""
    settings = Settings.load({"MCP_AGENTS_DATA_DIR": str(tmp_path / "data")})
    with anyio.fail_after(30):
        async with open_backend(settings) as deps:
            assert deps.local is not None
    assert (tmp_path / "data").is_dir() and not (tmp_path / "data" / DB_FILE).exists()


@pytest.mark.parametrize("broken", ["database is a directory", "data directory is a file"])
async def test_the_embedded_service_starts_behind_the_listing_and_a_failed_start_is_a_clear_tool_error(
        tmp_path: Path, broken: str) -> None:
    """`initialize` and `tools/list` never depend on the embedded service (it starts in the background); a
    tool call that needs it reports why it could not start, at once, instead of hanging."""
    data = tmp_path / "data"
    if broken == "database is a directory":
        (data / DB_FILE).mkdir(parents=True)  # the service cannot open its database
    else:
        data.write_text("not a directory")  # nor create its data directory
    settings = Settings.load({"MCP_AGENTS_DATA_DIR": str(data)})
    with anyio.fail_after(60):
        async with Client(build_server(settings)) as mcp:
            assert "start_agent_run" in {tool.name for tool in (await mcp.list_tools()).tools}
            failed = await mcp.call_tool("start_agent_run", {"interaction": "Echo", "data": {"task": "hi"}})
            assert failed.is_error
            text = " ".join(getattr(part, "text", "") for part in failed.content)
            assert "embedded local Agent Runs service could not start" in text and "MCP_AGENTS_DATA_DIR" in text
            listed = await mcp.call_tool("list_agent_runs", {})  # every later call says the same, at once
            assert listed.is_error and "could not start" in " ".join(getattr(p, "text", "") for p in listed.content)


async def test_with_an_api_key_the_server_talks_to_that_service(local_service: RunningService) -> None:
    settings = Settings.load({"VERTESIA_API_KEY": local_service.api_key, "VERTESIA_API_URL": local_service.base_url,
                              "VERTESIA_STS_URL": local_service.sts_url})
    async with open_backend(settings) as deps:
        assert deps.local is None
        run = await deps.client.runs.create(interaction="Echo", data={"task": "hi"}, interactive=False)
        assert run.id in {r.id for r in (await deps.client.runs.list()).items}
        assert client_with(deps, None) is deps.client
        view = client_with(deps, local_service.api_key)
        assert view is not deps.client and client_with(deps, local_service.api_key) is view  # cached per credential


async def test_the_built_server_opens_its_own_backend(tmp_path: Path) -> None:
    settings = Settings.load({"MCP_AGENTS_DATA_DIR": str(tmp_path)})
    async with Client(build_server(settings)) as mcp:
        assert mcp.server_info is not None and mcp.server_info.name == "mcp-agents"
        assert "wait_for_agent_runs" in (mcp.instructions or "")
        assert "start_agent_run" in {tool.name for tool in (await mcp.list_tools()).tools}
        started = await mcp.call_tool("start_agent_run", {"interaction": "Echo", "data": {"task": "hi"}})
        assert not started.is_error
        assert (tmp_path / "dev_api_key").exists()


async def test_a_team_deployment_without_a_credential_uses_each_callers_bearer_remotely(
        local_service: RunningService, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """`--auth required` and no VERTESIA credential: callers' bearers mean the remote service, so no
    embedded service is started; every call goes to VERTESIA_API_URL with the caller's own bearer."""
    port = free_port()
    settings = Settings.load({"VERTESIA_API_URL": local_service.base_url, "VERTESIA_STS_URL": local_service.sts_url,
                              "MCP_AGENTS_DATA_DIR": str(tmp_path / "embedded"), "MCP_AGENTS_PORT": str(port)})
    assert settings.uses_local_service
    options = HttpOptions(auth="required")
    async with open_backend(settings, callers_only=True) as deps:
        assert deps.local is None and not deps.client.credentials.configured
    app = build_http_app(build_server(settings, http=options), settings, options)
    with caplog.at_level(logging.WARNING, logger="mcp_agents.server.backend"):
        async with serve_with_lifespan(app, port) as root:
            async with httpx2.AsyncClient(base_url=root, timeout=10) as anonymous:
                refused = await anonymous.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                               headers={"Accept": "application/json, text/event-stream"})
                assert refused.status_code == 401
            bearer = {"Authorization": f"Bearer {local_service.api_key}"}
            async with httpx2.AsyncClient(headers=bearer, timeout=30) as http, \
                    Client(streamable_http_client(f"{root}/mcp", http_client=http)) as mcp:
                started = await mcp.call_tool("start_agent_run", {"interaction": "Echo", "data": {"task": "hi"}})
                assert not started.is_error, started.content
                run_id = started.structured_content["runs"][0]["run_id"]  # type: ignore[index]
    async with api_client(local_service) as client:
        assert (await client.runs.retrieve(run_id)).id == run_id  # the run lives on the remote service
    assert not (tmp_path / "embedded").exists()
    assert not any("embedded local service" in record.getMessage() for record in caplog.records)
    assert not any(local_service.api_key in record.getMessage() for record in caplog.records)


async def test_the_embedded_service_is_reached_within_the_configured_upstream_limits(tmp_path: Path) -> None:
    """MCP_AGENTS_UPSTREAM_CONNECTIONS and the per-credential shares apply to the embedded service as to a
    remote one (an HTTP server on the embedded service also serves callers with their own keys)."""
    settings = Settings.load({"MCP_AGENTS_DATA_DIR": str(tmp_path / "data"), "MCP_AGENTS_UPSTREAM_CONNECTIONS": "300",
                              "MCP_AGENTS_CALLER_STREAMS": "40", "MCP_AGENTS_CALLER_REQUESTS": "24"})
    async with open_backend(settings) as deps:
        assert deps.local is not None
        assert deps.client._pool.limits == upstream_limits(settings)  # the shares (a window for this test)
        run = await deps.client.runs.create(interaction="Echo", data={"task": "hi"}, interactive=False)
        assert (await deps.client.runs.retrieve(run.id)).id == run.id
        transport = deps.client._pool.client._transport._inner  # the pool behind the start gate
        assert transport._pool._max_connections == 300


async def test_a_shared_server_keeps_each_active_callers_view_so_keys_are_not_exchanged_on_every_call(
        local_service: RunningService) -> None:
    """A caller's view holds the JWT its `sk-` key was exchanged for. With a few hundred callers taking turns
    (a team server holds up to MCP_AGENTS_MAX_SESSIONS sessions), each must keep its view: a view dropped
    between two of its calls costs the caller a new key exchange on every call."""
    settings = Settings.load({"VERTESIA_API_KEY": local_service.api_key, "VERTESIA_API_URL": local_service.base_url,
                              "VERTESIA_STS_URL": local_service.sts_url})
    async with open_backend(settings) as deps:
        bearers = [f"sk-caller-{index:04d}-0123456789" for index in range(300)]
        views = [client_with(deps, bearer) for bearer in bearers]
        assert all(client_with(deps, bearer) is view for bearer, view in zip(bearers, views, strict=True))
