"""User interactions (`module:attribute`), `Name@version` resolution, and completion webhooks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from anyio.abc import SocketStream

from mcp_agents.local import LocalServiceConfig, RunningService, run_local_service
from tests.local.helpers import client, issue_token, wait_status


@pytest.fixture
async def plugin_service(tmp_path: Path, anyio_backend: str) -> AsyncIterator[RunningService]:
    config = LocalServiceConfig(data_dir=tmp_path / "data", interactions=("tests.local.plugin:INTERACTIONS",),
                                api_key="sk-local-plugin-test")
    async with run_local_service(config) as service:
        yield service


async def test_user_interactions_and_versions(plugin_service: RunningService) -> None:
    assert plugin_service.api_key == "sk-local-plugin-test"
    async with client(plugin_service, await issue_token(plugin_service, plugin_service.api_key)) as api:
        for ref, expected in (("Shout", "HEY"), ("Shout@2", "HEY"), ("Shout@1", "v1"), ("shout@latest", "HEY")):
            run = (await api.post("/agents", json={"interaction": ref, "data": {"task": "hey"}})).json()
            await wait_status(api, run["id"], {"completed"})
            messages = (await api.get(f"/agents/{run['id']}/updates")).json()["messages"]
            assert messages[0]["m"] == expected, ref
        unknown = await api.post("/agents", json={"interaction": "Shout@9"})
        assert unknown.status_code == 404 and "Shout@1, Shout@2" in unknown.json()["message"]


@pytest.fixture
async def webhook_service(tmp_path: Path, anyio_backend: str) -> AsyncIterator[httpx2.AsyncClient]:
    """A service that allows loopback webhooks (local development), and a client of it."""
    config = LocalServiceConfig(data_dir=tmp_path / "data", allow_loopback_webhooks=True)
    async with run_local_service(config) as service:
        token = await issue_token(service, service.api_key)
        async with client(service, token) as api:
            yield api


async def test_notify_endpoints_receive_the_finished_run(webhook_service: httpx2.AsyncClient) -> None:
    api = webhook_service
    received: list[dict[str, Any]] = []
    got = anyio.Event()

    async def handle(stream: SocketStream) -> None:
        async with stream:
            data = b""
            with anyio.fail_after(5):
                while b"\r\n\r\n" not in data:
                    data += await stream.receive()
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                while len(body) < length:
                    body += await stream.receive()
            received.append(json.loads(body))
            await stream.send(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            got.set()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, handle)
        run = (await api.post("/agents", json={"interaction": "Echo", "interactive": False,
                                               "notify_endpoints": [f"http://127.0.0.1:{port}/hook"]})).json()
        with anyio.fail_after(10):
            await got.wait()
        group.cancel_scope.cancel()
    assert received[0]["run"]["id"] == run["id"] and received[0]["run"]["status"] == "completed"
    refused = await api.post("/agents", json={"interaction": "Echo", "notify_endpoints": ["ftp://x"]})
    assert refused.status_code == 422
