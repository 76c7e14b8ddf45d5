"""Processes the benchmark starts, and what /proc says about them.

Every process is started through `spawn`, which registers it for an atexit kill as well as the
context manager's own stop, so nothing outlives the benchmark even on an exception or Ctrl-C.
Every wait here is bounded.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

_LIVE: dict[int, subprocess.Popen[bytes]] = {}
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
STOP_SECONDS = 5.0


def _kill_leftovers() -> None:
    for process in list(_LIVE.values()):
        if process.poll() is None:
            process.kill()
            process.wait(timeout=STOP_SECONDS)
    _LIVE.clear()


atexit.register(_kill_leftovers)


def python_command(*args: str) -> list[str]:
    """`mcp-agents ARGS` run with this interpreter (no dependency on the console script being on PATH)."""
    return [sys.executable, "-m", "mcp_agents", *args]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after a bounded wait."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_SECONDS)
    _LIVE.pop(process.pid, None)


def _start(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    _LIVE[process.pid] = process
    return process


@asynccontextmanager
async def spawn(command: Sequence[str], *, env: Mapping[str, str], log_path: Path) -> AsyncIterator[
        subprocess.Popen[bytes]]:
    """Run `command` with stdout and stderr in `log_path`; stop it on exit."""
    process = await anyio.to_thread.run_sync(_start, list(command), dict(env), log_path)
    try:
        yield process
    finally:
        await anyio.to_thread.run_sync(stop, process)


async def wait_for_file(path: Path, process: subprocess.Popen[bytes], seconds: float, log_path: Path) -> Any:
    """The JSON a process writes to `path` once ready; fails early if the process dies."""
    deadline = time.monotonic() + seconds
    ready = anyio.Path(path)
    while time.monotonic() < deadline:
        exited = process.poll() is not None  # read before the file: a process may write it, then exit
        if await ready.exists():
            with contextlib.suppress(json.JSONDecodeError):  # half-written: read it again next round
                return json.loads(await ready.read_text(encoding="utf-8"))
        if exited:
            raise RuntimeError(f"process exited with {process.returncode} before it was ready: {tail(log_path)}")
        await anyio.sleep(0.02)
    raise TimeoutError(f"not ready after {seconds:.0f} s: {tail(log_path)}")


def tail(path: Path, lines: int = 8) -> str:
    try:
        return " | ".join(path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _status_field(pid: int, name: str) -> int:
    with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {name}")


def rss_kb(pid: int) -> int:
    """Resident memory (VmRSS) of a live process, in KiB."""
    return _status_field(pid, "VmRSS")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc/<pid>/stat)."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    # After the ")" closing the command name, utime and stime are the 12th and 13th fields.
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def children(parent: int) -> list[int]:
    """Pids of the live direct children of `parent`."""
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(entry))
    return found


def _argv(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().decode(errors="replace").rstrip("\0").split("\0")


def _start_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
        return int(handle.read().rsplit(")", 1)[1].split()[19])


async def child_running(parent: int, argv: Sequence[str], seconds: float = 10.0) -> int:
    """The pid of `parent`'s newest child running exactly `argv` (e.g. a stdio MCP server)."""
    wanted = list(argv)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found: list[tuple[int, int]] = []
        for pid in children(parent):
            try:
                if _argv(pid) == wanted:
                    found.append((_start_ticks(pid), pid))
            except OSError:
                continue
        if found:
            return max(found)[1]
        await anyio.sleep(0.02)
    raise TimeoutError(f"no child process running {' '.join(wanted)}")
