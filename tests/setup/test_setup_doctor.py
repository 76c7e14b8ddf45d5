"""`mcp-agents doctor`: passes against a working service, and says what to fix when something is wrong."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from mcp_agents.local import RunningService
from mcp_agents.settings import COMMAND, Settings
from mcp_agents.setup.clients import Platform
from mcp_agents.setup.doctor import Check, diagnose

TIMEOUT = 10.0


def _platform(tmp_path: Path) -> Platform:
    return Platform(home=tmp_path / "home", cwd=tmp_path / "project", system="linux", environ={})


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_remote_checks_pass_against_a_running_service(local_service: RunningService, tmp_path: Path) -> None:
    settings = Settings(api_key=local_service.api_key, api_url=local_service.base_url,
                        sts_url=local_service.sts_url)
    checks = _by_name(await diagnose(settings, _platform(tmp_path), TIMEOUT))
    assert [checks[name].status for name in ("backend", "credentials", "token service", "API")] == ["ok"] * 4
    assert checks["TLS trust"].status == "ok"  # loopback plain HTTP is fine
    rendered = "\n".join(check.line() for check in checks.values())
    assert local_service.api_key not in rendered


async def test_a_wrong_key_fails_at_the_token_service_and_says_so(local_service: RunningService,
                                                                   tmp_path: Path) -> None:
    wrong = "sk-wrong-0123456789abcdef"
    settings = Settings(api_key=wrong, api_url=local_service.base_url, sts_url=local_service.sts_url)
    checks = _by_name(await diagnose(settings, _platform(tmp_path), TIMEOUT))
    assert checks["token service"].status == "fail"
    assert "VERTESIA_API_KEY" in checks["token service"].detail
    assert checks["API"].status == "warn"  # not checked without a token; the failure is reported once
    assert wrong not in "\n".join(check.line() for check in checks.values())


async def test_a_closed_port_fails_with_where_and_what_to_check(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    settings = Settings(token="a.b.c", api_url=f"{base}/api/v1", sts_url=base)
    checks = _by_name(await diagnose(settings, _platform(tmp_path), TIMEOUT))
    assert checks["API"].status == "fail"
    assert "127.0.0.1" in checks["API"].detail


async def test_local_backend_round_trip_on_a_fresh_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    checks = _by_name(await diagnose(settings, _platform(tmp_path), TIMEOUT))
    assert checks["data dir"].status == "ok"
    assert checks["local service"].status == "ok", checks["local service"].detail
    assert "Echo" in checks["local service"].detail


async def test_an_unwritable_data_dir_fails_with_the_variable_to_set(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    checks = _by_name(await diagnose(Settings(data_dir=blocker / "data"), _platform(tmp_path), TIMEOUT))
    assert checks["data dir"].status == "fail" and "MCP_AGENTS_DATA_DIR" in checks["data dir"].detail


async def test_client_configs_are_found_or_the_install_command_is_suggested(tmp_path: Path) -> None:
    platform = _platform(tmp_path)
    checks = _by_name(await diagnose(Settings(data_dir=tmp_path / "d"), platform, TIMEOUT))
    assert checks["client config"].status == "warn" and f"{COMMAND} install" in checks["client config"].detail
    config = platform.home / ".cursor" / "mcp.json"
    config.parent.mkdir(parents=True)
    config.write_text(json.dumps({"mcpServers": {"mcp-agents": {"command": sys.executable, "args": []}}}))
    checks = _by_name(await diagnose(Settings(data_dir=tmp_path / "d"), platform, TIMEOUT))
    assert checks["client config"].status == "ok" and "Cursor" in checks["client config"].detail


def test_command_exits_non_zero_with_an_actionable_line_when_a_check_fails(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    env = {**os.environ, "VERTESIA_API_KEY": "sk-doctor-0123456789", "VERTESIA_API_URL": f"{base}/api/v1",
           "VERTESIA_STS_URL": base, "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "mcp_agents", "doctor", "--timeout", "5"], env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("fail") and "token service" in line and "VERTESIA_STS_URL" in line for line in lines)
    assert "sk-doctor-0123456789" not in result.stdout + result.stderr


def test_a_bad_setting_fails_the_configuration_check(tmp_path: Path) -> None:
    env = {**os.environ, "VERTESIA_REGION": "mars1", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "mcp_agents", "doctor"], env=env, stdin=subprocess.DEVNULL,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stdout.startswith("fail") and "VERTESIA_REGION" in result.stdout
