"""The MCP Inspector CLI (npm), an independent client, lists the tools and starts and reads a run,
over stdio and over streamable HTTP, against `mcp-agents serve` on the embedded local service (or, with
`--auth required`, on `mcp-agents local` as a separate process)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from manifest_support import npm_tool

from tests.support.processes import LocalServiceProcess, clean_env, start_http_server, stop

CALL_SECONDS = 90
SERVER_START_SECONDS = 30


def _environment(data_dir: Path) -> dict[str, str]:
    return clean_env(MCP_AGENTS_DATA_DIR=str(data_dir))


def run_inspector(target: list[str], *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [str(npm_tool("mcp-inspector")), "--cli", *target, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=CALL_SECONDS, env=env,
                          stdin=subprocess.DEVNULL)


def inspector(target: list[str], *args: str, env: dict[str, str]) -> dict[str, Any]:
    """Run one Inspector CLI call and return its JSON answer."""
    result = run_inspector(target, *args, env=env)
    assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def _find(value: Any, key: str) -> Any:
    """The first value of `key` anywhere in a JSON document."""
    if isinstance(value, dict):
        if key in value:
            return value[key]
        items = list(value.values())
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        found = _find(item, key)
        if found is not None:
            return found
    return None


def exercise(target: list[str], env: dict[str, str]) -> None:
    """tools/list, then start_agent_run (Echo, waiting for it) and get_agent_run on the same run."""
    listed = inspector(target, "--method", "tools/list", env=env)
    names = {tool["name"] for tool in listed["tools"]}
    assert {"start_agent_run", "get_agent_run", "wait_for_agent_runs"} <= names

    task = f"inspector-{uuid.uuid4().hex[:8]}"
    started = inspector(target, "--method", "tools/call", "--tool-name", "start_agent_run", "--tool-arg",
                        "interaction=Echo", f'data={{"task": "{task}"}}', "interactive=false", "wait_seconds=20",
                        env=env)
    assert started.get("isError") is not True, started
    run_id = _find(started["structuredContent"], "run_id")
    assert isinstance(run_id, str) and run_id
    assert task in json.dumps(started)

    fetched = inspector(target, "--method", "tools/call", "--tool-name", "get_agent_run", "--tool-arg",
                        f"run_id={run_id}", env=env)
    assert fetched.get("isError") is not True, fetched
    assert run_id in json.dumps(fetched["structuredContent"])
    assert "completed" in json.dumps(fetched["structuredContent"])


def test_inspector_over_stdio(tmp_path: Path) -> None:
    env = _environment(tmp_path / "data")
    target = ["-e", f"MCP_AGENTS_DATA_DIR={env['MCP_AGENTS_DATA_DIR']}", sys.executable, "-m", "mcp_agents", "serve"]
    exercise(target, env)


LOCAL_KEY = "sk-local-inspector-0123456789"


@pytest.fixture(params=["optional", "required"])
def http_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str], str]]:
    """`mcp-agents serve --transport http --auth MODE` on a free loopback port; always stopped.

    `optional`: the server runs the embedded local service. `required` is the Docker/Kubernetes mode: no
    credential of its own, it talks to a remote Agent Runs API (here `mcp-agents local` as a subprocess)
    with every caller's bearer (here that service's development key).
    """
    env = _environment(tmp_path / "data")
    with contextlib.ExitStack() as stack:
        if request.param == "required":
            local = stack.enter_context(LocalServiceProcess(tmp_path / "service-data", LOCAL_KEY))
            server_env = clean_env(VERTESIA_API_URL=local.base_url, VERTESIA_STS_URL=local.sts_url)
        else:
            server_env = {**env, "MCP_AGENTS_LOCAL_API_KEY": LOCAL_KEY}
        process, root = start_http_server(server_env, "--host", "127.0.0.1", "--auth", request.param,
                                          log=tmp_path / "server.log", timeout=SERVER_START_SECONDS)
        stack.callback(stop, process)
        yield f"{root}/mcp", env, request.param


def test_inspector_over_streamable_http(http_server: tuple[str, dict[str, str], str]) -> None:
    url, env, auth = http_server
    target = [url, "--transport", "http"]
    if auth == "required":
        refused = run_inspector(target, "--method", "tools/list", env=env)
        assert refused.returncode != 0  # no bearer, no service
        target += ["--header", f"Authorization: Bearer {LOCAL_KEY}"]
    exercise(target, env)
