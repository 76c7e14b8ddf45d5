"""End-to-end set-up: real processes talking over real transports.

One `mcp-agents local` service (same-millisecond bursts on) and one `mcp-agents serve --transport
http` server per module (started as subprocesses, always stopped in `finally`); stdio clients spawn
`python -m mcp_agents serve` themselves. The local service has two extra principals, alice and bob, from its keys file.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest

from tests.e2e.processes import HttpServer, Service, start_http_server
from tests.support.processes import LocalServiceProcess, stop


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    data = tmp_path_factory.mktemp("local-service")
    dev, alice, bob = (f"sk-e2e-{name}-{secrets.token_hex(12)}" for name in ("dev", "alice", "bob"))
    (data / "keys.json").write_text(json.dumps({"keys": [
        {"key": alice, "id": "alice", "name": "Alice", "role": "user"},
        {"key": bob, "id": "bob", "name": "Bob", "role": "user"},
    ]}))
    with LocalServiceProcess(data, dev, args=("--bursts",)) as local:  # producer-stamped, as the hosted service
        yield Service(local.base_url, local.sts_url, dev, alice, bob)


@pytest.fixture(scope="module")
def http_server(service: Service) -> Iterator[HttpServer]:
    process, server = start_http_server(service)
    try:
        yield server
    finally:
        stop(process)
