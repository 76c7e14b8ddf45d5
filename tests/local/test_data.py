"""Artifacts (with signed URLs), telemetry ingestion, full-text search, OpenAPI and the routes table."""

from __future__ import annotations

import httpx2

from mcp_agents.local import RunningService
from mcp_agents.local.app import API
from mcp_agents.models import REPORTS
from tests.local.helpers import wait_status


async def test_artifacts_upload_download_and_signed_urls(local_service: RunningService,
                                                         api: httpx2.AsyncClient) -> None:
    run_id = (await api.post("/agents", json={"interaction": "Echo", "interactive": False})).json()["id"]
    put = await api.put(f"/agents/{run_id}/artifacts/reports/q4.csv", content=b"a,b\n1,2\n",
                        headers={"content-type": "text/csv"})
    assert put.status_code == 201 and put.json()["size"] == 8
    assert (await api.get(f"/agents/{run_id}/artifacts")).json() == ["reports/q4.csv"]
    got = await api.get(f"/agents/{run_id}/artifacts/reports/q4.csv")
    assert got.content == b"a,b\n1,2\n" and got.headers["content-type"].startswith("text/csv")
    for bad in ("reports/%2e%2e/%2e%2e/x", "%2e%2e", "a//b", "a%5Cb", "%2Fetc%2Fpasswd", "x/%2e/y"):
        answer = await api.put(f"/agents/{run_id}/artifacts/{bad}", content=b"x")
        assert answer.status_code in (400, 404), bad
    assert (await api.get(f"/agents/{run_id}/artifacts/missing.txt")).status_code == 404

    signed = (await api.get(f"/agents/{run_id}/artifacts/reports/q4.csv",
                            params={"url": "1", "disposition": "attachment"})).json()
    assert signed["path"] == "reports/q4.csv" and "signature=" in signed["url"]
    async with httpx2.AsyncClient(timeout=10) as anonymous:
        download = await anonymous.get(signed["url"])
        assert download.status_code == 200 and download.content == b"a,b\n1,2\n"
        assert download.headers["content-disposition"].startswith("attachment")
        forged = await anonymous.get(signed["url"].replace("attachment", "inline"))
        assert forged.status_code == 403
        assert (await anonymous.get(signed["url"].replace("q4.csv", "q5.csv"))).status_code in (403, 404)


async def test_events_are_validated_and_counted(api: httpx2.AsyncClient) -> None:
    run_id = (await api.post("/agents", json={"interaction": "Echo", "interactive": False})).json()["id"]
    base = {"timestamp": "2026-01-01T00:00:00Z", "runId": "w1", "model": "m", "environmentId": "e",
            "environmentType": "bedrock", "interactionId": "Echo"}
    ok = await api.post(f"/agents/{run_id}/events", json={"events": [
        {**base, "eventType": "checkpoint_created"},
        {**base, "eventType": "tool_call", "toolName": "t", "toolUseId": "u", "toolType": "builtin", "iteration": 1,
         "success": True, "durationMs": 5}]})
    assert ok.json() == {"ingested": 2}
    missing = await api.post(f"/agents/{run_id}/events", json={"events": [{**base, "eventType": "llm_call"}]})
    assert missing.status_code == 422 and "promptTokens" in missing.json()["message"]
    assert (await api.post(f"/agents/{run_id}/events", json={"events": []})).status_code == 422
    bad_time = await api.post(f"/agents/{run_id}/events", json={"events": [{**base, "eventType": "x",
                                                                            "timestamp": "yesterday"}]})
    assert bad_time.status_code == 400


async def test_search_ranks_and_filters(api: httpx2.AsyncClient) -> None:
    async def create(task: str, **extra: object) -> str:
        answer = await api.post("/agents", json={"interaction": "Echo", "interactive": False, "data": {"task": task},
                                                 **extra})
        return str(answer.json()["id"])

    strong = await create("quarterly revenue quarterly revenue report", tags=["finance"], categories=["reports"])
    weak = await create("a note that mentions revenue once", tags=["misc"])
    other = await create("nothing relevant here")
    for run_id in (strong, weak, other):
        await wait_status(api, run_id, {"completed"})
    await api.post(f"/agents/{other}/updates", json={"message": "the penguin colony grew"})

    found = (await api.get("/agents/search", params={"query": "revenue"})).json()
    assert found["total"] == 2 and [hit["id"] for hit in found["hits"]] == [strong, weak]
    assert found["hits"][0]["score"] > found["hits"][1]["score"] > 0
    assert (await api.get("/agents/search", params={"query": "penguin"})).json()["hits"][0]["id"] == other
    assert (await api.get("/agents/search", params={"query": "pengu"})).json()["total"] == 1  # prefix
    by_tag = (await api.get("/agents/search", params={"query": "revenue", "tags": "finance"})).json()
    assert [hit["id"] for hit in by_tag["hits"]] == [strong]
    by_category = (await api.get("/agents/search", params={"categories": "reports"})).json()
    assert [hit["id"] for hit in by_category["hits"]] == [strong]
    assert (await api.get("/agents/search", params={"query": "Echo", "status": "completed"})).json()["total"] == 3
    injected = await api.get("/agents/search", params={"query": 'revenue" OR NEAR(x'})
    assert injected.status_code == 200
    assert (await api.get("/agents/search")).json()["total"] == 3


async def test_openapi_document_lists_every_route(api: httpx2.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    for endpoint in API:
        if "analytics" in endpoint.path:
            continue
        path = endpoint.path.replace("{path:path}", "{path}")
        assert endpoint.method.lower() in document["paths"][path], path
    for sub in REPORTS.values():
        assert "post" in document["paths"][f"/agents/analytics/{sub}"]
    assert "CreateAgentRunRequest" in document["components"]["schemas"]


def test_routes_table_is_unique() -> None:
    keys = [(endpoint.method, endpoint.path) for endpoint in API]
    assert len(keys) == len(set(keys)) == 22
