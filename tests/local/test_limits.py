"""What a caller can send is bounded at the write, so that nothing stored breaks a read for anyone:
finite numbers, bounded depth, bounded bodies (refused while they stream in), times in range, and a
clear 4xx (never a 500) that leaves the keep-alive connection usable."""

from __future__ import annotations

import itertools
import json
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from mcp_agents.local import LocalServiceConfig, RunningService, run_local_service
from mcp_agents.local.config import LIMIT_NAMES, LIMIT_RANGES, MAX_JSON_DEPTH, SIGNAL_QUEUE_MAX
from mcp_agents.models.hosted import Wire
from mcp_agents.settings import Settings
from tests.local.helpers import RawConnection, client, issue_token, wait_status

JSON = {"Content-Type": "application/json"}


def nested(depth: int) -> str:
    return '{"d": ' * depth + "1" + "}" * depth


async def started(api: httpx2.AsyncClient, **extra: Any) -> str:
    answer = await api.post("/agents", json={"interaction": "Echo", "data": {"task": "hi"}, **extra})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


async def assert_readable(api: httpx2.AsyncClient, run_id: str) -> None:
    """Every read of the run (and the run list) answers 200 with JSON, and its stream sends only JSON."""
    for path in ("/agents", f"/agents/{run_id}", f"/agents/{run_id}/updates", f"/agents/{run_id}/details",
                 f"/agents/{run_id}/details?include_history=true"):
        answer = await api.get(path)
        assert answer.status_code == 200, (path, answer.text)
        answer.json()
    await api.delete(f"/agents/{run_id}")
    async with api.stream("GET", f"/agents/{run_id}/stream") as stream:
        frames = [line[6:] async for line in stream.aiter_lines() if line.startswith("data: ")]
    assert frames
    for frame in frames:
        json.loads(frame, parse_constant=lambda name: pytest.fail(f"{name} in an SSE frame"))


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity"])
async def test_non_finite_numbers_are_refused_at_every_write(api: httpx2.AsyncClient, number: str) -> None:
    refused = await api.post("/agents", content=f'{{"interaction": "Echo", "checkpoint_tokens": {number}}}',
                             headers=JSON)
    assert refused.status_code == 400 and "finite" in refused.json()["message"]
    run_id = await started(api)
    for path, body in ((f"/agents/{run_id}/updates", f'{{"message": "x", "details": {{"n": {number}}}}}'),
                       (f"/agents/{run_id}/signal/UserInput", f'{{"message": "x", "n": [{number}]}}'),
                       (f"/agents/{run_id}/events", '{"events": [{"eventType": "tool_call", "timestamp": '
                        f'"2026-01-01T00:00:00Z", "toolName": "t", "parameters": {{"n": {number}}}}}]}}'),
                       ("/agents", f'{{"interaction": "Echo", "data": {{"n": {number}}}}}')):
        answer = await api.post(path, content=body, headers=JSON)
        assert answer.status_code == 400, (path, answer.text)
    await assert_readable(api, run_id)


async def test_nesting_is_bounded_at_the_write(api: httpx2.AsyncClient) -> None:
    run_id = await started(api)
    deep = await api.post(f"/agents/{run_id}/updates", content=f'{{"details": {nested(965)}}}', headers=JSON)
    assert deep.status_code == 400 and f"deeper than {MAX_JSON_DEPTH}" in deep.json()["message"]
    fits = await api.post(f"/agents/{run_id}/updates", content=f'{{"details": {nested(MAX_JSON_DEPTH - 1)}}}',
                          headers=JSON)
    assert fits.status_code == 200, fits.text
    await assert_readable(api, run_id)
    assert nested(MAX_JSON_DEPTH - 1).replace(" ", "") in (await api.get(f"/agents/{run_id}/updates")).text


async def test_a_very_deep_body_is_a_400_on_every_json_route(local_service: RunningService,
                                                              api: httpx2.AsyncClient) -> None:
    run_id = await started(api)
    auth = {"Authorization": api.headers["Authorization"], **JSON}
    connection = await RawConnection.open(local_service.port)
    try:
        deepest_token_body = ("[" * 8000 + "]" * 8000).encode()  # within the token endpoint's 16 KiB
        status, _, answer = await connection.request("POST", "/token/issue", deepest_token_body, JSON)
        assert status == 400 and "nested deeper" in json.loads(answer)["message"]
        body = ("[" * 100_000 + "]" * 100_000).encode()
        for path, headers in (("/api/v1/agents", auth),
                              (f"/api/v1/agents/{run_id}/updates", auth), (f"/api/v1/agents/{run_id}/events", auth),
                              (f"/api/v1/agents/{run_id}/signal/UserInput", auth),
                              ("/api/v1/agents/analytics/summary", auth)):
            status, _, answer = await connection.request("POST", path, body, headers)
            assert status == 400, (path, answer)
            assert "nested deeper" in json.loads(answer)["message"]
        status, _, answer = await connection.request("GET", f"/api/v1/agents/{run_id}", headers=auth)
        assert status == 200 and json.loads(answer)["id"] == run_id  # the same connection, still usable
    finally:
        await connection.close()


