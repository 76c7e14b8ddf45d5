"""The Python SDK client over streamable HTTP (`mcp-agents serve --transport http`), in both protocol eras."""

from __future__ import annotations

import base64
import json
from typing import Any

import anyio
import pytest
from mcp import MCPError
from mcp.server.subscriptions import ResourceUpdated
from mcp.types import BlobResourceContents, ResourceUpdatedNotification, TextResourceContents

from tests.e2e.clients import MODES, call, demo, http, start, wait_until_answered
from tests.e2e.processes import HttpServer, Service
from tests.support.progress import Progress

pytestmark = pytest.mark.anyio
STEP_TIMEOUT = 20.0


@pytest.mark.parametrize("mode", MODES)
async def test_fan_out_three_runs_until_any_then_all(wired_http_server: HttpServer, mode: str) -> None:
    async with http(wired_http_server, mode) as mcp:
        quick = await start(mcp, data=demo(steps=1, step_delay_ms=1))
        others = [await start(mcp, data=demo(steps=4, step_delay_ms=40)) for _ in range(2)]
        run_ids = [quick, *others]
        progress = Progress()
        first = await call(mcp, "wait_for_agent_runs", {"run_ids": run_ids, "until": "any", "timeout_seconds": 30},
                           progress_callback=progress)
        assert any(run["done"] for run in first["runs"]) and len(first["runs"]) == 3
        assert all(run["status"] == "completed" and run["answer"] for run in first["runs"] if run["done"])
        assert {line.split("]")[0] for line in progress.lines if line.startswith("[run ")}  # says which run
        runs = await wait_until_answered(mcp, run_ids)
        assert all(run["status"] == "completed" and run["answer"].startswith("Done: e2e") for run in runs.values())


@pytest.mark.parametrize("mode", MODES)
async def test_a_question_is_answered_with_send_agent_input(wired_http_server: HttpServer, mode: str) -> None:
    async with http(wired_http_server, mode) as mcp:  # no elicitation callback: the wait returns the question
        run_id = await start(mcp, data=demo(ask="Which size?"), interactive=True)
        question = None
        for _ in range(5):
            waited = (await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30}))["runs"][0]
            question = waited.get("question")
            if question:
                break
        assert question and "Which size?" in question
        await call(mcp, "send_agent_input", {"run_id": run_id, "message": "large"})
        runs = await wait_until_answered(mcp, [run_id])
        assert runs[run_id]["turn"] == "waiting_for_input" and "You said: large" in runs[run_id]["answer"]


@pytest.mark.parametrize("mode", MODES)
async def test_cancelling_a_waiting_call_leaves_the_run_running(http_server: HttpServer, mode: str) -> None:
    async with http(http_server, mode) as mcp:
        run_id = await start(mcp, data=demo(steps=200, step_delay_ms=50))
        seen = anyio.Event()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.set()

        with anyio.fail_after(STEP_TIMEOUT):
            async with anyio.create_task_group() as group:
                async def waiting() -> None:
                    await mcp.call_tool("wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 50},
                                        progress_callback=on_progress)
                    raise AssertionError("the wait returned instead of being cancelled")

                group.start_soon(waiting)
                await seen.wait()
                group.cancel_scope.cancel()
        run = await call(mcp, "get_agent_run", {"run_id": run_id})
        assert run["run"]["status"] == "running"
        cancelled = await call(mcp, "cancel_agent_run", {"run_id": run_id, "reason": "test over"})
        assert cancelled["runs"][0]["status"] == "cancelled"


async def test_handshake_era_subscription_over_http(service: Service, http_server: HttpServer) -> None:
    updates: list[str] = []
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        notification = getattr(message, "root", message)
        if isinstance(notification, ResourceUpdatedNotification):
            updates.append(str(notification.params.uri))
            changed.set()

    async with http(http_server, "legacy", bearer=service.alice_key, message_handler=on_message) as mcp:
        run_id = await start(mcp, "Echo", data={"task": "hello"}, interactive=True)
        await mcp.subscribe_resource(f"agent-run://{run_id}/messages")
        await call(mcp, "send_agent_input", {"run_id": run_id, "message": "ping"})
        with anyio.fail_after(STEP_TIMEOUT):
            while f"agent-run://{run_id}/messages" not in updates:
                await changed.wait()
                changed = anyio.Event()
        await mcp.unsubscribe_resource(f"agent-run://{run_id}/messages")
        await call(mcp, "cancel_agent_run", {"run_id": run_id})


