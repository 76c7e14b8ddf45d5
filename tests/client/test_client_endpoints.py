"""Every endpoint round-trips with the right method, path, query and body (against the scripted API)."""

from __future__ import annotations

import json
import logging

import httpx2
import pytest

from mcp_agents.client import AgentRunsClient, ConflictError, InvalidRequestError, NotFoundError
from mcp_agents.models import REPORTS, CreateAgentRunRequest, MessageType
from mcp_agents.models.analytics import SummaryReport, ToolParametersReport
from tests.client.conftest import make_client
from tests.support.scripted_api import ScriptedAPI


def last(api: ScriptedAPI) -> tuple[str, str, dict[str, str], bytes]:
    call = api.calls[-1]
    return call.method, call.path, call.query, call.body


async def test_headers_carry_bearer_version_and_user_agent(api: ScriptedAPI, client: AgentRunsClient) -> None:
    await client.runs.list()
    headers = api.calls[-1].headers
    assert headers["authorization"].startswith("Bearer eyJ")
    assert headers["x-api-version"] == "20260803"
    assert headers["user-agent"].startswith("mcp-agents/")


async def test_runs_lifecycle(api: ScriptedAPI, client: AgentRunsClient) -> None:
    run = await client.runs.create(interaction="Echo", data={"task": "x"}, tags=["a"])
    assert last(api)[:2] == ("POST", "/api/v1/agents")
    assert json.loads(last(api)[3]) == {"interaction": "Echo", "data": {"task": "x"}, "tags": ["a"]}
    assert run.status == "running"

    again = await client.runs.create(CreateAgentRunRequest(interaction="Echo"), model="m1")
    assert json.loads(last(api)[3]) == {"interaction": "Echo", "config": {"model": "m1"}}
    assert again.id != run.id

    assert (await client.runs.retrieve(run.id)).id == run.id
    assert last(api)[:2] == ("GET", f"/api/v1/agents/{run.id}")

    listed = await client.runs.list(status=["running", "completed"], limit=5, order="asc", sort="updated_at")
    assert api.calls[-1].params == [("status", "running"), ("status", "completed"), ("limit", "5"),
                                    ("sort", "updated_at"), ("order", "asc")]
    assert {r.id for r in listed.items} == {run.id, again.id}

    found = await client.runs.search("report", tags=["a", "b"], categories="c", limit=3)
    assert api.calls[-1].params == [("query", "report"), ("categories", "c"), ("tags", "a"), ("tags", "b"),
                                    ("limit", "3")]
    assert found.total == 2

    await client.runs.list(interaction="Echo", started_by="u1", since="2025-01-01", until="2025-02-01",
                           offset=10, cursor="c1")
    assert last(api)[2] == {"interaction": "Echo", "started_by": "u1", "since": "2025-01-01",
                            "until": "2025-02-01", "offset": "10", "cursor": "c1"}
    await client.runs.search(status="running", interaction="Echo", started_by="u1", since="2025-01-01",
                             offset=2)
    assert last(api)[2] == {"status": "running", "interaction": "Echo", "started_by": "u1",
                            "since": "2025-01-01", "offset": "2"}

    result = await client.runs.terminate(run.id, reason="no longer needed")
    assert last(api)[:3] == ("DELETE", f"/api/v1/agents/{run.id}", {"reason": "no longer needed"})
    assert result.reason == "no longer needed"

    restarted = await client.runs.restart(run.id)
    assert last(api)[:2] == ("POST", f"/api/v1/agents/{run.id}/restart")
    assert restarted.status == "running"
    with pytest.raises(ConflictError):
        await client.runs.restart(run.id)

    fork = await client.runs.fork(run.id)
    assert last(api)[:2] == ("POST", f"/api/v1/agents/{run.id}/fork")
    assert fork.id not in (run.id, again.id)


async def test_list_accepts_the_live_object_shape(api: ScriptedAPI, client: AgentRunsClient) -> None:
    api.list_shape = "object"
    api.create_run()
    listed = await client.runs.list()
    assert len(listed.items) == 1 and listed.total_count == 1 and listed.next_cursor is None


async def test_create_refuses_bad_fields_before_any_request(api: ScriptedAPI, client: AgentRunsClient) -> None:
    with pytest.raises(InvalidRequestError, match="interaction"):
        await client.runs.create(data={"x": 1})
    with pytest.raises(InvalidRequestError, match="no_such_field"):
        await client.runs.create(interaction="Echo", no_such_field=1)
    assert api.calls == []


