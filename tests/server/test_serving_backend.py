"""Backend choice: credentials mean a remote service; none means the embedded local service."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from mcp import Client

from mcp_agents.local import RunningService
from mcp_agents.server.app import build_server
from mcp_agents.server.backend import open_backend
from mcp_agents.server.deps import client_with
from mcp_agents.settings import Settings


async def test_without_credentials_the_local_service_runs_in_process(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.load({"MCP_AGENTS_DATA_DIR": str(tmp_path / "data")})
    assert settings.uses_local_service
    with caplog.at_level(logging.WARNING, logger="mcp_agents.server.backend"):
        async with open_backend(settings) as deps:
            assert deps.local is not None and deps.local.data_dir == tmp_path / "data"
            run = await deps.client.runs.create(interaction="Echo", data={"task": "hi"}, interactive=False)
            assert (await deps.client.runs.retrieve(run.id)).id == run.id
    assert any("embedded local service" in record.getMessage() for record in caplog.records)
    assert not any(deps.local.api_key in record.getMessage() for record in caplog.records)


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