async def test_modern_era_subscription_over_http(service: Service, http_server: HttpServer) -> None:
    async with http(http_server, "auto", bearer=service.alice_key) as mcp:
        run_id = await start(mcp, "Echo", data={"task": "hello"}, interactive=True)
        uri = f"agent-run://{run_id}/messages"
        async with mcp.listen(resource_subscriptions=[uri]) as subscription:
            await call(mcp, "send_agent_input", {"run_id": run_id, "message": "ping"})
            with anyio.fail_after(STEP_TIMEOUT):
                async for event in subscription:
                    if isinstance(event, ResourceUpdated) and event.uri == uri:
                        break
        await call(mcp, "cancel_agent_run", {"run_id": run_id})


@pytest.mark.parametrize("mode", MODES)
async def test_artifact_round_trip(wired_http_server: HttpServer, mode: str) -> None:
    binary = bytes(range(256)) * 4
    async with http(wired_http_server, mode) as mcp:
        run_id = await start(mcp, "Echo", data={"task": "files"})
        await call(mcp, "upload_agent_artifact", {"run_id": run_id, "path": "in/notes.md", "text": "# Notes\nhi",
                                                  "mime_type": "text/markdown"})
        await call(mcp, "upload_agent_artifact", {"run_id": run_id, "path": "in/raw.bin",
                                                  "content_base64": base64.b64encode(binary).decode()})
        document = '{"a": 1,  "b": [1.0, null]}\n'  # JSON as text: stored as sent, not decoded by the SDK
        await call(mcp, "upload_agent_artifact", {"run_id": run_id, "path": "in/doc.json", "text": document,
                                                  "mime_type": "application/json"})
        assert (await call(mcp, "read_agent_artifact", {"run_id": run_id, "path": "in/doc.json"}))["text"] == document
        listed = await call(mcp, "list_agent_artifacts", {"run_id": run_id})
        assert {"in/notes.md", "in/raw.bin"} <= set(json.dumps(listed).replace('"', " ").split())
        text = await call(mcp, "read_agent_artifact", {"run_id": run_id, "path": "in/notes.md"})
        assert text["text"] == "# Notes\nhi" and text["mime_type"] == "text/markdown"

        as_text = (await mcp.read_resource(f"agent-run://{run_id}/artifacts/in/notes.md")).contents[0]
        assert isinstance(as_text, TextResourceContents) and as_text.text == "# Notes\nhi"
        assert as_text.mime_type.startswith("text/markdown")
        as_blob = (await mcp.read_resource(f"agent-run://{run_id}/artifacts/in/raw.bin")).contents[0]
        assert isinstance(as_blob, BlobResourceContents) and base64.b64decode(as_blob.blob) == binary


@pytest.mark.parametrize("mode", MODES)
async def test_callers_bearers_are_passed_through_and_kept_apart(
        service: Service, http_server: HttpServer, mode: str) -> None:
    async with http(http_server, mode, bearer=service.alice_key) as alice, \
            http(http_server, mode, bearer=service.bob_key) as bob, \
            http(http_server, mode) as server_own:
        secret = await start(alice, "Echo", data={"task": "alice only"}, visibility="private")
        own = await call(alice, "get_agent_run", {"run_id": secret})
        assert "alice" in str(own["run"].get("started_by"))

        for other in (bob, server_own):
            refused = await other.call_tool("get_agent_run", {"run_id": secret})
            assert refused.is_error
            listed = await call(other, "list_agent_runs", {})
            assert secret not in json.dumps(listed)
            assert f"agent-run://{secret}" not in {str(r.uri) for r in (await other.list_resources()).resources}
            with pytest.raises(MCPError):
                await other.read_resource(f"agent-run://{secret}")
        assert f"agent-run://{secret}" in {str(r.uri) for r in (await alice.list_resources()).resources}