async def test_communication(api: ScriptedAPI, client: AgentRunsClient) -> None:
    run = api.create_run()
    answer = await client.communication.send_signal(run["id"], "UserInput", {"message": "hi"})
    assert last(api)[:2] == ("POST", f"/api/v1/agents/{run['id']}/signal/UserInput")
    assert api.signals == [(run["id"], "UserInput", {"message": "hi"})]
    assert answer.message == "Signal UserInput sent"
    state = await client.communication.query(run["id"], "ActiveWorkstreams")
    assert last(api)[:2] == ("GET", f"/api/v1/agents/{run['id']}/query/ActiveWorkstreams")
    assert state["workstreams"][0]["id"] == "main"
    with pytest.raises(NotFoundError, match="query handler not found"):
        await client.communication.query(run["id"], "Nope")


async def test_names_and_ids_are_encoded(api: ScriptedAPI, client: AgentRunsClient) -> None:
    with pytest.raises(NotFoundError):
        await client.communication.send_signal("a/b?c", "x y/../z")
    assert api.raw_paths[-1] == "/api/v1/agents/a%2Fb%3Fc/signal/x%20y%2F..%2Fz"


async def test_messages_retrieve_and_post(api: ScriptedAPI, client: AgentRunsClient) -> None:
    run = api.create_run()
    first = api.emit(run["id"], 3, "one")
    api.emit(run["id"], "ANSWER", "two", w="ws1")
    messages = await client.messages.retrieve(run["id"], since=0)
    assert [(m.type, m.message, m.workstream_id) for m in messages] == [
        (MessageType.UPDATE, "one", "main"), (MessageType.ANSWER, "two", "ws1")]
    later = await client.messages.retrieve(run["id"], since=first["ts"])
    assert last(api)[2] == {"since": str(first["ts"])}
    assert [m.message for m in later] == ["two"]
    posted = await client.messages.post(run["id"], message="progress", type="PLAN", details={"n": 1},
                                        workstream_id="w2")
    assert posted.success
    assert json.loads(last(api)[3]) == {"type": 2, "message": "progress", "details": {"n": 1},
                                        "workstream_id": "w2"}
    calls = len(api.calls)
    with pytest.raises(InvalidRequestError, match="NOPE"):
        await client.messages.post(run["id"], message="x", type="NOPE")
    assert len(api.calls) == calls  # refused before any request: the schema takes only the integer codes


