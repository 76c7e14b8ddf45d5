"""Everything derived from the code (manifests, README configuration table) is up to date."""

from __future__ import annotations

import json
import subprocess
import sys

from manifest_support import ROOT

from mcp_agents.settings import DISTRIBUTION
from mcp_agents.setup import generate, readme


def test_generated_files_are_up_to_date() -> None:
    stale = [str(path.relative_to(ROOT)) for path in generate.stale(ROOT)]
    assert stale == [], "run: python -m mcp_agents.setup.generate"


def test_readme_configuration_block_is_the_generated_table() -> None:
    text = (ROOT / "README.md").read_text()
    assert readme.current_block(text) == readme.configuration_table()


def test_check_mode_reports_a_stale_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "README.md").write_text(f"# x\n<!-- mcp-name: old/name -->\n{readme.INSTALL_BEGIN}\nuvx old serve\n"
                                        f"{readme.INSTALL_END}\n{readme.BEGIN}\nold\n{readme.END}\n")
    result = subprocess.run([sys.executable, "-m", "mcp_agents.setup.generate", "--check", "--root", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "out of date: README.md" in result.stderr and "out of date: manifests/server.json" in result.stderr
    fixed = subprocess.run([sys.executable, "-m", "mcp_agents.setup.generate", "--root", str(tmp_path)],
                           capture_output=True, text=True, timeout=60)
    assert fixed.returncode == 0
    assert generate.stale(tmp_path) == []


def test_a_release_namespace_renames_the_registry_entry_and_the_readme_marker(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "README.md").write_text((ROOT / "README.md").read_text())
    done = subprocess.run([sys.executable, "-m", "mcp_agents.setup.generate", "--root", str(tmp_path),
                           "--registry-namespace", "io.github.someone"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    name = f"io.github.someone/{DISTRIBUTION}"
    assert json.loads((tmp_path / "manifests" / "server.json").read_text())["name"] == name
    assert f"<!-- mcp-name: {name} -->" in (tmp_path / "README.md").read_text()
    refused = subprocess.run([sys.executable, "-m", "mcp_agents.setup.generate", "--root", str(tmp_path),
                              "--registry-namespace", "not a namespace"], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "reverse-DNS" in refused.stderr
