"""Helpers for the local service tests: an authenticated HTTP client on a real loopback server."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from mcp_agents.local import LocalServiceConfig, RunningService, run_local_service

TIMEOUT = 10.0


async def issue_token(service: RunningService, key: str) -> str:
    async with httpx2.AsyncClient(base_url=service.sts_url, timeout=TIMEOUT) as http:
        answer = await http.post("/token/issue", json={"type": "apikey", "key": key})
        answer.raise_for_status()
        return str(answer.json()["token"])


def client(service: RunningService, token: str | None) -> httpx2.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx2.AsyncClient(base_url=service.base_url, headers=headers, timeout=TIMEOUT)


@pytest.fixture
async def api(local_service: RunningService) -> AsyncIterator[httpx2.AsyncClient]:
    async with client(local_service, await issue_token(local_service, local_service.api_key)) as http:
        yield http


KEYS = {"alice": "sk-test-alice-0123456789", "bob": "sk-test-bob-0123456789", "root": "sk-test-root-0123456789",
        "reader": "sk-test-reader-0123456789"}


@pytest.fixture
async def multi_service(tmp_path: Path, anyio_backend: str) -> AsyncIterator[RunningService]:
    """A service with several principals: alice and bob (users), root (superadmin), reader (no workflow:run)."""
    keys_file = tmp_path / "keys.json"
    keys_file.write_text(json.dumps({"keys": [
        {"key": KEYS["alice"], "id": "alice", "principal": "user:alice", "name": "Alice"},
        {"key": KEYS["bob"], "id": "bob", "principal": "user:bob", "name": "Bob"},
        {"key": KEYS["root"], "id": "root", "role": "superadmin", "principal": "user:root"},
        {"key": KEYS["reader"], "id": "reader", "permissions": ["content:read"]},
    ]}))
    config = LocalServiceConfig(data_dir=tmp_path / "data", keys_file=keys_file, heartbeat_seconds=0.2)
    async with run_local_service(config) as service:
        yield service


async def wait_status(http: httpx2.AsyncClient, run_id: str, statuses: set[str], seconds: float = TIMEOUT
                      ) -> dict[str, Any]:
    with anyio.fail_after(seconds):
        while True:
            run: dict[str, Any] = (await http.get(f"/agents/{run_id}")).json()
            if run["status"] in statuses:
                return run
            await anyio.sleep(0.02)


async def wait_message(http: httpx2.AsyncClient, run_id: str, kind: str | int, seconds: float = TIMEOUT,
                       count: int = 1) -> list[dict[str, Any]]:
    """The run's messages once `count` of type `kind` are stored (a type code on the hosted wire)."""
    with anyio.fail_after(seconds):
        while True:
            messages: list[dict[str, Any]] = (await http.get(f"/agents/{run_id}/updates")).json()["messages"]
            if sum(item["t"] == kind for item in messages) >= count:
                return messages
            await anyio.sleep(0.02)


class RawConnection:
    """One keep-alive HTTP/1.1 connection, byte for byte: for what an HTTP client library would not send."""

    def __init__(self, reader: Any, writer: Any) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> RawConnection:
        import asyncio

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def response(self) -> tuple[int, dict[str, str], bytes]:
        """The next response, within `TIMEOUT`."""
        with anyio.fail_after(TIMEOUT):
            return await self.read_response()

    async def read_response(self) -> tuple[int, dict[str, str], bytes]:
        """The next response (status, lower-case headers, body); bodies are sent with Content-Length.
        Unbounded: the caller bounds the wait."""
        status = int((await self.reader.readline()).split()[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers, body

    async def request(self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
                      ) -> tuple[int, dict[str, str], bytes]:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}",
                 *(f"{name}: {value}" for name, value in (headers or {}).items())]
        await self.send(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return await self.response()

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()
