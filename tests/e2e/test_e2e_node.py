"""The TypeScript SDK (npm `@modelcontextprotocol/sdk`) as an independent client over stdio."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.processes import Service

NODE_DIR = Path(__file__).parent / "node"
NODE_TIMEOUT = 60


def test_typescript_sdk_client_delegates_and_waits(service: Service) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the TypeScript SDK client cannot run")
    if not (NODE_DIR / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir():
        pytest.skip("run `npm install` in tests/e2e/node first (.ci/run does)")
    done = subprocess.run([node, str(NODE_DIR / "client.mjs")], env=service.env(MCP_AGENTS_PYTHON=sys.executable),
                          capture_output=True, text=True, timeout=NODE_TIMEOUT, cwd=NODE_DIR)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["server"]["name"] == "mcp-agents"
    names = {tool["name"] for tool in out["tools"]}
    assert {"start_agent_run", "wait_for_agent_runs", "get_agent_run"} <= names
    assert all(tool["readOnly"] is not None for tool in out["tools"])
    assert out["done"] and out["status"] == "completed" and out["answer"].startswith("Done: node")
    assert out["progress"] and all(len(p["message"] or "") <= 200 for p in out["progress"])
    assert out["resourceStatus"] == "completed"
