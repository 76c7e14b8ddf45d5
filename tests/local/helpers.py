"""Helpers for the local service tests: an authenticated HTTP client on a real loopback server."""

from __future__ import annotations

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


async def wait_message(http: httpx2.AsyncClient, run_id: str, kind: str, seconds: float = TIMEOUT, count: int = 1
                       ) -> list[dict[str, Any]]:
    """The run's messages once `count` of type `kind` are stored."""
    with anyio.fail_after(seconds):
        while True:
            messages: list[dict[str, Any]] = (await http.get(f"/agents/{run_id}/updates")).json()["messages"]
            if sum(item["t"] == kind for item in messages) >= count:
                return messages
            await anyio.sleep(0.02)