async def test_out_of_range_times_are_refused_at_ingest_and_in_queries(api: httpx2.AsyncClient) -> None:
    run_id = await started(api)
    event = {"eventType": "llm_call", "model": "m", "promptTokens": 1, "completionTokens": 1, "totalTokens": 2,
             "durationMs": 5, "success": True, "streamingEnabled": False, "toolUseCount": 0, "callType": "start",
             "runId": "wf", "environmentId": "env", "environmentType": "local", "interactionId": "Echo"}
    for stamp in ("9007199254740992", "-9007199254740992", "10000-01-01T00:00:00Z", "9" * 5000):
        answer = await api.post(f"/agents/{run_id}/events", json={"events": [{**event, "timestamp": stamp}]})
        assert answer.status_code in (400, 422) and "timestamp" in answer.json()["message"], answer.text
    ok = await api.post(f"/agents/{run_id}/events", json={"events": [{**event, "timestamp": "253402300799999"}]})
    assert ok.status_code == 200, ok.text
    for body in ({"from": 9e15}, {"to": 9007199254740992}, {"from": -9e15}, {"from": "9" * 30}):
        answer = await api.post("/agents/analytics/summary", json=body)
        assert answer.status_code == 400 and "out of range" in answer.json()["message"], answer.text
    from mcp_agents.models import REPORTS

    for report in REPORTS.values():
        for resolution in ("day", "week", "month"):
            body = {"resolution": resolution, "resolutionStep": 1000, "toolName": "t"}
            answer = await api.post(f"/agents/analytics/{report}", json=body)
            assert answer.status_code in (200, 422), (report, answer.text)  # 422: a report without resolution
    summary = await api.post("/agents/analytics/summary", json={})
    assert summary.status_code == 200, summary.text
    tokens = await api.post("/agents/analytics/tokens", json={"resolution": "month", "resolutionStep": 1000})
    assert tokens.status_code == 200 and tokens.json()["timeSeries"][-1]["timestampEnd"] == "9999-12-31T23:59:59.999Z"


