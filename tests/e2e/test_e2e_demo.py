"""`mcp-agents demo`, the README quickstart, runs end to end and exits 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.processes import clean_env

DEMO_TIMEOUT = 60


def test_demo_delegates_shows_progress_answers_and_collects(tmp_path: Path) -> None:
    env = clean_env()
    done = subprocess.run(
        [sys.executable, "-m", "mcp_agents", "demo", "--steps", "2", "--step-delay-ms", "20", "--timeout", "50",
         "--data-dir", str(tmp_path / "demo")],
        capture_output=True, text=True, timeout=DEMO_TIMEOUT, env=env, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert "start_agent_run(interaction='Demo')" in out
    assert "PLAN" in out  # a progress line relayed while waiting
    assert "the agent asks:" in out and "answering: teal" in out
    assert "answer: Done:" in out and "You said: teal" in out
    assert "report.md" in out and "waits for your next message" in out and "cancelled" in out
    assert (tmp_path / "demo").is_dir()
