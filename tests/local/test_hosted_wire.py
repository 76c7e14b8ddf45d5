"""The local service's hosted wire format: what a client of the hosted service observes, and nothing else.

Strict validation against the published schema (400 naming the field), keyset cursors, gzip-encoded
`/updates`, signed uploads, `{url, path}`, WorkflowRun children, and the seed shapes still served
by default.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx2
import pytest

from mcp_agents.local import LocalServiceConfig, run_local_service
from mcp_agents.models.hosted import Wire
from mcp_agents.models.messages import MessageType, type_code
from tests.local.helpers import RawConnection, client, issue_token, wait_message, wait_status

pytestmark = pytest.mark.anyio


@pytest.fixture
async def hosted(tmp_path: Path) -> AsyncIterator[httpx2.AsyncClient]:
    config = LocalServiceConfig(data_dir=tmp_path / "data", heartbeat_seconds=0.2, wire="hosted")
    async with (run_local_service(config) as service,
                client(service, await issue_token(service, service.api_key)) as http):
        yield http


async def _echo(http: httpx2.AsyncClient, **fields: object) -> str:
    answer = await http.post("/agents", json={"interaction": "Echo", "data": {"task": "hi"}, "interactive": False,
                                              **fields})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


@pytest.mark.parametrize(("method", "path", "options", "named"), [
    ("POST", "/agents", {"json": {"interaction": "Echo", "model": "m"}}, "model"),
    ("POST", "/agents", {"json": {"interaction": "Echo", "config": {"modle": "m"}}}, "modle"),
    ("POST", "/agents", {"json": {"data": {}}}, "interaction"),
    ("GET", "/agents", {"params": {"status": "running,completed"}}, "status"),
    ("GET", "/agents", {"params": {"limit": "many"}}, "limit"),
    ("GET", "/agents", {"params": [("interaction", "a"), ("interaction", "b")]}, "interaction"),
])
async def test_requests_the_published_schema_refuses_are_400s(hosted: httpx2.AsyncClient, method: str, path: str,
                                                              options: dict[str, object], named: str) -> None:
    before = (await hosted.get("/agents")).json()["total_count"]
    answer = await hosted.request(method, path, **options)  # type: ignore[arg-type]
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["status"] == 400 and named in body["message"] and "20260803" in body["message"]
    assert (await hosted.get("/agents")).json()["total_count"] == before  # nothing was created


async def test_updates_take_integer_codes_and_answer_compact_gzipped_messages(hosted: httpx2.AsyncClient) -> None:
    run_id = await _echo(hosted, interactive=True)
    await wait_message(hosted, run_id, type_code(MessageType.IDLE))  # Echo's turn is over: it posts no more
    refused = await hosted.post(f"/agents/{run_id}/updates", json={"type": "PLAN", "message": "x"})
    assert refused.status_code == 400 and "type" in refused.json()["message"]
    posted = await hosted.post(f"/agents/{run_id}/updates", json={"type": 2, "message": "plan", "workstream_id": "w"})
    assert posted.status_code == 201 and posted.json() == {"success": True}
    async with hosted.stream("GET", f"/agents/{run_id}/updates", headers={"Accept-Encoding": "gzip"}) as raw:
        assert raw.headers["content-encoding"] == "gzip"
        messages = json.loads(gzip.decompress(b"".join([chunk async for chunk in raw.aiter_raw()])))["messages"]
    assert {"t": 2, "m": "plan", "w": "w"}.items() <= messages[-1].items()
    assert all(isinstance(item["t"], int) and "wri" not in item for item in messages)
    for refusing in ("identity", "gzip;q=0, identity", "gzip; q=0.0"):  # q=0: "not acceptable" (RFC 9110)
        plain = await hosted.get(f"/agents/{run_id}/updates", headers={"Accept-Encoding": refusing})
        assert "content-encoding" not in plain.headers and plain.json()["messages"] == messages, refusing


async def test_list_pages_with_a_keyset_cursor_that_new_runs_do_not_shift(hosted: httpx2.AsyncClient) -> None:
    created = [await _echo(hosted) for _ in range(5)]
    seen: list[str] = []
    page = (await hosted.get("/agents", params={"limit": 2})).json()
    assert set(page) == {"items", "total_count", "next_cursor"} and page["total_count"] == 5
    seen += [run["id"] for run in page["items"]]
    await _echo(hosted)  # newer than every page: an offset would now repeat a run, a cursor does not
    while page["next_cursor"]:
        page = (await hosted.get("/agents", params={"limit": 2, "cursor": page["next_cursor"]})).json()
        seen += [run["id"] for run in page["items"]]
    assert seen == created[::-1]
    run = (await hosted.get(f"/agents/{created[0]}")).json()
    assert run["run_kind"] == "agent" and run["run_type"] == "autonomous" and "environment" not in run
    forged = [base64.urlsafe_b64encode(text.encode()).decode() for text in ("9" * 25 + ".1", "1." + "9" * 25)]
    for cursor in ("not-a-cursor", *forged):
        bad = await hosted.get("/agents", params={"cursor": cursor})
        assert bad.status_code == 400 and "cursor" in bad.json()["message"], bad.text


async def test_uploads_go_to_a_signed_url_that_allows_that_path_only(hosted: httpx2.AsyncClient) -> None:
    run_id = await _echo(hosted)
    answer = await hosted.put(f"/agents/{run_id}/artifacts/out/a.txt", headers={"content-type": "text/plain"})
    assert answer.status_code == 200 and set(answer.json()) == {"url", "path"}
    signed = answer.json()["url"]
    assert (await hosted.get(f"/agents/{run_id}/artifacts")).json() == []  # asking for a URL stores nothing
    async with httpx2.AsyncClient(timeout=10) as anonymous:
        other = signed.replace("/out/a.txt", "/out/b.txt")
        assert (await anonymous.put(other, content=b"x")).status_code == 403
        stored = await anonymous.put(signed, content=b"hello", headers={"content-type": "text/plain"})
        assert stored.status_code == 200
        link = (await hosted.get(f"/agents/{run_id}/artifacts/out/a.txt", params={"url": "1"})).json()
        assert set(link) == {"url", "path"} and link["path"] == "out/a.txt"
        assert (await anonymous.get(link["url"])).content == b"hello"
        assert (await anonymous.put(link["url"], content=b"overwrite")).status_code == 403  # a download link
    assert (await hosted.get(f"/agents/{run_id}/artifacts/out/a.txt")).content == b"hello"


async def test_children_are_workflow_runs_and_the_common_queries_answer(hosted: httpx2.AsyncClient) -> None:
    answer = await hosted.post("/agents", json={"interaction": "Demo", "interactive": False,
                                                "data": {"task": "t", "steps": 1, "step_delay_ms": 1,
                                                         "spawn_child": True}})
    run_id = answer.json()["id"]
    await wait_status(hosted, run_id, {"completed"})
    children = (await hosted.get(f"/agents/{run_id}/children")).json()
    assert children["has_more"] is False and len(children["runs"]) == 1
    child = children["runs"][0]
    assert child["workflow_id"].startswith("AgentRun:") and "agent_run_id" not in child
    echo = await _echo(hosted)
    assert (await hosted.get(f"/agents/{echo}/query/AgentPlan")).json() == {"plan": []}
    assert (await hosted.get(f"/agents/{echo}/query/Nope")).status_code == 404


async def test_the_seed_wire_stays_the_default(tmp_path: Path) -> None:
    config = LocalServiceConfig(data_dir=tmp_path / "seed", heartbeat_seconds=0.2)
    async with (run_local_service(config) as service,
                client(service, await issue_token(service, service.api_key)) as http):
        created = await http.post("/agents", json={"interaction": "Echo", "environment": "e", "interactive": False})
        assert created.status_code == 200 and created.json()["environment"] == "e"
        run_id = created.json()["id"]
        for params in ({"status": "running,completed"}, [("status", "running"), ("status", "completed")]):
            listed = await http.get("/agents", params=params)  # comma-joined (seed) and repeated (hosted)
            assert [run["id"] for run in listed.json()] == [run_id]
        posted = await http.post(f"/agents/{run_id}/updates", json={"type": "PLAN", "message": "p"})
        assert posted.status_code == 200
        messages = (await http.get(f"/agents/{run_id}/updates")).json()["messages"]
        plans = [message for message in messages if message["t"] == "PLAN"]  # Echo may finish before or after
        assert len(plans) == 1 and "wri" in plans[0]


async def test_updates_take_what_the_published_payload_allows(hosted: httpx2.AsyncClient) -> None:
    """`timestamp` is a number and `workflow_run_id` a published field: neither is refused."""
    run_id = await _echo(hosted, interactive=True)
    await wait_message(hosted, run_id, type_code(MessageType.IDLE))
    workflow_run_id = (await hosted.get(f"/agents/{run_id}/updates")).json()["messages"][0].get("wri", "wf")
    posted = await hosted.post(f"/agents/{run_id}/updates", json={
        "type": 2, "message": "plan", "timestamp": 4_102_444_800_000.5, "workflow_run_id": str(workflow_run_id)})
    assert posted.status_code == 201, posted.text
    messages = (await hosted.get(f"/agents/{run_id}/updates")).json()["messages"]
    assert messages[-1] == {"t": 2, "m": "plan", "ts": 4_102_444_800_000}


async def test_a_run_takes_every_field_the_published_payload_allows(hosted: httpx2.AsyncClient) -> None:
    """Fields the local service has no use for (model options, skills, denylists) are published: not refused."""
    answer = await hosted.post("/agents", json={
        "interaction": "Echo", "data": {"task": "hi"}, "interactive": False,
        "config": {"environment": "env-1", "model": "m", "do_validate": True, "prompt_cache_key": "k"},
        "initial_skills": ["s"], "excluded_tools": ["t"], "disabled_mcp_collections": ["c"],
        "schedule_id": "sched", "started_by": "user:someone-else"})
    assert answer.status_code == 200, answer.text
    run = answer.json()
    assert run["config"] == {"environment": "env-1", "model": "m"}
    assert run["started_by"] != "user:someone-else"  # the caller owns the run, whatever the body says
    await wait_status(hosted, run["id"], {"completed"})


async def test_the_list_applies_every_published_filter(hosted: httpx2.AsyncClient) -> None:
    """A filter the service left out would answer runs the caller excluded."""
    first = await _echo(hosted)
    await anyio.sleep(0.01)  # a later millisecond: `until` the first's start excludes the second
    second = await _echo(hosted)

    async def listed(**params: object) -> list[str]:
        answer = await hosted.get("/agents", params=params)  # type: ignore[arg-type]
        assert answer.status_code == 200, answer.text
        return [run["id"] for run in answer.json()["items"]]

    assert await listed(id=first) == [first]
    started = (await hosted.get(f"/agents/{first}")).json()["started_at"]
    assert await listed(until=started) == [first] and await listed(until="2000-01-01T00:00:00Z") == []
    assert set(await listed(run_kind="agent", run_type="autonomous", type="api")) == {first, second}
    for params in ({"run_kind": "process"}, {"run_type": "supervised"}, {"type": "schedule"},
                   {"schedule_id": "nightly"}):
        assert await listed(**params) == [], params
    found = await hosted.get("/agents/search", params={"run_type": "supervised"})
    assert found.status_code == 200 and found.json()["hits"] == [], found.text
    found = await hosted.get("/agents/search", params={"run_type": "autonomous", "until": started})
    assert [hit["id"] for hit in found.json()["hits"]] == [first]


@pytest.mark.parametrize("wire", ["seed", "hosted"])
async def test_a_stranger_gets_401_before_its_request_is_read_or_validated(tmp_path: Path, wire: Wire) -> None:
    """Authentication comes first on both wires: without valid credentials, no schema error (which would
    tell a stranger about the API) and no body read or parsed; with them, the schema's 400 names the field."""
    config = LocalServiceConfig(data_dir=tmp_path / "data", heartbeat_seconds=0.2, wire=wire)
    async with run_local_service(config) as service:
        token = await issue_token(service, service.api_key)
        refused = ({"json": {"interaction": "Echo", "model": "m"}}, {"params": {"limit": "many"}},
                   {"content": b'{"interaction": NaN', "headers": {"Content-Type": "application/json"}})
        for bearer in (None, "not-a-jwt", token[:-4] + "AAAA"):
            async with client(service, bearer) as stranger:
                for options in refused:
                    answer = await stranger.request("GET" if "params" in options else "POST", "/agents",
                                                    **options)  # type: ignore[arg-type]
                    assert answer.status_code == 401, (bearer, options, answer.text)
                    assert "model" not in answer.text and "limit" not in answer.text and "JSON" not in answer.text
        # a body announced but never sent: the 401 does not wait for it, and the connection is not reused
        connection = await RawConnection.open(service.port)
        try:
            await connection.send(b"POST /api/v1/agents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer x.y.z"
                                  b"\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n")
            status, headers, _ = await connection.response()
            assert status == 401 and headers.get("connection") == "close"
        finally:
            await connection.close()
        if wire == "hosted":
            async with client(service, token) as caller:
                answer = await caller.post("/agents", json={"interaction": "Echo", "model": "m"})
                assert answer.status_code == 400 and "model" in answer.json()["message"], answer.text
                answer = await caller.get("/agents", params={"limit": "many"})
                assert answer.status_code == 400 and "limit" in answer.json()["message"], answer.text
