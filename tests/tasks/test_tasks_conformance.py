"""The conformance suite (`@modelcontextprotocol/conformance`, Node 22) against the project's Tasks code.

`tasks-*` run on a fixture server (`conformance_fixture.py`) built from the Tasks extension, over
the local service; `http-header-validation` runs on the real server. Every check the suite runs passes.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest

from mcp_agents.client import AgentRunsClient
from mcp_agents.local import LocalServiceConfig, RunningService, run_local_service
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.server.http import HttpOptions, build_http_app
from mcp_agents.settings import Settings
from tests.server.serving_helpers import api_client, serve_with_lifespan
from tests.support.fault_proxy import FaultProxy
from tests.support.processes import free_port
from tests.tasks.conformance_fixture import fixture_server
from tests.tasks.node_runner import NODE22, NODE_DIR, node_binary

KEY = "conformance fixture task key of 32+ characters"
TASK_SCENARIOS = ["tasks-lifecycle", "tasks-capability-negotiation", "tasks-wire-fields",
                  "tasks-request-state-removal", "tasks-mrtr-input", "tasks-request-headers",
                  "tasks-dispatch-and-envelope", "tasks-status-notifications", "tasks-required-task-error",
                  "tasks-mrtr-composition"]
SCENARIO_TIMEOUT = 120.0
NO_CREDENTIAL_FOR_IT = 1_000_000


async def conformance(url: str, scenario: str) -> str:
    node_binary(need_22=True)
    env = {**os.environ, "PATH": f"{NODE22.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    runner = NODE_DIR / "node_modules" / ".bin" / "conformance"
    with anyio.fail_after(SCENARIO_TIMEOUT):
        done = await anyio.run_process([str(runner), "server", "--url", url, "--scenario", scenario], env=env,
                                       cwd=NODE_DIR, check=False)
    output = done.stdout.decode() + done.stderr.decode()
    summary = re.search(r"Passed: (\d+)/(\d+), (\d+) failed", output)
    assert done.returncode == 0 and summary and summary.group(3) == "0", f"{scenario}:\n{output[-4000:]}"
    return output


@asynccontextmanager
async def fixture(data_dir: Path) -> AsyncIterator[str]:
    """The local service (with the Fixture interaction) behind a fault proxy, and the fixture server over it."""
    config = LocalServiceConfig(data_dir=data_dir, interactions=["tests.tasks.conformance_fixture:INTERACTIONS"])
    async with run_local_service(config) as service:
        origin, api_path = service.base_url.split("/api/", 1)
        async with FaultProxy(origin) as proxy, AgentRunsClient(
                base_url=f"{proxy.url}/api/{api_path}", api_key=service.api_key, sts_url=service.sts_url) as client:

            async def refuse(run_id: str) -> None:  # the service now refuses the credential for this run
                proxy.fail_next(NO_CREDENTIAL_FOR_IT, status=401, path_contains=f"/agents/{run_id}")

            port = free_port()
            app = build_http_app(fixture_server(client, KEY, refuse), Settings(port=port), HttpOptions())
            async with serve_with_lifespan(app, port) as root:
                yield f"{root}/mcp"


@pytest.mark.parametrize("scenario", TASK_SCENARIOS)
async def test_tasks_scenarios_pass_on_a_fixture_server_built_from_the_tasks_extension(
        scenario: str, tmp_path: Path) -> None:
    async with fixture(tmp_path) as url:
        await conformance(url, scenario)


async def test_http_header_validation_passes_on_the_real_server(local_service: RunningService) -> None:
    async with api_client(local_service) as client:
        settings = Settings(task_key=KEY)
        port = free_port()
        server = build_server(settings, deps=ServerDeps(settings, client), http=HttpOptions())
        async with serve_with_lifespan(build_http_app(server, Settings(port=port), HttpOptions()), port) as root:
            await conformance(f"{root}/mcp", "http-header-validation")
