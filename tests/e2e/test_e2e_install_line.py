"""The README's install line, run as written (`uvx mcp-agent-runs serve`), starts our server: uv resolves the
package name to a wheel of this checkout (offered with UV_FIND_LINKS, as PyPI offers a release), installs it in
a fresh cache with its dependencies, and a real MCP client then finds an agent and starts it by that name."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from mcp_agents.settings import COMMAND, DISTRIBUTION
from mcp_agents.setup import readme
from tests.e2e.clients import call, wait_until_answered
from tests.support.processes import clean_env

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BUILD_TIMEOUT = 180
START_TIMEOUT = 300  # a cold uv cache downloads the dependencies once


def install_line() -> list[str]:
    """The first command of the README's generated install block."""
    text = (ROOT / "README.md").read_text()
    block = text[text.index(readme.INSTALL_BEGIN):text.index(readme.INSTALL_END)]
    first = re.search(r"```sh\n(.+)\n", block)
    assert first is not None, "the README's install block has no shell command"
    return shlex.split(first.group(1), comments=True)


@pytest.fixture(scope="module")
def uv_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A wheel of this checkout, and an environment in which `uvx` finds it and nothing of ours is cached."""
    if not (BIN / "uvx").exists():
        pytest.skip("uv is not installed in this environment (it is part of the test extra)")
    work = tmp_path_factory.mktemp("install-line")
    wheels = work / "wheels"
    built = subprocess.run([str(BIN / "uv"), "build", "--wheel", "--out-dir", str(wheels), str(ROOT)],
                           capture_output=True, text=True, timeout=BUILD_TIMEOUT, stdin=subprocess.DEVNULL)
    assert built.returncode == 0, built.stderr[-3000:]
    assert [path.name.split("-")[0] for path in wheels.glob("*.whl")] == [DISTRIBUTION.replace("-", "_")]
    return clean_env(PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", UV_FIND_LINKS=str(wheels),
                     UV_CACHE_DIR=str(work / "uv-cache"), UV_PYTHON=sys.executable, UV_NO_CONFIG="1",
                     UV_TOOL_DIR=str(work / "uv-tools"), MCP_AGENTS_DATA_DIR=str(work / "data"))


def test_the_readme_installs_our_package_by_its_own_name() -> None:
    assert install_line() == ["uvx", COMMAND, "serve"]


async def test_the_readme_install_line_runs_our_server(uv_env: dict[str, str]) -> None:
    command, *args = install_line()
    with anyio.fail_after(START_TIMEOUT):  # the README's first-start tip: fetches and caches the package
        version = await anyio.run_process([command, *args[:-1], "--version"], env=uv_env, check=False,
                                          stdin=subprocess.DEVNULL)
    assert version.returncode == 0, version.stderr.decode()[-3000:]
    assert version.stdout.decode().startswith(DISTRIBUTION)
    params = StdioServerParameters(command=command, args=args, env=uv_env)
    with anyio.fail_after(START_TIMEOUT):
        async with Client(params) as mcp:
            assert mcp.server_info is not None and mcp.server_info.name == "mcp-agents"
            agents = (await call(mcp, "list_agents", {"query": "echo"}))["agents"]
            assert [agent["name"] for agent in agents] == ["Echo"]
            started = await call(mcp, "start_agent_run", {"interaction": agents[0]["name"], "interactive": False,
                                                          "data": {"task": "installed"}})
            run_id = started["runs"][0]["run_id"]
            runs = await wait_until_answered(mcp, [run_id])
            assert runs[run_id]["status"] == "completed" and runs[run_id]["answer"] == "installed"
