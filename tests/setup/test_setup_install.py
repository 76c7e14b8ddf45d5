"""`mcp-agents install`: merges into each client's file, backs up, is idempotent, never leaks the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from mcp_agents.cli import main
from mcp_agents.settings import COMMAND
from mcp_agents.setup.clients import CLIENTS, SERVER_NAME, Platform

KEY = "sk-test-0123456789abcdef"


def _install(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["install", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.bak-*"))


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VERTESIA_API_KEY", "VERTESIA_REGION", "VERTESIA_API_URL", "VERTESIA_STS_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("name", [name for name, client in CLIENTS.items() if client.format == "json"])
def test_json_clients_keep_other_servers_and_keys(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    client = CLIENTS[name]
    monkeypatch.setenv("VERTESIA_API_KEY", KEY)
    path = tmp_path / "config.json"
    original = {"theme": "dark", client.servers_key: {"other": {"command": "other-server", "args": ["--x"]}}}
    path.write_text(json.dumps(original))
    code, out, err = _install(capsys, name, "--path", str(path))
    assert code == 0, err
    written = json.loads(path.read_text())
    assert written["theme"] == "dark"
    assert written[client.servers_key]["other"] == original[client.servers_key]["other"]
    entry = written[client.servers_key][SERVER_NAME]
    assert entry["command"] == "uvx" and entry["args"] == [COMMAND, "serve"]
    assert KEY not in out + err
    (backup,) = _backups(path)
    assert json.loads(backup.read_text()) == original


def test_second_run_changes_nothing_and_makes_no_backup(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTESIA_API_KEY", KEY)
    path = tmp_path / "claude_desktop_config.json"
    path.write_text('{"mcpServers": {}}')
    assert _install(capsys, "claude-desktop", "--path", str(path))[0] == 0
    first = path.read_text()
    code, _, err = _install(capsys, "claude-desktop", "--path", str(path))
    assert code == 0 and "nothing changed" in err
    assert path.read_text() == first
    assert len(_backups(path)) == 1


def test_user_scope_file_gets_the_key_with_owner_only_permissions(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTESIA_API_KEY", KEY)
    path = tmp_path / "new" / "claude_desktop_config.json"
    assert _install(capsys, "claude-desktop", "--path", str(path))[0] == 0
    assert json.loads(path.read_text())["mcpServers"][SERVER_NAME]["env"] == {"VERTESIA_API_KEY": KEY}
    if os.name == "posix":
        assert path.stat().st_mode & 0o077 == 0
    assert _backups(path) == []  # nothing to back up for a new file


def test_project_scope_refers_to_the_environment_instead_of_writing_the_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTESIA_API_KEY", KEY)
    for name, expected in (("claude-code", "${VERTESIA_API_KEY:-}"), ("cursor", "${env:VERTESIA_API_KEY}")):
        path = tmp_path / f"{name}.json"
        assert _install(capsys, name, "--scope", "project", "--path", str(path))[0] == 0
        assert KEY not in path.read_text()
        assert json.loads(path.read_text())["mcpServers"][SERVER_NAME]["env"]["VERTESIA_API_KEY"] == expected


def test_vscode_prompts_through_an_input_and_keeps_other_inputs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"inputs": [{"type": "promptString", "id": "other"}], "servers": {}}))
    assert _install(capsys, "vscode", "--path", str(path))[0] == 0
    assert _install(capsys, "vscode", "--path", str(path))[0] == 0
    written = json.loads(path.read_text())
    assert [item["id"] for item in written["inputs"]] == ["other", "vertesia-api-key"]
    assert written["inputs"][1]["password"] is True
    entry = written["servers"][SERVER_NAME]
    assert entry["type"] == "stdio" and entry["env"]["VERTESIA_API_KEY"] == "${input:vertesia-api-key}"


def test_codex_toml_merge_keeps_comments_and_other_tables(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTESIA_API_KEY", KEY)
    path = tmp_path / "config.toml"
    original = ('# my settings\nmodel = "o4"\n\n[mcp_servers.other]\ncommand = "other"\n\n'
                '[mcp_servers.mcp-agents]\ncommand = "old"\n\n[mcp_servers.mcp-agents.env]\nX = "1"\n\n'
                '[profiles.fast]\nmodel = "mini"  # keep\n')
    path.write_text(original)
    code, out, err = _install(capsys, "codex", "--path", str(path))
    assert code == 0, err
    text = path.read_text()
    assert "# my settings" in text and 'model = "mini"  # keep' in text
    document = tomllib.loads(text)
    assert document["profiles"] == {"fast": {"model": "mini"}}
    assert document["mcp_servers"]["other"] == {"command": "other"}
    entry = document["mcp_servers"][SERVER_NAME]
    assert entry["command"] == "uvx" and entry["env"] == {"VERTESIA_API_KEY": KEY}
    assert KEY not in out + err
    assert _install(capsys, "codex", "--path", str(path))[0] == 0
    assert path.read_text() == text and len(_backups(path)) == 1


def test_codex_refuses_a_form_it_cannot_edit_safely(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    original = '[mcp_servers]\nmcp-agents = { command = "mine" }\n'
    path.write_text(original)
    code, _, err = _install(capsys, "codex", "--path", str(path))
    assert code == 1 and "edit it by hand" in err
    assert path.read_text() == original and _backups(path) == []


def test_invalid_json_is_left_alone_with_an_explanation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    code, _, err = _install(capsys, "gemini", "--path", str(path))
    assert code == 1 and "not valid JSON" in err
    assert path.read_text() == "{not json"


def test_print_masks_the_key_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERTESIA_API_KEY", KEY)
    other_secret = "sk-other-server-secret-123"
    for name in ("claude-desktop", "codex"):
        path = tmp_path / f"{name}.conf"
        if name == "claude-desktop":
            path.write_text(json.dumps({"mcpServers": {"other": {"command": "x", "env": {"K": other_secret}}}}))
        before = path.read_text() if path.exists() else None
        code, out, err = _install(capsys, name, "--print", "--path", str(path))
        assert code == 0
        assert KEY not in out + err and "********" in out
        assert other_secret not in out  # only our entry is shown, never the rest of the user's file
        assert (path.read_text() if path.exists() else None) == before


def test_local_command_uses_this_interpreter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mcp.json"
    assert _install(capsys, "cursor", "--command", "local", "--path", str(path))[0] == 0
    entry = json.loads(path.read_text())["mcpServers"][SERVER_NAME]
    assert entry["command"] == sys.executable and entry["args"] == ["-m", "mcp_agents", "serve"]


def test_default_paths_follow_each_client_and_platform(tmp_path: Path) -> None:
    linux = Platform(home=tmp_path, cwd=tmp_path / "proj", system="linux", environ={})
    mac = Platform(home=tmp_path, cwd=tmp_path / "proj", system="darwin", environ={})
    assert CLIENTS["claude-desktop"].path("user", linux) == tmp_path / ".config/Claude/claude_desktop_config.json"
    assert CLIENTS["claude-desktop"].path("user", mac) == (
        tmp_path / "Library/Application Support/Claude/claude_desktop_config.json")
    assert CLIENTS["claude-code"].path("project", linux) == tmp_path / "proj/.mcp.json"
    assert CLIENTS["vscode"].path("project", linux) == tmp_path / "proj/.vscode/mcp.json"
    assert CLIENTS["codex"].path("user", Platform(tmp_path, tmp_path, "linux", {"CODEX_HOME": "/c"})) == Path(
        "/c/config.toml")
    with pytest.raises(ValueError, match="--scope"):
        CLIENTS["claude-desktop"].path("project", linux)


def test_without_a_terminal_there_is_no_prompt_and_the_local_service_is_used(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    env = {key: value for key, value in os.environ.items() if key != "VERTESIA_API_KEY"}
    result = subprocess.run([sys.executable, "-m", "mcp_agents", "install", "claude-desktop", "--path", str(path)],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert "VERTESIA_API_KEY (Enter" not in result.stderr + result.stdout
    assert "embedded local service" in result.stderr
    assert "env" not in json.loads(path.read_text())["mcpServers"][SERVER_NAME]


def test_a_symlinked_config_is_updated_through_the_link(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "dotfiles" / "settings.json"
    target.parent.mkdir()
    target.write_text('{"mcpServers": {}}')
    link = tmp_path / "settings.json"
    link.symlink_to(target)
    assert _install(capsys, "gemini", "--path", str(link))[0] == 0
    assert link.is_symlink()
    assert SERVER_NAME in json.loads(target.read_text())["mcpServers"]
