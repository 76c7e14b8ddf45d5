"""`notify_endpoints` cannot reach internal addresses (SSRF), follow no redirect, and run on a few
workers of their own: a webhook that never answers holds neither request threads nor other users."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx2
import pytest
from anyio.abc import SocketAttribute, SocketStream

from mcp_agents.local import LocalServiceConfig, run_local_service
from mcp_agents.local.config import NOTIFY_WORKERS
from tests.local.helpers import TIMEOUT, client, issue_token, wait_status


@pytest.fixture
async def dev_api(tmp_path: Path, anyio_backend: str) -> AsyncIterator[httpx2.AsyncClient]:
    """A service for local development: loopback webhooks allowed."""
    config = LocalServiceConfig(data_dir=tmp_path / "data", allow_loopback_webhooks=True)
    async with run_local_service(config) as service:
        token = await issue_token(service, service.api_key)
        async with client(service, token) as api:
            yield api


class Hook:
    """A webhook receiver on a loopback port: records each request line, answers with `answer` (or never)."""

    def __init__(self, answer: bytes | None) -> None:
        self.answer = answer
        self.requests: list[str] = []
        self.open = 0
        self.most_open = 0
        self.port = 0

    async def handle(self, stream: SocketStream) -> None:
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            async with stream:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += await stream.receive()
                self.requests.append(data.split(b"\r\n", 1)[0].decode())
                if self.answer is None:
                    await anyio.sleep_forever()
                await stream.send(self.answer)
        except (anyio.EndOfStream, anyio.BrokenResourceError):
            pass
        finally:
            self.open -= 1


async def serve(hook: Hook, group: anyio.abc.TaskGroup) -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    hook.port = listener.extra(SocketAttribute.local_port)

    async def run() -> None:
        async with listener:
            await listener.serve(hook.handle)

    group.start_soon(run)


async def finished_run(api: httpx2.AsyncClient, hooks: list[str]) -> str:
    answer = await api.post("/agents", json={"interaction": "Echo", "interactive": False, "data": {"task": "x"},
                                             "notify_endpoints": hooks})
    assert answer.status_code == 200, answer.text
    await wait_status(api, answer.json()["id"], {"completed"})
    return str(answer.json()["id"])


async def wait_log(caplog: pytest.LogCaptureFixture, text: str, hook: Hook) -> None:
    """Until the service logs `text` about the delivery, or `hook` is called (what must not happen)."""
    with anyio.fail_after(TIMEOUT):
        while True:
            if hook.requests or any(text in record.getMessage() for record in caplog.records):
                return
            await anyio.sleep(0.02)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hook", "http://127.1/", "http://0x7f000001/", "http://2130706433/", "http://0177.0.0.1/",
    "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://10.0.0.8/", "http://192.168.1.1/", "http://172.16.0.1/",
    "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/", "http://0.0.0.0/", "http://[fe80::1]/",
    "http://[fd00::1]/", "https://224.0.0.1/", "http://a b/", "http://host\r\nX: y/",
    # IPv4 inside IPv6: a NAT64 gateway (64:ff9b::/96, local-use 64:ff9b:1::/48) or an IPv4-compatible route
    # reaches the IPv4 address it embeds
    "http://[64:ff9b::a9fe:a9fe]/", "http://[64:ff9b::a00:8]/", "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b:1::a00:8]/", "http://[::a00:8]/", "http://[::7f00:1]/",
])
async def test_internal_and_malformed_targets_are_refused_at_create(api: httpx2.AsyncClient, url: str) -> None:
    answer = await api.post("/agents", json={"interaction": "Echo", "notify_endpoints": [url]})
    assert answer.status_code == 400, answer.text
    assert "notify_endpoints" in answer.json()["message"]


async def test_a_name_resolving_to_loopback_is_refused_at_send_time(api: httpx2.AsyncClient,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mcp_agents.local.notify")
    hook = Hook(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    async with anyio.create_task_group() as group:
        await serve(hook, group)
        run_id = await finished_run(api, [f"http://localhost:{hook.port}/hook"])
        await wait_log(caplog, f"webhook for run {run_id} refused", hook)
        group.cancel_scope.cancel()
    assert hook.requests == []
    assert "loopback" in caplog.text


async def test_loopback_is_allowed_for_local_development_and_redirects_are_not_followed(
        dev_api: httpx2.AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mcp_agents.local.notify")
    target = Hook(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    async with anyio.create_task_group() as group:
        await serve(target, group)
        redirect = Hook(f"HTTP/1.1 303 See Other\r\nLocation: http://127.0.0.1:{target.port}/elsewhere\r\n"
                        "Content-Length: 0\r\n\r\n".encode())
        await serve(redirect, group)
        run_id = await finished_run(dev_api, [f"http://127.0.0.1:{redirect.port}/hook?x=1"])
        await wait_log(caplog, f"webhook for run {run_id} answered 303", target)
        group.cancel_scope.cancel()
    assert redirect.requests == ["POST /hook?x=1 HTTP/1.1"]
    assert target.requests == []
    private = await dev_api.post("/agents", json={"interaction": "Echo", "notify_endpoints": ["http://10.1.2.3/"]})
    assert private.status_code == 400  # only loopback is allowed, never private networks


async def test_hanging_webhooks_hold_only_their_own_workers(dev_api: httpx2.AsyncClient) -> None:
    hang = Hook(None)
    async with anyio.create_task_group() as group:
        await serve(hang, group)
        for _ in range(3):
            await finished_run(dev_api, [f"http://127.0.0.1:{hang.port}/hook"] * 10)
        with anyio.fail_after(TIMEOUT):
            while True:
                if hang.open >= NOTIFY_WORKERS:  # every webhook worker is stuck on the silent endpoint
                    break
                await anyio.sleep(0.02)
        # meanwhile other users' requests, artifact reads and writes (worker threads) are served
        run = (await dev_api.post("/agents", json={"interaction": "Echo", "data": {"task": "x"}})).json()
        with anyio.fail_after(TIMEOUT):
            async with anyio.create_task_group() as users:
                for index in range(60):
                    users.start_soon(put_and_get, dev_api, run["id"], f"f{index}.txt")
        assert hang.open <= NOTIFY_WORKERS and hang.most_open <= NOTIFY_WORKERS
        group.cancel_scope.cancel()


async def put_and_get(api: httpx2.AsyncClient, run_id: str, name: str) -> None:
    put = await api.put(f"/agents/{run_id}/artifacts/{name}", content=name.encode(),
                        headers={"Content-Type": "text/plain"})
    assert put.status_code == 201, put.text
    got = await api.get(f"/agents/{run_id}/artifacts/{name}")
    assert got.status_code == 200 and got.content == name.encode()


async def test_a_loopback_name_is_delivered_in_development(dev_api: httpx2.AsyncClient,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """`localhost` may resolve to ::1 first while the receiver listens on 127.0.0.1: every address is tried."""
    caplog.set_level(logging.INFO, logger="mcp_agents.local.notify")
    hook = Hook(b"HTTP/1.1 204 No Content\r\n\r\n")
    async with anyio.create_task_group() as group:
        await serve(hook, group)
        run_id = await finished_run(dev_api, [f"http://localhost:{hook.port}/hook"])
        await wait_log(caplog, f"webhook for run {run_id} answered 204", Hook(None))
        group.cancel_scope.cancel()
    assert hook.requests == ["POST /hook HTTP/1.1"]
