"""Keys are revocable (tokens carry their key id), telemetry is charged to whoever posts it, and the
start banner names a key file only when the key is in one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import jwt

from mcp_agents.local import LocalServiceConfig, RunningService, run_local_service
from tests.local.helpers import KEYS, client, issue_token
from tests.support.processes import LocalServiceProcess, clean_env

ENTRIES: dict[str, dict[str, Any]] = {
    "alice": {"key": KEYS["alice"], "id": "alice", "principal": "user:alice"},
    "bob": {"key": KEYS["bob"], "id": "bob", "principal": "user:bob"},
    "root": {"key": KEYS["root"], "id": "root", "role": "superadmin", "principal": "user:root"},
    "reader": {"key": KEYS["reader"], "id": "reader", "permissions": ["content:read"]},
}


def write_keys(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"keys": entries}))
    return path


async def test_a_token_whose_key_is_removed_is_refused_after_a_restart(tmp_path: Path) -> None:
    keys = write_keys(tmp_path / "keys.json", [ENTRIES["alice"], ENTRIES["bob"], ENTRIES["root"]])
    config = LocalServiceConfig(data_dir=tmp_path / "data", keys_file=keys)
    async with run_local_service(config) as service:
        tokens = {name: await issue_token(service, KEYS[name]) for name in ("alice", "bob", "root")}
        dev = await issue_token(service, service.api_key)
        assert jwt.get_unverified_header(tokens["alice"])["kid"] != jwt.get_unverified_header(tokens["bob"])["kid"]
        async with client(service, tokens["bob"]) as bob:
            private = (await bob.post("/agents", json={"interaction": "Echo", "visibility": "private"})).json()["id"]
        async with client(service, tokens["root"]) as root:
            assert (await root.get(f"/agents/{private}")).status_code == 200
    demoted = {**ENTRIES["root"], "role": "user"}
    write_keys(keys, [ENTRIES["bob"], demoted])  # alice's key removed, root's superadmin role taken away
    async with run_local_service(config) as service:
        async with client(service, tokens["alice"]) as alice:
            refused = await alice.get("/agents")
            assert refused.status_code == 401 and "no longer accepted" in refused.json()["message"]
            assert tokens["alice"] not in refused.text
        async with client(service, tokens["root"]) as root:
            assert (await root.get(f"/agents/{private}")).status_code == 404  # a user now
        for token in (tokens["bob"], dev):  # keys still in place keep working across the restart
            async with client(service, token) as kept:
                assert (await kept.get("/agents")).status_code == 200
        secret = bytes.fromhex((tmp_path / "data" / "jwt_secret").read_text().strip())
        without_kid = jwt.encode(jwt.decode(dev, options={"verify_signature": False}), secret, algorithm="HS256")
        async with client(service, without_kid) as unnamed:  # validly signed, but names no key
            assert (await unnamed.get("/agents")).status_code == 401


async def test_a_changed_development_key_revokes_its_tokens(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with run_local_service(LocalServiceConfig(data_dir=data, api_key="sk-local-first-0123456789")) as service:
        token = await issue_token(service, service.api_key)
    second = LocalServiceConfig(data_dir=data, api_key="sk-local-second-0123456789")
    async with run_local_service(second) as service, client(service, token) as old:
        assert (await old.get("/agents")).status_code == 401


def llm_call(run_id: str, tokens: int) -> dict[str, Any]:
    return {"eventType": "llm_call", "timestamp": "2026-05-01T10:00:00Z", "runId": run_id, "model": "m",
            "environmentId": "env", "environmentType": "local", "interactionId": "Echo", "promptTokens": tokens,
            "completionTokens": 0, "totalTokens": tokens, "durationMs": 10, "success": True,
            "streamingEnabled": False, "toolUseCount": 0, "callType": "start"}


async def test_telemetry_is_charged_to_who_posts_it(multi_service: RunningService) -> None:
    async with client(multi_service, await issue_token(multi_service, KEYS["alice"])) as alice, \
            client(multi_service, await issue_token(multi_service, KEYS["bob"])) as bob, \
            client(multi_service, await issue_token(multi_service, KEYS["reader"])) as reader:
        shared = (await alice.post("/agents", json={"interaction": "Echo"})).json()["id"]
        private = (await alice.post("/agents", json={"interaction": "Echo", "visibility": "private"})).json()["id"]
        posted = await bob.post(f"/agents/{shared}/events", json={"events": [llm_call("wf", 700)]})
        assert posted.status_code == 200, posted.text
        own = await alice.post(f"/agents/{shared}/events", json={"events": [llm_call("wf", 5)]})
        assert own.status_code == 200
        assert (await bob.post(f"/agents/{private}/events", json={"events": [llm_call("wf", 1)]})).status_code == 404
        assert (await reader.post(f"/agents/{shared}/events", json={"events": [llm_call("wf", 1)]})).status_code == 403

        async def tokens_of(principal: str) -> int:
            body = {"filter": {"principals": [principal], "agentRunIds": [shared]}}
            answer = await alice.post("/agents/analytics/tokens", json=body)
            assert answer.status_code == 200, answer.text
            return int(answer.json()["summary"]["totalTokens"])

        assert await tokens_of("user:bob") == 700
        assert await tokens_of("user:alice") == 5


def test_the_banner_names_no_key_file_when_the_key_comes_from_the_environment(tmp_path: Path) -> None:
    env = clean_env(MCP_AGENTS_LOCAL_API_KEY="sk-local-from-env-0123456789")
    with LocalServiceProcess(tmp_path / "data", env=env) as service:
        assert httpx2.post(f"{service.sts_url}/token/issue", json={"type": "apikey",
                                                                   "key": "sk-local-from-env-0123456789"},
                           timeout=10).status_code == 200
    banner = service.stderr()
    assert "serving the Agent Runs API" in banner
    assert "dev_api_key" not in banner and "development key file" not in banner
    assert "sk-local-from-env" not in banner
    assert not (tmp_path / "data" / "dev_api_key").exists()
    with LocalServiceProcess(tmp_path / "generated") as service:
        pass
    assert "development key file" in service.stderr()