async def test_a_declared_oversized_body_is_refused_before_it_is_sent(local_service: RunningService,
                                                                      api: httpx2.AsyncClient) -> None:
    run_id = await started(api)
    auth = f"Authorization: {api.headers['Authorization']}\r\n"
    for path, size, headers in (("/token/issue", 300_000_000, ""), ("/api/v1/agents", 300_000_000, auth),
                                (f"/api/v1/agents/{run_id}/artifacts/big.bin", 300_000_000, auth)):
        connection = await RawConnection.open(local_service.port)
        try:
            method = "PUT" if "artifacts" in path else "POST"
            await connection.send(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
                                  f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n".encode())
            status, answer_headers, _ = await connection.response()  # no byte of the body was sent
            assert status == 413 and answer_headers.get("connection") == "close", path
        finally:
            await connection.close()


def _stream_chunked(port: int, head: bytes, total: int, deadline: float) -> tuple[int, int]:
    """Write chunks while reading, on one plain socket: after a write fails (the service answered
    and closed), what it answered is still read, as an HTTP client does (httpcore reads the
    response after a write error). asyncio's streams would drop it with the write's error."""
    chunk = b"%x\r\n%b\r\n" % (1 << 20, b"x" * (1 << 20))
    parts = itertools.chain([head], itertools.repeat(chunk, total >> 20), [b"0\r\n\r\n"])
    pending: memoryview | None = memoryview(next(parts))
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setblocking(False)
        while b"\r\n" not in answer:
            left = deadline - time.monotonic()
            assert left > 0, f"no answer after {sent} bytes"
            readable, writable, _ = select.select([sock], [sock] if pending else [], [], min(left, 1.0))
            if readable:
                data = sock.recv(65536)
                assert data, f"closed without an answer after {sent} bytes"
                answer += data
            if writable and pending:
                try:
                    count = sock.send(pending)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:  # the service answered and closed: stop writing, read the answer
                    pending = None
                    continue
                sent += count
                pending = pending[count:] or (memoryview(part) if (part := next(parts, None)) else None)
    return int(answer.split()[1]), sent


async def stream_chunked(port: int, head: str, total: int) -> tuple[int, int]:
    """Send a chunked body of up to `total` bytes until the service answers; (status, bytes sent by then)."""
    # up to 100 MiB through a busy machine; a worker thread, so the service keeps running in this loop
    return await anyio.to_thread.run_sync(_stream_chunked, port, head.encode(), total, time.monotonic() + 120)


async def test_chunked_bodies_are_refused_while_they_stream_in(local_service: RunningService,
                                                               api: httpx2.AsyncClient) -> None:
    run_id = await started(api)
    auth = f"Authorization: {api.headers['Authorization']}\r\n"
    chunked = "Transfer-Encoding: chunked\r\n\r\n"
    status, sent = await stream_chunked(local_service.port, f"POST /token/issue HTTP/1.1\r\nHost: x\r\n{chunked}",
                                        300 << 20)
    assert status == 413 and sent < 64 << 20
    status, sent = await stream_chunked(local_service.port, f"POST /api/v1/agents/{run_id}/updates HTTP/1.1\r\n"
                                                            f"Host: x\r\n{auth}{chunked}", 300 << 20)
    assert status == 413 and sent < 64 << 20
    status, sent = await stream_chunked(local_service.port, f"PUT /api/v1/agents/{run_id}/artifacts/big.bin "
                                                            f"HTTP/1.1\r\nHost: x\r\n{auth}{chunked}", 300 << 20)
    assert status == 413 and sent < 200 << 20
    assert (await api.get(f"/agents/{run_id}/artifacts/big.bin")).status_code == 404
    await api.delete(f"/agents/{run_id}")
    await wait_status(api, run_id, {"cancelled"})


async def test_the_hosted_wire_checks_the_schema_within_the_same_limits(tmp_path: Path) -> None:
    """Strict validation reads the body first: it must refuse what the handlers refuse, the same way."""
    config = LocalServiceConfig(data_dir=tmp_path / "data", heartbeat_seconds=0.2, wire="hosted")
    async with run_local_service(config) as service:
        token = await issue_token(service, service.api_key)
        auth = f"Authorization: Bearer {token}\r\n"
        for headers, expected in ((auth, 413), ("", 401)):  # nor is a stranger's body read before the 401
            connection = await RawConnection.open(service.port)
            try:
                await connection.send(f"POST /api/v1/agents HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
                                      "Content-Type: application/json\r\nContent-Length: 300000000\r\n\r\n".encode())
                status, answer_headers, _ = await connection.response()  # no byte of the body was sent
                assert status == expected and answer_headers.get("connection") == "close"
            finally:
                await connection.close()
        connection = await RawConnection.open(service.port)
        try:
            body = ("[" * 100_000 + "]" * 100_000).encode()
            status, _, answer = await connection.request("POST", "/api/v1/agents", body,
                                                         {"Authorization": f"Bearer {token}", **JSON})
            assert status == 400 and "nested deeper" in json.loads(answer)["message"], answer
            status, _, answer = await connection.request("POST", "/api/v1/agents", b'{"interaction": NaN}',
                                                         {"Authorization": f"Bearer {token}", **JSON})
            assert status == 400 and "finite" in json.loads(answer)["message"], answer
        finally:
            await connection.close()


async def test_a_producer_stamp_is_a_time_every_read_can_render(api: httpx2.AsyncClient) -> None:
    """A stamp the service could not write as a date (after 9999) would break every read of the run; one at
    0 would be stored where no read (`since` 0 or more) finds it."""
    run_id = await started(api)
    for stamp in (2**53, 253_402_300_800_000, 0):
        answer = await api.post(f"/agents/{run_id}/updates", json={"message": "late", "timestamp": stamp})
        assert answer.status_code in (400, 422) and "timestamp" in answer.json()["message"], (stamp, answer.text)
    latest = await api.post(f"/agents/{run_id}/updates", json={"message": "last", "timestamp": 253_402_300_799_999})
    assert latest.status_code == 200, latest.text
    await assert_readable(api, run_id)


async def test_signals_a_run_does_not_read_are_bounded(tmp_path: Path) -> None:
    """Signals wait in memory until the interaction reads them: a run that never does holds a bounded number."""
    config = LocalServiceConfig(data_dir=tmp_path / "data", interactions=("tests.local.plugin:DEAF",))
    async with (run_local_service(config) as service,
                client(service, await issue_token(service, service.api_key)) as api):
        run_id = (await api.post("/agents", json={"interaction": "Deaf"})).json()["id"]
        statuses = []
        with anyio.fail_after(120):
            for _ in range(SIGNAL_QUEUE_MAX + 1):
                answer = await api.post(f"/agents/{run_id}/signal/Nudge", json={"n": 1})
                statuses.append(answer.status_code)
        assert statuses[:-1] == [200] * SIGNAL_QUEUE_MAX
        assert statuses[-1] == 429 and "signals" in answer.json()["message"], answer.text
        await api.delete(f"/agents/{run_id}")
        await wait_status(api, run_id, {"cancelled"})


async def test_the_limits_are_settings(tmp_path: Path, anyio_backend: str) -> None:
    """Each limit is a setting of `LocalServiceConfig` (and of the CLI and environment): the service refuses
    just past the configured value, and takes it exactly."""
    config = LocalServiceConfig(data_dir=tmp_path / "data", max_body_bytes=2048, max_token_body_bytes=300,
                                max_artifact_bytes=1000, max_json_depth=5)
    async with run_local_service(config) as service:
        async with httpx2.AsyncClient(base_url=service.sts_url) as sts:
            key = json.dumps({"type": "apikey", "key": service.api_key})
            for size, expected in ((301, 413), (300, 200)):
                answer = await sts.post("/token/issue", content=key.ljust(size).encode(), headers=JSON)
                assert answer.status_code == expected, (size, answer.text)
        async with client(service, await issue_token(service, service.api_key)) as api:
            run_id = await started(api)
            updates = f"/agents/{run_id}/updates"
            body = '{"message": "x", "details": {"p": "%s"}}'
            fits = body % ("a" * (2048 - len(body % "")))
            assert (await api.post(updates, content=fits, headers=JSON)).status_code == 200
            over = await api.post(updates, content=fits[:-1] + " }", headers=JSON)
            assert over.status_code == 413 and "2048 bytes" in over.json()["message"], over.text
            deep = await api.post(updates, content=f'{{"details": {nested(5)}}}', headers=JSON)
            assert deep.status_code == 400 and "deeper than 5" in deep.json()["message"], deep.text
            assert (await api.post(updates, content=f'{{"details": {nested(4)}}}', headers=JSON)).status_code == 200
            artifact = f"/agents/{run_id}/artifacts/a.bin"
            assert (await api.put(artifact, content=b"x" * 1001)).status_code == 413
            assert (await api.put(artifact, content=b"x" * 1000)).status_code == 201
            await assert_readable(api, run_id)


@pytest.mark.parametrize("wire", ["seed", "hosted"])
async def test_the_deepest_setting_round_trips(tmp_path: Path, anyio_backend: str, wire: Wire) -> None:
    """At the highest depth the setting allows, what is written is read back, on both wires (the encoders
    nest at most 254 levels)."""
    deepest = LIMIT_RANGES["max_json_depth"][1]
    config = LocalServiceConfig(data_dir=tmp_path / "data", max_json_depth=deepest, wire=wire)
    async with (run_local_service(config) as service,
                client(service, await issue_token(service, service.api_key)) as api):
        run_id = await started(api)
        details = nested(deepest - 1)
        answer = await api.post(f"/agents/{run_id}/updates", content=f'{{"message": "x", "details": {details}}}',
                                headers=JSON)
        assert answer.status_code in (200, 201), answer.text  # the hosted wire answers 201
        await assert_readable(api, run_id)


@pytest.mark.parametrize(("name", "value"), [("max_json_depth", 0), ("max_json_depth", 129),
                                             ("max_body_bytes", 100), ("max_token_body_bytes", 2**21),
                                             ("max_artifact_bytes", 0)])
def test_a_limit_out_of_range_is_refused_clearly(tmp_path: Path, name: str, value: int) -> None:
    env, flag = LIMIT_NAMES[name]
    with pytest.raises(ValueError, match=f"{env} \\({flag}\\) must be a whole number from"):
        LocalServiceConfig(data_dir=tmp_path, **{name: value})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=env):
        Settings.load({env: str(value)})
    highest = LIMIT_RANGES[name][1]
    assert Settings.load({env: str(highest)}).local_limits()[name] == highest  # type: ignore[literal-required]
    refused = subprocess.run([sys.executable, "-m", "mcp_agents", "local", flag, "lots", "--data-dir", str(tmp_path)],
                             capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2 and f"{env} ({flag}) must be a whole number" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
