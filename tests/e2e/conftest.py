"""End-to-end set-up: real processes talking over real transports.

One `mcp-agents local` service (same-millisecond bursts on, as the hosted service's producers stamp
messages) and one `mcp-agents serve --transport http` server per module (started as subprocesses,
always stopped in `finally`); stdio clients spawn `python -m mcp_agents serve` themselves. The local
service has two extra principals, alice and bob, from its keys file.

`wired_service` / `wired_http_server` run the core flows against both wire formats of the local
service (`seed` reuses the module's service; `hosted` starts one with `--wire hosted`), so a
client that misreads the hosted service's shapes fails here; the other tests stay on the seed.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcp_agents.models.hosted import WIRES
from tests.e2e.processes import HttpServer, Service, start_http_server
from tests.support.processes import LocalServiceProcess, stop


def _start_service(data: Path, *args: str) -> Iterator[Service]:
    dev, alice, bob = (f"sk-e2e-{name}-{secrets.token_hex(12)}" for name in ("dev", "alice", "bob"))
    (data / "keys.json").write_text(json.dumps({"keys": [
        {"key": alice, "id": "alice", "name": "Alice", "role": "user"},
        {"key": bob, "id": "bob", "name": "Bob", "role": "user"},
    ]}))
    with LocalServiceProcess(data, dev, args=("--bursts", *args)) as local:  # producer-stamped, as hosted
        yield Service(local.base_url, local.sts_url, dev, alice, bob)


def _start_http_server(service: Service) -> Iterator[HttpServer]:
    process, server = start_http_server(service)
    try:
        yield server
    finally:
        stop(process)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    yield from _start_service(tmp_path_factory.mktemp("local-service"))


@pytest.fixture(scope="module")
def http_server(service: Service) -> Iterator[HttpServer]:
    yield from _start_http_server(service)


@pytest.fixture(scope="module", params=WIRES)
def wire(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def wired_service(wire: str, request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    if wire == "seed":
        yield request.getfixturevalue("service")
        return
    yield from _start_service(tmp_path_factory.mktemp(f"local-service-{wire}"), "--wire", wire)


@pytest.fixture(scope="module")
def wired_http_server(wire: str, wired_service: Service, request: pytest.FixtureRequest) -> Iterator[HttpServer]:
    if wire == "seed":
        yield request.getfixturevalue("http_server")
        return
    yield from _start_http_server(wired_service)
