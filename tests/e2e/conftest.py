"""End-to-end set-up: real processes talking over real transports.

One `mcp-agents local` service and one `mcp-agents serve --transport http` server per module
(started as subprocesses, always stopped in `finally`); stdio clients spawn `python -m mcp_agents
serve` themselves. The local service has two extra principals, alice and bob, from its keys file.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from tests.e2e.processes import START_TIMEOUT, HttpServer, Service, start_http_server, stop


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    data = tmp_path_factory.mktemp("local-service")
    dev, alice, bob = (f"sk-e2e-{name}-{secrets.token_hex(12)}" for name in ("dev", "alice", "bob"))
    (data / "keys.json").write_text(json.dumps({"keys": [
        {"key": alice, "id": "alice", "name": "Alice", "role": "user"},
        {"key": bob, "id": "bob", "name": "Bob", "role": "user"},
    ]}))
    ready = data / "ready.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_agents", "local", "--port", "0", "--data-dir", str(data), "--api-key", dev,
         "--heartbeat", "0.2", "--ready-file", str(ready)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ready.exists() or not ready.read_text().strip():
            assert process.poll() is None, "the local service exited at start"
            assert time.monotonic() < deadline, "the local service did not start in time"
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        yield Service(info["base_url"], info["sts_url"], dev, alice, bob)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def http_server(service: Service) -> Iterator[HttpServer]:
    process, server = start_http_server(service)
    try:
        yield server
    finally:
        stop(process)
