"""`mcp-agents bench --soak MINUTES`, for a few seconds: the table, the summary, a clean exit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.processes import clean_env

pytestmark = pytest.mark.timeout(120)


def test_a_short_soak_reports_throughput_errors_and_memory() -> None:
    env = clean_env()
    done = subprocess.run([sys.executable, "-m", "mcp_agents", "bench", "--soak", "0.08"], capture_output=True,
                          text=True, timeout=100, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "| elapsed s | done | per minute | errors | server MB | service MB |" in lines
    rows = [line for line in lines if line.startswith("|") and line.split("|")[1].strip().isdigit()]
    assert len(rows) >= 2 and int(rows[-1].split("|")[2]) > 0  # orchestrations were done
    assert " 0 errors" in done.stdout and "server alive" in done.stdout
