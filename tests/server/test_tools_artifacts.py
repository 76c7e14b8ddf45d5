"""Artifacts round trip (JSON as text too), reporting into a run, and analytics through the tools (both eras)."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from mcp.types import EmbeddedResource, ImageContent

from mcp_agents.local import RunningService
from tests.server.tools_helpers import MODES, api_client, call, data, demo, mcp_client, text_of

pytestmark = pytest.mark.parametrize("mode", MODES)


async def finished_demo(mcp: Any) -> str:
    result = data(await call(mcp, "start_agent_run", {"interaction": "Demo", "interactive": False,
                                                      "data": demo(), "wait_seconds": 30}))
    return str(result["runs"][0]["run_id"])


async def test_artifact_round_trip(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        run_id = await finished_demo(mcp)
        await call(mcp, "upload_agent_artifact", {"run_id": run_id, "path": "notes/input.txt",
                                                  "text": "line one\nline two"})
        blob = bytes(range(256))
        written = data(await call(mcp, "upload_agent_artifact", {
            "run_id": run_id, "path": "raw.bin", "content_base64": base64.b64encode(blob).decode(),
            "mime_type": "application/x-test"}))
        assert written["size"] == 256
        paths = data(await call(mcp, "list_agent_artifacts", {"run_id": run_id}))["paths"]
        assert {"notes/input.txt", "raw.bin", "report.md", "data.csv", "chart.png"} <= set(paths)

        text = await call(mcp, "read_agent_artifact", {"run_id": run_id, "path": "notes/input.txt"})
        assert data(text)["text"] == "line one\nline two" and "> line one\n> line two" in text_of(text)
        paged = data(await call(mcp, "read_agent_artifact", {"run_id": run_id, "path": "report.md",
                                                             "max_chars": 100}))
        assert len(paged["text"]) == 100 and paged["next_offset"] == 100
        rest = data(await call(mcp, "read_agent_artifact", {"run_id": run_id, "path": "report.md",
                                                            "offset": 100}))
        assert "next_offset" not in rest and rest["text"]

        image = await call(mcp, "read_agent_artifact", {"run_id": run_id, "path": "chart.png"})
        block = image.content[-1]
        assert isinstance(block, ImageContent) and block.mime_type == "image/png"
        assert base64.b64decode(block.data).startswith(b"\x89PNG")

        raw = await call(mcp, "read_agent_artifact", {"run_id": run_id, "path": "raw.bin"})
        embedded = raw.content[-1]
        assert isinstance(embedded, EmbeddedResource)
        assert base64.b64decode(embedded.resource.blob) == blob  # type: ignore[union-attr]


# JSON documents as text: the SDK decodes a JSON-looking string argument before validation unless the
# parameter is exactly `str`; these once arrived as a dict (refused), a list (refused) or None ("not given").
JSON_TEXTS = ['{"a": 1}', '{ "a" : 1.0,\n  "b": [1e2, "\\u00e9", null] }\n', "[1, 2]", "null", "true", '"quoted"']


async def test_a_json_document_is_uploaded_as_text_byte_for_byte(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp, api_client(local_service) as client:
        run_id = await finished_demo(mcp)
        for number, text in enumerate(JSON_TEXTS):
            path = f"in/doc{number}.json"
            written = data(await call(mcp, "upload_agent_artifact", {"run_id": run_id, "path": path, "text": text,
                                                                     "mime_type": "application/json"}))
            assert written["size"] == len(text.encode())
            assert (await client.artifacts.get(run_id, path)).content == text.encode()
            assert data(await call(mcp, "read_agent_artifact", {"run_id": run_id, "path": path}))["text"] == text


async def test_json_text_is_sent_as_input_unchanged(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        started = data(await call(mcp, "start_agent_run", {"interaction": "Echo", "data": {"task": "start"},
                                                            "wait_seconds": 30}))
        run_id = started["runs"][0]["run_id"]
        answered = data(await call(mcp, "send_agent_input", {"run_id": run_id, "message": '{"answer": 42}',
                                                             "wait_seconds": 30}))
        assert answered["runs"][0]["answer"] == '{"answer": 42}'
        # An object or list argument sent as a JSON string (as some clients do) is still decoded.
        waited = data(await call(mcp, "wait_for_agent_runs", {"run_ids": json.dumps([run_id]), "timeout_seconds": 5}))
        assert [run["run_id"] for run in waited["runs"]] == [run_id]
        await call(mcp, "cancel_agent_run", {"run_id": run_id})


async def test_reporting_and_analytics(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        run_id = await finished_demo(mcp)
        await call(mcp, "post_agent_update", {"run_id": run_id, "message": "external note", "type": "UPDATE",
                                              "workstream_id": "ext"})
        messages = data(await call(mcp, "get_agent_messages", {"run_id": run_id, "workstream": "ext"}))
        assert [row["text"] for row in messages["messages"]] == ["external note"]
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        event = {"eventType": "tool_call", "timestamp": now, "runId": run_id, "model": "m", "environmentId": "e",
                 "environmentType": "t", "interactionId": "Demo", "toolName": "probe", "toolUseId": "u1",
                 "toolType": "builtin", "iteration": 1, "success": True, "durationMs": 5}
        ingested = data(await call(mcp, "ingest_agent_events", {"run_id": run_id, "events": [event]}))
        assert ingested["accepted"] == 1
        summary = await call(mcp, "get_agent_analytics", {"report": "summary"})
        assert data(summary)["data"]["summary"]["totalRuns"] >= 1 and "totalRuns=" in text_of(summary)
        tools = await call(mcp, "get_agent_analytics", {"report": "tools"})
        assert "probe" in text_of(tools) and "toolName" in text_of(tools)
