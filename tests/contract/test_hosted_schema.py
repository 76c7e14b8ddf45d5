"""Every request the client can send, and every answer the hosted-shaped local service gives, conform
to the hosted service's published OpenAPI document and to its official Python client's models.

The client talks to the local service in hosted mode through a recording transport; every
exchange on a published route is then checked with openapi-core (parameters in form style,
bodies, answers, status codes) and with `vertesia-client`'s generated models.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from mcp_agents.client import AgentRunsClient, NotFoundError
from mcp_agents.local import LocalServiceConfig, RunningService, run_local_service
from mcp_agents.models import MessageType
from mcp_agents.models.hosted import document
from tests.contract.published import Recorder, official_models, operation_of, problems

pytestmark = pytest.mark.anyio
# Every published operation the client calls (internals, telemetry events and analytics are not published).
CLIENT_OPERATIONS = {
    "CreateAgentRun", "ListAgentRuns", "SearchAgentRuns", "GetAgentRun", "TerminateAgentRun", "RestartAgentRun",
    "ForkAgentRun", "SignalAgentRun", "QueryAgentRun", "ListAgentRunUpdates", "PostAgentRunUpdate", "StreamAgentRun",
    "ListAgentRunArtifacts", "GetAgentRunArtifact", "CreateAgentRunArtifactUploadUrl", "GetAgentRunDetails",
    "ListAgentRunChildren",
}


@pytest.fixture
async def hosted(tmp_path: Path) -> AsyncIterator[RunningService]:
    config = LocalServiceConfig(data_dir=tmp_path / "hosted", heartbeat_seconds=0.2, wire="hosted")
    async with run_local_service(config) as service:
        yield service


async def _until_done(client: AgentRunsClient, run_id: str) -> None:
    async for message in client.messages.stream(run_id):
        if message.ends_run:
            return


async def _exercise(client: AgentRunsClient) -> None:
    """Every client method with its options, over runs that really ran."""
    demo = await client.runs.create(interaction="Demo", data={"task": "contract", "steps": 2, "step_delay_ms": 1,
                                                              "spawn_child": True},
                                    environment="env-1", model="model-1", interactive=False, tags=["t1", "t2"],
                                    categories=["c1"], visibility="project", properties={"k": "v"},
                                    tool_names=["+search"], max_iterations=5, checkpoint_tokens=10,
                                    search_scope="collection", debug_mode=False,
                                    user_channels=[{"type": "interactive"}])
    assert demo.status in ("created", "running") and demo.model == "model-1"
    await _until_done(client, demo.id)
    echo = await client.runs.create(interaction="Echo", data={"task": "hello"}, interactive=True)
    await client.communication.send_signal(echo.id, "UserInput", {"message": "again"})
    await client.communication.send_signal(echo.id, "FileUploaded", {"id": "f1", "name": "a.txt"})
    for name in ("ActiveWorkstreams", "AgentPlan", "AvailableTools"):
        assert await client.communication.query(echo.id, name) is not None
    await client.messages.post(echo.id, message="from a tool", type="THOUGHT", details={"tool": "x"},
                               workstream_id="w1")
    await client.messages.post(echo.id, message="done", type=MessageType.UPDATE)
    assert await client.messages.retrieve(echo.id)
    assert await client.messages.retrieve(echo.id, since=1)
    await client.artifacts.upload(echo.id, "notes.txt", b"some notes", content_type="text/plain")
    await client.artifacts.upload(echo.id, "nested/dir/data.csv", b"a,b\n1,2\n", content_type="text/csv")
    assert set(await client.artifacts.list(echo.id)) == {"notes.txt", "nested/dir/data.csv"}
    assert (await client.artifacts.get(echo.id, "notes.txt")).content == b"some notes"
    assert (await client.artifacts.read(echo.id, "nested/dir/data.csv", max_bytes=3)).content == b"a,b"
    assert (await client.artifacts.url(echo.id, "notes.txt", disposition="attachment")).url
    await client.communication.send_signal(echo.id, "Stop")  # ends the turn; the interactive run waits on
    await client.runs.terminate(echo.id, reason="contract test done")
    await _until_done(client, echo.id)

    listed = await client.runs.list(status=["completed", "cancelled"], limit=1, sort="updated_at", order="asc")
    assert listed.items and listed.next_cursor
    await client.runs.list(cursor=listed.next_cursor, limit=1, status="completed")
    await client.runs.list(interaction="Echo", since="2020-01-01T00:00:00Z", until="2999-01-01T00:00:00Z",
                           started_by="apikey:dev", offset=0)
    await client.runs.search("contract", status=["completed"], tags=["t1", "t2"], categories="c1", limit=5,
                             offset=0)
    await client.runs.retrieve(demo.id)
    await client.observability.details(demo.id, include_history=True)
    await client.observability.details(demo.id)
    children = await client.observability.children(demo.id)
    assert children.runs and children.has_more is False
    await client.runs.restart(echo.id)
    forked = await client.runs.fork(demo.id)
    await client.runs.terminate(forked.id, reason="enough")
    await client.runs.terminate(echo.id)
    with pytest.raises(NotFoundError):
        await client.runs.retrieve("000000000000000000000000")


async def test_every_request_and_answer_conforms(hosted: RunningService) -> None:
    recorder = Recorder()
    async with httpx2.AsyncClient(transport=recorder, timeout=30) as http, AgentRunsClient(
            base_url=hosted.base_url, api_key=hosted.api_key, sts_url=hosted.sts_url, http_client=http) as client:
        await _exercise(client)
    api = [item for item in recorder.exchanges if "/api/v1/agents" in str(item.request.url)
           and "signature" not in item.request.url.params]
    found = [(item, operation_of(item.request.method, item.request.url)) for item in api]
    checked = [item for item, operation in found if operation is not None]
    operations = {operation[0]["operationId"] for _, operation in found if operation is not None}
    assert operations == CLIENT_OPERATIONS, " ".join(sorted(operations))
    failures = {f"{item.request.method} {item.request.url.path}": found for item in checked
                if (found := problems(item))}
    assert not failures, "\n".join(f"{key}: {value}" for key, value in failures.items())

    updates = [item for item in checked if item.request.url.path.endswith("/updates") and item.request.method == "GET"]
    assert all(item.response is not None and item.response.headers.get("content-encoding") == "gzip"
               for item in updates)
    signed = [item for item in recorder.exchanges if "signature" in item.request.url.params]
    assert [item.request.method for item in signed].count("PUT") == 2  # each upload's bytes went once, signed
    assert all("authorization" not in item.request.headers for item in signed)


async def test_streamed_messages_are_compact_messages(hosted: RunningService) -> None:
    """The SSE frames, like `/updates`, carry the published `CompactMessage` (integer `t`, no extra keys)."""
    async with AgentRunsClient(base_url=hosted.base_url, api_key=hosted.api_key, sts_url=hosted.sts_url) as client:
        run = await client.runs.create(interaction="Demo", data={"task": "s", "steps": 2, "step_delay_ms": 1},
                                       interactive=False)
        token = await client.credentials.get()
        frames: list[str] = []
        url, headers = f"{hosted.base_url}/agents/{run.id}/stream", {"Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(timeout=30) as http, http.stream("GET", url, headers=headers) as sse:
            async for line in sse.aiter_lines():
                if line.startswith("data: "):
                    frames.append(line.removeprefix("data: "))
    models = official_models()
    validator = _compact_validator()
    assert frames
    for frame in frames:
        message = json.loads(frame)
        assert isinstance(message["t"], int) and "wri" not in message
        assert not list(validator.iter_errors(message)), message
        models.CompactMessage.from_dict(message)


def _compact_validator() -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    from mcp_agents.models.hosted import DOCUMENT_URI

    registry = Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(document()))
    return Draft202012Validator({"$ref": f"{DOCUMENT_URI}#/components/schemas/CompactMessage"}, registry=registry)

