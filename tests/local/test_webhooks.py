"""`notify_endpoints` cannot reach internal addresses (SSRF), follow no redirect, and run on a few
workers of their own: a webhook that never answers holds neither request threads nor other users."""

from __future__ import annotations

import contextlib
import json
import logging
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import anyio
import httpx2
import pytest
import trustme
from anyio.abc import SocketAttribute, SocketStream
from anyio.streams.tls import TLSListener, TLSStream

from mcp_agents.local import LocalServiceConfig, run_local_service
from mcp_agents.local.config import NOTIFY_ATTEMPTS, NOTIFY_OWNER_QUEUE_MAX, NOTIFY_WORKERS
from tests.local.helpers import KEYS, TIMEOUT, client, issue_token, wait_status


@pytest.fixture
async def dev_api(tmp_path: Path, anyio_backend: str) -> AsyncIterator[httpx2.AsyncClient]:
    """A service for local development: loopback webhooks allowed."""
    config = LocalServiceConfig(data_dir=tmp_path / "data", allow_loopback_webhooks=True)
    async with run_local_service(config) as service:
        token = await issue_token(service, service.api_key)
        async with client(service, token) as api:
            yield api


class Hook:
    """A webhook receiver on a loopback port: records each request line (also in `arrivals`, under `name`),
    reads the body, and answers with `answer` (or never), once `gate` is set if there is one."""

    def __init__(self, answer: bytes | None, gate: anyio.Event | None = None, arrivals: list[str] | None = None,
                 name: str = "") -> None:
        self.answer = answer
        self.gate = gate
        self.arrivals = arrivals if arrivals is not None else []
        self.name = name
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
                head, _, body = data.partition(b"\r\n\r\n")
                self.requests.append(head.split(b"\r\n", 1)[0].decode())
                self.arrivals.append(self.name)
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(body) < length:  # read it all: closing on unread bytes would reset the connection
                    body += await stream.receive()
                if self.answer is None:
                    await anyio.sleep_forever()
                if self.gate is not None:
                    await self.gate.wait()
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


OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


async def wait_until(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(TIMEOUT):
        while True:
            if condition():
                return
            await anyio.sleep(0.02)


async def test_one_owner_flooding_webhooks_drops_only_its_own(tmp_path: Path, anyio_backend: str,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """One run with more webhooks than its owner's queue holds: the owner's surplus is dropped (and logged,
    without the URLs' secrets), while another owner's notification is still delivered, in its turn."""
    caplog.set_level(logging.INFO, logger="mcp_agents.local.notify")
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"keys": [
        {"key": KEYS["alice"], "id": "alice", "principal": "user:alice"},
        {"key": KEYS["bob"], "id": "bob", "principal": "user:bob"}]}))
    config = LocalServiceConfig(data_dir=tmp_path / "data", keys_file=keys_file, allow_loopback_webhooks=True)
    arrivals: list[str] = []
    gate = anyio.Event()
    flooded, bobs = Hook(OK, gate, arrivals, "alice"), Hook(OK, None, arrivals, "bob")
    async with (run_local_service(config) as service,
                client(service, await issue_token(service, KEYS["alice"])) as alice,
                client(service, await issue_token(service, KEYS["bob"])) as bob,
                anyio.create_task_group() as group):
        await serve(flooded, group)
        await serve(bobs, group)
        flood = NOTIFY_OWNER_QUEUE_MAX + NOTIFY_WORKERS + 50
        flood_id = await finished_run(alice, [f"http://127.0.0.1:{flooded.port}/hook/{index}?token=s3cret{index}"
                                              for index in range(flood)])
        await wait_until(lambda: flooded.open == NOTIFY_WORKERS)  # every worker is held by alice's webhooks
        bob_id = await finished_run(bob, [f"http://127.0.0.1:{bobs.port}/bob"])
        gate.set()
        await wait_until(lambda: bool(bobs.requests))
        group.cancel_scope.cancel()
    assert bobs.requests == ["POST /bob HTTP/1.1"]
    # served in turn: right after the deliveries that held the workers, not behind alice's backlog
    assert arrivals.index("bob") < 3 * NOTIFY_WORKERS, arrivals[:20]
    drops = [record.getMessage() for record in caplog.records if "dropped" in record.getMessage()]
    assert len(drops) == 1 and "user:alice" in drops[0] and flood_id in drops[0], drops
    assert f"dropped {flood - NOTIFY_OWNER_QUEUE_MAX} of the {flood}" in drops[0]
    assert bob_id not in caplog.text.replace(f"webhook for run {bob_id} answered 200", "")
    assert "s3cret" not in caplog.text and "/hook/" not in caplog.text


def stall(after: bytes | None, accepted: list[int]) -> Callable[[SocketStream | TLSStream], Awaitable[None]]:
    """A target that takes a connection and then stalls: at once (`after` None: no TLS handshake ever
    answered), or after sending `after` once the request is in. It never reads again, not even a TLS goodbye."""

    async def handle(stream: SocketStream | TLSStream) -> None:
        accepted.append(1)
        with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError, ssl.SSLError):
            async with stream:
                data = await stream.receive()
                if after is not None:
                    while b"\r\n\r\n" not in data:
                        data += await stream.receive()
                    await stream.send(after)
                await anyio.sleep_forever()

    return handle


async def test_a_stalled_https_webhook_holds_a_worker_no_longer_than_its_deadline(
        tmp_path: Path, anyio_backend: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """One deadline covers a whole attempt, TLS included: neither a handshake that never completes nor an
    answer that stops midway (the TLS goodbye then goes unanswered too) holds a worker past it."""
    caplog.set_level(logging.INFO, logger="mcp_agents.local.notify")
    authority = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))  # the service trusts the test's CA, as a system store would
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(tls)
    handshakes: list[int] = []
    answers: list[int] = []
    config = LocalServiceConfig(data_dir=tmp_path / "data", allow_loopback_webhooks=True, webhook_timeout_seconds=1.0)
    async with (run_local_service(config) as service,
                client(service, await issue_token(service, service.api_key)) as api,
                anyio.create_task_group() as group):
        silent = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        midway = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        group.start_soon(silent.serve, stall(None, handshakes))
        group.start_soon(TLSListener(midway, tls, standard_compatible=False).serve, stall(b"HTTP/1.1 2", answers))
        urls = [f"https://127.0.0.1:{listener.extra(SocketAttribute.local_port)}/hook" for listener in (silent, midway)]
        run_id = await finished_run(api, urls)
        failed = f"webhook failed after {NOTIFY_ATTEMPTS} attempts (last: TimeoutError) for run {run_id}"
        # each attempt ends at its deadline: both deliveries give up after three, where a TLS goodbye
        # left waiting would hold each attempt 30 s longer
        await wait_until(lambda: sum(record.getMessage() == failed for record in caplog.records) == 2)
        group.cancel_scope.cancel()
    assert len(handshakes) == NOTIFY_ATTEMPTS and len(answers) == NOTIFY_ATTEMPTS
