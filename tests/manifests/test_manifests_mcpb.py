"""The MCP Bundle: its manifest passes `mcpb validate`, and `mcpb pack` builds a bundle from it."""

from __future__ import annotations

import json
import subprocess
import tomllib
import zipfile
from pathlib import Path

from manifest_support import MANIFESTS, npm_tool

from mcp_agents import __version__
from mcp_agents.settings import DISTRIBUTION

BUNDLE = MANIFESTS / "mcpb"


def _mcpb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(npm_tool("mcpb")), *args], capture_output=True, text=True, timeout=120)


def test_mcpb_validate_accepts_the_manifest() -> None:
    result = _mcpb("validate", str(BUNDLE / "manifest.json"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_mcpb_validate_refuses_a_broken_manifest(tmp_path: Path) -> None:
    manifest = json.loads((BUNDLE / "manifest.json").read_text())
    manifest["user_config"]["api_key"]["type"] = "password"  # not a user_config type
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert _mcpb("validate", str(tmp_path / "manifest.json")).returncode != 0


def test_user_config_covers_key_region_toolsets_and_read_only() -> None:
    manifest = json.loads((BUNDLE / "manifest.json").read_text())
    config = manifest["user_config"]
    assert config["api_key"]["sensitive"] is True
    assert {"region", "toolsets", "read_only"} <= set(config)
    env = manifest["server"]["mcp_config"]["env"]
    assert env["VERTESIA_API_KEY"] == "${user_config.api_key}"
    assert manifest["version"] == __version__


def test_bundle_pins_this_release_and_has_its_entry_point() -> None:
    project = tomllib.loads((BUNDLE / "pyproject.toml").read_text())["project"]
    assert project["dependencies"] == [f"{DISTRIBUTION}=={__version__}"]
    manifest = json.loads((BUNDLE / "manifest.json").read_text())
    assert (BUNDLE / manifest["server"]["entry_point"]).is_file()


def test_mcpb_pack_builds_the_bundle(tmp_path: Path) -> None:
    output = tmp_path / f"{DISTRIBUTION}-{__version__}.mcpb"
    result = _mcpb("pack", str(BUNDLE), str(output))
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(output) as bundle:
        assert {"manifest.json", "pyproject.toml", "server/main.py"} <= set(bundle.namelist())
