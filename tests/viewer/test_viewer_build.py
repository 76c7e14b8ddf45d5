"""The committed run-viewer.html is the build of its sources: a changed source without a rebuild fails here."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mcp_agents.server import viewer

WEB = Path(viewer.__file__).parent / "web"
BUILT = Path(viewer.__file__).parent / viewer.VIEW_FILE
REBUILD = "cd mcp_agents/server/viewer/web && npm ci && npm run build"


def sources_digest() -> str:
    """The digest build.mjs stamps into the file: every file the build reads, by path and SHA-256."""
    files = sorted(["build.mjs", "package-lock.json", "package.json",
                    *(f"src/{path.name}" for path in (WEB / "src").iterdir())])
    lines = "".join(f"{name} {hashlib.sha256((WEB / name).read_bytes()).hexdigest()}\n" for name in files)
    return hashlib.sha256(lines.encode()).hexdigest()[:32]


def test_the_built_view_is_stamped_with_its_current_sources() -> None:
    """No Node needed: a source edited after the last build changes the digest."""
    assert f"sources {sources_digest()}\"" in BUILT.read_text(encoding="utf-8"), f"run-viewer.html is stale: {REBUILD}"


def test_rebuilding_gives_the_committed_bytes(tmp_path: Path) -> None:
    """The locked build is reproducible: the same sources give byte for byte the committed file."""
    node = shutil.which("node")
    if node is None or not (WEB / "node_modules" / "esbuild").is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail("CI must install the viewer's build (npm ci in mcp_agents/server/viewer/web)")
        pytest.skip(f"node or the viewer's npm packages are missing ({REBUILD})")
    out = tmp_path / "run-viewer.html"
    done = subprocess.run([node, str(WEB / "build.mjs"), "--out", str(out)], capture_output=True, text=True,
                          timeout=120, cwd=WEB)
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.read_bytes() == BUILT.read_bytes(), f"run-viewer.html differs from a fresh build: {REBUILD}"
