"""Subprocesses of the tests: `mcp-agents local` and `mcp-agents serve --transport http`.

One place for starting them with a clean environment, waiting (bounded) until they are ready, and
stopping them (terminate, then kill), so every test that starts one also stops it the same way.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import anyio

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
POLL_INTERVAL = 0.05
LOG_TAIL = 3000


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any VERTESIA_*/MCP_AGENTS_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VERTESIA_", "MCP_AGENTS_"))}
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> int:
    """Terminate, then kill if it does not exit in time; return its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    return int(process.returncode)


def spawn(command: list[str], env: dict[str, str], log: Path | None) -> subprocess.Popen[bytes]:
    """Start a process with stdout and stderr appended to `log` (if None: stdout discarded, stderr
    inherited); the caller stops it."""
    if log is None:
        return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)


def _tail(log: Path | None) -> str:
    return log.read_text(errors="replace")[-LOG_TAIL:] if log is not None and log.exists() else ""


class LocalServiceProcess:
    """`mcp-agents local` as a subprocess: start (bounded wait for its ready file), kill, restart, stop.

    `port=0` lets the service pick a port (a restart may then get another one); pass `free_port()` to keep
    one across restarts. stdout and stderr go to separate files next to the data dir (`.stdout()`,
    `.stderr()`). From async tests use `await proc.astart()` (the wait runs in a worker thread).
    """

    def __init__(self, data_dir: Path, api_key: str | None = None, *, port: int = 0, keys_file: Path | None = None,
                 heartbeat: float = 0.2, args: tuple[str, ...] = (), env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.api_key = api_key
        self.port = port
        self.keys_file = keys_file
        self.heartbeat = heartbeat
        self.args = args
        self.env = clean_env() if env is None else env
        name = f"service-{port}" if port else f"service-{data_dir.name}"
        self.ready = data_dir.parent / f"{name}.ready.json"
        self.log = data_dir.parent / f"{name}.log"
        self.out = data_dir.parent / f"{name}.out"
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    @property
    def base_url(self) -> str:
        return str(self.info["base_url"])

    @property
    def sts_url(self) -> str:
        return str(self.info["sts_url"])

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "mcp_agents", "local", "--port", str(self.port), "--data-dir",
                   str(self.data_dir), "--heartbeat", str(self.heartbeat), "--ready-file", str(self.ready)]
        if self.api_key is not None:
            command += ["--api-key", self.api_key]
        if self.keys_file is not None:
            command += ["--keys-file", str(self.keys_file)]
        return [*command, *self.args]

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start and wait until the ready file is written; stop it and fail if that does not happen in time."""
        assert self.process is None or self.process.poll() is not None, "the local service is already running"
        self.ready.unlink(missing_ok=True)
        with self.log.open("ab") as err, self.out.open("ab") as out:
            self.process = subprocess.Popen(self.command(), env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                                            stderr=err)
        deadline = time.monotonic() + timeout
        try:
            while not (self.ready.exists() and self.ready.read_text().strip()):
                assert self.process.poll() is None, f"the local service exited at start:\n{self.stderr()}"
                assert time.monotonic() < deadline, f"the local service did not start in time:\n{self.stderr()}"
                time.sleep(POLL_INTERVAL)
        except BaseException:
            self.stop()
            raise
        self.info = json.loads(self.ready.read_text())
        if self.port:
            assert self.base_url == f"http://127.0.0.1:{self.port}/api/v1", self.info

    async def astart(self) -> None:
        await anyio.to_thread.run_sync(self.start)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as on a crash or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def restart(self, timeout: float = START_TIMEOUT) -> None:
        """Stop (gracefully) if running, then start again on the same data dir (and port, if fixed)."""
        self.stop()
        self.start(timeout)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """Terminate, then kill; the exit code (None if it was never started)."""
        return None if self.process is None else stop(self.process, timeout)

    def stderr(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stdout(self) -> str:
        return self.out.read_text(errors="replace") if self.out.exists() else ""

    def __enter__(self) -> LocalServiceProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_http_server(env: dict[str, str], *flags: str, log: Path | None = None,
                      timeout: float = START_TIMEOUT) -> tuple[subprocess.Popen[bytes], str]:
    """`mcp-agents serve --transport http` on a free loopback port, once `/healthz` answers 200.

    Returns the process (the caller stops it) and the root URL; on failure the process is stopped and the
    error carries the tail of `log`.
    """
    port = free_port()
    process = spawn([sys.executable, "-m", "mcp_agents", "serve", "--transport", "http", "--port", str(port),
                     *flags], env, log)
    root = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            assert process.poll() is None, f"mcp-agents serve exited at start:\n{_tail(log)}"
            try:
                with urllib.request.urlopen(f"{root}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return process, root
            except OSError:
                pass
            assert time.monotonic() < deadline, f"mcp-agents serve did not become healthy in time:\n{_tail(log)}"
            time.sleep(POLL_INTERVAL)
    except BaseException:
        stop(process)
        raise