@pytest.mark.parametrize("shape", ["seed", "live"])
async def test_artifacts_round_trip(api: ScriptedAPI, client: AgentRunsClient, shape: str,
                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    api.artifacts_mode = shape
    run = api.create_run()
    answer = await client.artifacts.upload(run["id"], "out/report 1.csv", b"a,b\n1,2\n", content_type="text/csv")
    puts = api.calls_to("/artifacts/", "PUT")
    assert puts[0].path == f"/api/v1/agents/{run['id']}/artifacts/out/report%201.csv"
    assert puts[0].headers["content-type"] == "text/csv" and puts[0].body == b""  # asks for a signed URL
    if shape == "live":  # the bytes go once, to the signed URL, without our credential
        assert answer is not None and answer.url.startswith("/signed/") and len(puts) == 1
        signed = api.calls_to("/signed/", "PUT")
        assert len(signed) == 1 and "authorization" not in signed[0].headers and signed[0].body == b"a,b\n1,2\n"
    else:  # the seed's direct upload: the answer held no URL, so the bytes go to the API's PUT
        assert answer is None and [put.body for put in puts] == [b"", b"a,b\n1,2\n"]
    assert await client.artifacts.list(run["id"]) == ["out/report 1.csv"]
    content = await client.artifacts.get(run["id"], "out/report 1.csv")
    assert content.content == b"a,b\n1,2\n" and content.content_type.startswith("text/csv")
    url = await client.artifacts.url(run["id"], "out/report 1.csv", disposition="attachment")
    assert last(api)[2] == {"url": "1", "disposition": "attachment"}
    assert "disposition=attachment" in url.url
    # httpx2 logs every request it sends; a signed URL's query (its signature) never reaches a log line
    assert "HTTP Request: PUT" in caplog.text
    assert "SIGNATURE" not in caplog.text and "disposition=attachment" not in caplog.text
    with pytest.raises(NotFoundError):
        await client.artifacts.get(run["id"], "missing.txt")


async def test_observability_and_telemetry(api: ScriptedAPI, client: AgentRunsClient) -> None:
    run = api.create_run()
    internals = await client.observability.internals(run["id"])
    assert internals.workflow_id == f"AgentRun:{run['id']}"
    details = await client.observability.details(run["id"], include_history=True)
    assert last(api)[2] == {"include_history": "true"} and details.history == [{"task": "start"}]
    await client.observability.details(run["id"])
    assert last(api)[2] == {}
    children = await client.observability.children(run["id"])
    assert children.runs[0].run_id == "c1" and children.has_more is False
    event = {"eventType": "tool_call", "timestamp": "2025-01-15T10:30:00Z", "runId": "wr1", "model": "m",
             "environmentId": "e", "environmentType": "bedrock", "interactionId": "i", "toolName": "search",
             "toolUseId": "u1", "toolType": "builtin", "iteration": 1, "success": True, "durationMs": 12,
             "custom": "kept"}
    result = await client.telemetry.ingest(run["id"], [event])
    assert result.ingested == 1
    assert last(api)[:2] == ("POST", f"/api/v1/agents/{run['id']}/events")
    assert json.loads(last(api)[3])["events"][0]["custom"] == "kept"
    calls = len(api.calls)
    with pytest.raises(InvalidRequestError, match="toolUseId"):
        await client.telemetry.ingest(run["id"], [{**event, "toolUseId": None}])
    with pytest.raises(InvalidRequestError):
        await client.telemetry.ingest(run["id"], [])
    assert len(api.calls) == calls


async def test_every_analytics_report(api: ScriptedAPI, client: AgentRunsClient) -> None:
    query = {"from": 1710806400000, "filter": {"agents": ["A"]}, "groupBy": "model", "toolName": "search"}
    for name, path in REPORTS.items():
        report = await getattr(client.analytics, name)(query)
        assert last(api)[:2] == ("POST", f"/api/v1/agents/analytics/{path}")
        assert json.loads(last(api)[3]) == query
        assert report is not None
    summary = await client.analytics.summary()
    assert isinstance(summary, SummaryReport) and summary.summary.totalRuns == 3
    assert json.loads(last(api)[3]) == {}
    params = await client.analytics.report("tool_parameters", {"toolName": "search"})
    assert isinstance(params, ToolParametersReport)
    calls = len(api.calls)
    with pytest.raises(InvalidRequestError, match="toolName"):
        await client.analytics.tool_parameters({"from": 1})
    with pytest.raises(InvalidRequestError, match="unknown analytics report"):
        await client.analytics.report("nope")
    with pytest.raises(InvalidRequestError):
        await client.analytics.summary({"resolution": "fortnight"})
    assert len(api.calls) == calls


async def test_empty_ids_are_refused_before_any_request(api: ScriptedAPI, client: AgentRunsClient) -> None:
    for call in (client.runs.retrieve(""), client.runs.terminate("  "), client.runs.restart(".."),
                 client.communication.send_signal("r", ""), client.communication.query("", "q"),
                 client.messages.retrieve(""), client.artifacts.list(""), client.observability.internals("")):
        with pytest.raises(InvalidRequestError):
            await call
    with pytest.raises(InvalidRequestError):
        client.messages.stream("")
    with pytest.raises(InvalidRequestError):
        client.messages.stream("run1", since=-1)
    assert api.calls == []


async def test_with_credentials_shares_the_pool_and_keeps_its_own_credential(api: ScriptedAPI) -> None:
    async with make_client(api.root) as anonymous:
        view = anonymous.with_credentials(token=api.api_key)  # an sk- key given as a bearer is exchanged
        await view.runs.list()
        assert api.exchanges == 1
        await view.aclose()
        await view.runs.list()  # the view does not own (or close) the shared pool
        assert "sk-" not in repr(view)


async def test_a_shared_pool_is_not_closed_by_the_client(api: ScriptedAPI) -> None:
    async with httpx2.AsyncClient() as pool:
        async with make_client(api.root, api_key=api.api_key, http_client=pool) as client:
            await client.runs.list()
        assert not pool.is_closed


async def test_artifact_redirects_to_another_origin_drop_the_credential(api: ScriptedAPI,
                                                                        client: AgentRunsClient) -> None:
    storage = ScriptedAPI()
    async with storage.serve():
        run = api.create_run()
        storage.runs[run["id"]] = run
        storage.artifacts[run["id"]] = {"r.txt": (b"payload", "text/plain")}
        api.artifacts[run["id"]] = {"r.txt": (b"", "text/plain")}
        api.artifacts_mode, api.redirect_root = "redirect", storage.root
        content = await client.artifacts.get(run["id"], "r.txt")
    assert content.content == b"payload"
    download = storage.calls_to("/download/")[0]
    assert "authorization" not in download.headers
