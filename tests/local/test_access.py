"""Identity and access: tokens, private runs, permissions, refused JWTs."""

from __future__ import annotations

import base64
import json
import time

import httpx2
import jwt

from mcp_agents.local import RunningService
from tests.local.helpers import KEYS, client, issue_token, wait_status


def _segment(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_token_endpoint(local_service: RunningService) -> None:
    async with httpx2.AsyncClient(base_url=local_service.sts_url, timeout=10) as http:
        issued = (await http.post("/token/issue", json={"type": "apikey", "key": local_service.api_key})).json()
        assert issued["expires_in"] == 3600 and issued["token"].count(".") == 2
        claims = jwt.decode(issued["token"], options={"verify_signature": False})
        assert claims["sub"] == "apikey:dev" and claims["exp"] - claims["iat"] == 3600
        as_bearer = await http.post("/token/issue", headers={"Authorization": f"Bearer {local_service.api_key}"})
        assert as_bearer.status_code == 200
        wrong = await http.post("/token/issue", json={"type": "apikey", "key": "sk-wrong"})
        assert wrong.status_code == 401 and "sk-wrong" not in wrong.text
        assert (await http.post("/token/issue", json={})).status_code == 400


async def test_refused_tokens(local_service: RunningService) -> None:
    token = await issue_token(local_service, local_service.api_key)
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    tampered = f"{header}.{_segment({**claims, 'role': 'superadmin'})}.{signature}"
    unsigned = f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    expired = jwt.encode({**claims, "exp": int(time.time()) - 10}, "x" * 32, algorithm="HS256")
    for bad in (tampered, unsigned, expired, "not-a-jwt", local_service.api_key):
        async with client(local_service, bad) as http:
            answer = await http.get("/agents")
            assert answer.status_code == 401, bad[:20]
            assert answer.json()["status"] == 401 and bad not in answer.text
    async with client(local_service, None) as http:
        assert (await http.get("/agents")).status_code == 401


async def test_expired_token_is_refused(tmp_path: object, local_service: RunningService) -> None:
    from mcp_agents.local.auth import ALGORITHM, ISSUER, load_secret

    secret = load_secret(local_service.data_dir)
    now = int(time.time())
    old = jwt.encode({"iss": ISSUER, "sub": "apikey:dev", "iat": now - 100, "exp": now - 1,
                      "permissions": ["workflow:run"]}, secret, algorithm=ALGORITHM)
    async with client(local_service, old) as http:
        answer = await http.get("/agents")
        assert answer.status_code == 401 and "expired" in answer.json()["message"]


async def test_private_runs_are_invisible_to_others(multi_service: RunningService) -> None:
    tokens = {name: await issue_token(multi_service, key) for name, key in KEYS.items()}
    async with client(multi_service, tokens["alice"]) as alice, client(multi_service, tokens["bob"]) as bob, \
            client(multi_service, tokens["root"]) as root, client(multi_service, tokens["reader"]) as reader:
        assert (await reader.get("/agents")).status_code == 403
        assert (await reader.post("/agents", json={"interaction": "Echo"})).status_code == 403
        private = (await alice.post("/agents", json={"interaction": "Echo", "visibility": "private",
                                                     "data": {"task": "secret plan zebra"}})).json()
        shared = (await alice.post("/agents", json={"interaction": "Echo", "interactive": False,
                                                    "data": {"task": "zebra shared"}})).json()
        assert private["started_by"] == "user:alice"
        run_id = private["id"]
        await alice.put(f"/agents/{run_id}/artifacts/notes.txt", content=b"x", headers={"content-type": "text/plain"})
        event = {"eventType": "agent_run_started", "timestamp": "2026-01-01T00:00:00Z", "runId": "w", "model": "m",
                 "environmentId": "e", "environmentType": "local", "interactionId": "Echo"}
        assert (await alice.post(f"/agents/{run_id}/events", json={"events": [event]})).json() == {"ingested": 1}
        await wait_status(alice, shared["id"], {"completed"})

        paths = ["", "/updates", "/stream", "/artifacts", "/artifacts/notes.txt", "/internals", "/details",
                 "/children", "/query/AgentPlan"]
        for path in paths:
            assert (await bob.get(f"/agents/{run_id}{path}")).status_code == 404, path
            if path != "/stream":  # the run is live: its stream would not end
                assert (await root.get(f"/agents/{run_id}{path}")).status_code in (200, 404), path
        for method, path in [("POST", "/restart"), ("POST", "/fork"), ("POST", "/signal/Stop"), ("DELETE", ""),
                             ("POST", "/updates"), ("POST", "/events"), ("PUT", "/artifacts/x.txt")]:
            answer = await bob.request(method, f"/agents/{run_id}{path}", json={})
            assert answer.status_code == 404, (method, path)
        assert (await root.get(f"/agents/{run_id}")).status_code == 200
        assert [run["id"] for run in (await bob.get("/agents")).json()] == [shared["id"]]
        assert {run["id"] for run in (await root.get("/agents")).json()} == {run_id, shared["id"]}
        assert [hit["id"] for hit in (await bob.get("/agents/search", params={"query": "zebra"})).json()["hits"]] \
            == [shared["id"]]
        assert (await alice.get("/agents/search", params={"query": "zebra"})).json()["total"] == 2
        assert (await bob.post("/agents/analytics/summary", json={})).json()["summary"]["totalRuns"] == 0
        assert (await alice.post("/agents/analytics/summary", json={})).json()["summary"]["totalRuns"] == 1
        assert (await root.post("/agents/analytics/runs-by-agent", json={})).json()["totalRuns"] == 1
        await alice.post(f"/agents/{run_id}/signal/Stop", json={})
