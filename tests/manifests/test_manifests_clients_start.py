"""Each ready client configuration parses and starts the server it names (over stdio, listing its tools).

`uvx mcp-agent-runs` is replaced by this checkout's interpreter (`python -m mcp_agents`), and the
client's own spelling of environment references is expanded the way that client would, with no
API key in the environment: the server must then start on the embedded local service.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import anyio
import pytest
from manifest_support import MANIFESTS
from mcp import Client, StdioServerParameters

from mcp_agents.settings import COMMAND
from mcp_agents.setup.clients import CLIENTS, SERVER_NAME, find_entry
from mcp_agents.setup.clients import Client as McpClient
from tests.support.processes import clean_env

pytestmark = pytest.mark.anyio  # marked at import, so parametrized async tests keep their parameters
START_SECONDS = 60
_REFERENCE = re.compile(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{input:[^}]+\}")


def _expand(value: str, environ: dict[str, str]) -> str:
    """`${VAR}`, `${VAR:-default}`, `${env:VAR}`; `${input:...}` as if the user left the prompt empty."""
    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return ""
        return environ.get(match.group(1), match.group(2) or "")
    return _REFERENCE.sub(replace, value)


def _base_environment(tmp_path: Path) -> dict[str, str]:
    return clean_env(MCP_AGENTS_DATA_DIR=str(tmp_path / "data"))


def _command(command: str, args: list[str]) -> tuple[str, list[str]]:
    if command == "uvx":
        assert args[0] == COMMAND, args
        return sys.executable, ["-m", "mcp_agents", *args[1:]]
    return command, args


def launch_from_client_config(client: McpClient, tmp_path: Path) -> StdioServerParameters:
    text = (MANIFESTS / "clients" / client.sample).read_text()
    document: dict[str, Any] = tomllib.loads(text) if client.format == "toml" else json.loads(text)
    entry = find_entry(document, client)
    assert entry is not None, f"{client.sample} has no {SERVER_NAME} server"
    base = _base_environment(tmp_path)
    env = {**base, **{name: _expand(str(value), base) for name, value in entry.get("env", {}).items()}}
    command, args = _command(entry["command"], list(entry["args"]))
    return StdioServerParameters(command=command, args=args, env=env)


def launch_from_bundle(tmp_path: Path) -> StdioServerParameters:
    manifest = json.loads((MANIFESTS / "mcpb" / "manifest.json").read_text())
    defaults = {name: str(item.get("default", "")).lower() if isinstance(item.get("default"), bool)
                else str(item.get("default", "")) for name, item in manifest["user_config"].items()}
    env = _base_environment(tmp_path)
    for name, value in manifest["server"]["mcp_config"]["env"].items():
        env[name] = re.sub(r"\$\{user_config\.([a-z_]+)\}", lambda m: defaults[m.group(1)], value)
    entry_point = MANIFESTS / "mcpb" / manifest["server"]["entry_point"]
    return StdioServerParameters(command=sys.executable, args=[str(entry_point)], env=env)


async def assert_serves_tools(params: StdioServerParameters) -> None:
    with anyio.fail_after(START_SECONDS):
        async with Client(params) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
    assert {"start_agent_run", "get_agent_run"} <= names


@pytest.mark.parametrize("client_name", sorted(CLIENTS))
async def test_client_configuration_starts_the_server(client_name: str, tmp_path: Path) -> None:
    await assert_serves_tools(launch_from_client_config(CLIENTS[client_name], tmp_path))


async def test_bundle_entry_point_starts_the_server(tmp_path: Path) -> None:
    await assert_serves_tools(launch_from_bundle(tmp_path))
