"""Resources, completions and prompts, in both protocol eras, over the local service."""

from __future__ import annotations

import base64
import json

import pytest
from mcp import MCPError
from mcp.types import BlobResourceContents, PromptReference, ResourceTemplateReference, TextResourceContents

from mcp_agents.local import RunningService
from mcp_agents.server.uris import ARTIFACT_TEMPLATE, MESSAGES_TEMPLATE, RUN_TEMPLATE, parse_run_uri
from tests.server.serving_helpers import MODES, api_client, finished_run, mcp_client


def test_uri_parser_keeps_nested_artifact_paths() -> None:
    assert parse_run_uri("agent-run://r1") is not None
    resource = parse_run_uri("agent-run://r1/artifacts/out/deep/notes%20v2.md")
    assert resource is not None and (resource.kind, resource.path) == ("artifact", "out/deep/notes v2.md")
    assert parse_run_uri("agent-run://r1/messages") is not None
    assert parse_run_uri("agent-run://r1/other") is None
    assert parse_run_uri("file:///etc/passwd") is None


@pytest.mark.parametrize("mode", MODES)
async def test_run_messages_and_artifacts_read_as_resources(local_service: RunningService, mode: str) -> None:
    async with api_client(local_service) as client, mcp_client(client, mode) as mcp:
        run = await finished_run(client)
        await client.artifacts.upload(run.id, "notes/deep/readme.txt", b"nested hello", content_type="text/plain")

        templates = {t.uri_template for t in (await mcp.list_resource_templates()).resource_templates}
        assert {RUN_TEMPLATE, MESSAGES_TEMPLATE, ARTIFACT_TEMPLATE} <= templates

        read = await mcp.read_resource(f"agent-run://{run.id}")
        content = read.contents[0]
        assert isinstance(content, TextResourceContents) and content.mime_type == "application/json"
        doc = json.loads(content.text)
        assert doc["id"] == run.id and doc["status"] == "completed"
        paths = {item["path"] for item in doc["artifacts"]}
        assert {"report.md", "chart.png", "notes/deep/readme.txt"} <= paths

        messages = json.loads((await mcp.read_resource(f"agent-run://{run.id}/messages")).contents[0].text)
        kinds = [row["type"] for row in messages["messages"]]
        assert kinds[-1] == "COMPLETE" and "ANSWER" in kinds and messages["count"] == len(kinds)

        report = (await mcp.read_resource(f"agent-run://{run.id}/artifacts/report.md")).contents[0]
        assert isinstance(report, TextResourceContents) and report.mime_type.startswith("text/markdown")
        chart = (await mcp.read_resource(f"agent-run://{run.id}/artifacts/chart.png")).contents[0]
        assert isinstance(chart, BlobResourceContents) and chart.mime_type == "image/png"
        assert base64.b64decode(chart.blob).startswith(b"\x89PNG")
        nested = (await mcp.read_resource(f"agent-run://{run.id}/artifacts/notes/deep/readme.txt")).contents[0]
        assert isinstance(nested, TextResourceContents) and nested.text == "nested hello"


@pytest.mark.parametrize("mode", MODES)
async def test_unknown_run_and_artifact_are_errors(local_service: RunningService, mode: str) -> None:
    async with api_client(local_service) as client, mcp_client(client, mode) as mcp:
        run = await finished_run(client)
        for uri in ("agent-run://no-such-run", f"agent-run://{run.id}/artifacts/missing.txt",
                    f"agent-run://{run.id}/artifacts/../escape"):
            with pytest.raises(MCPError):
                await mcp.read_resource(uri)


@pytest.mark.parametrize("mode", MODES)
async def test_recent_runs_are_listed(local_service: RunningService, mode: str) -> None:
    async with api_client(local_service) as client, mcp_client(client, mode) as mcp:
        first = await finished_run(client)
        second = await finished_run(client)
        listed = {str(r.uri): r for r in (await mcp.list_resources()).resources}
        assert {f"agent-run://{first.id}", f"agent-run://{second.id}"} <= set(listed)
        row = listed[f"agent-run://{second.id}"]
        assert row.mime_type == "application/json" and "completed" in (row.title or "")


@pytest.mark.parametrize("mode", MODES)
async def test_completions_for_run_ids_interactions_and_paths(local_service: RunningService, mode: str) -> None:
    async with api_client(local_service) as client, mcp_client(client, mode) as mcp:
        run = await finished_run(client)
        ref = ResourceTemplateReference(uri=RUN_TEMPLATE)
        ids = (await mcp.complete(ref, {"name": "run_id", "value": run.id[:6]})).completion.values
        assert run.id in ids
        assert (await mcp.complete(ref, {"name": "run_id", "value": "zzz-none"})).completion.values == []

        prompt = PromptReference(name="delegate_task")
        names = (await mcp.complete(prompt, {"name": "interaction", "value": "de"})).completion.values
        assert any(name.startswith("Demo") for name in names)
        assert not any(name.startswith("Echo") for name in names)

        review = PromptReference(name="review_run")
        assert run.id in (await mcp.complete(review, {"name": "run_id", "value": ""})).completion.values

        paths = (await mcp.complete(ResourceTemplateReference(uri=ARTIFACT_TEMPLATE), {"name": "path", "value": "re"},
                                    context_arguments={"run_id": run.id})).completion.values
        assert paths == ["report.md"]


@pytest.mark.parametrize("mode", MODES)
async def test_prompts_teach_delegation_and_review(local_service: RunningService, mode: str) -> None:
    async with api_client(local_service) as client, mcp_client(client, mode) as mcp:
        prompts = {p.name: p for p in (await mcp.list_prompts()).prompts}
        assert set(prompts) >= {"delegate_task", "review_run"}
        assert [a.name for a in prompts["review_run"].arguments or [] if a.required] == ["run_id"]

        delegate = await mcp.get_prompt("delegate_task", {"task": "Count the widgets", "interaction": "Demo"})
        text = delegate.messages[0].content.text  # type: ignore[union-attr]
        for expected in ("Count the widgets", "`Demo`", "start_agent_run", "wait_for_agent_runs",
                         "send_agent_input", "read_agent_artifact", 'until="all"'):
            assert expected in text

        review = await mcp.get_prompt("review_run", {"run_id": "r-42", "focus": "cost"})
        text = review.messages[0].content.text  # type: ignore[union-attr]
        for expected in ("r-42", "get_agent_messages", "agent-run://r-42/messages", "Outcome", "cost"):
            assert expected in text
