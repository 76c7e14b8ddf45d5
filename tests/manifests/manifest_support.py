"""Paths and npm tools shared by the manifest tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
NODE_BIN = Path(__file__).parent / "node" / "node_modules" / ".bin"


def npm_tool(name: str) -> Path:
    """An npm-installed command of tests/manifests/node; skips with the reason when it cannot run here."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the npm-based checks need Node.js")
    tool = NODE_BIN / name
    if not tool.exists():
        pytest.skip(f"{tool} is missing: run `npm install` in tests/manifests/node")
    return tool
