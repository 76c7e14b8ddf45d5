"""Managing and inspecting runs through the tools; allow-interactions; bad input is refused clearly."""

from __future__ import annotations

from typing import Any

import pytest

from mcp_agents.local import RunningService
from mcp_agents.models.cursor import Cursor
from tests.server.tools_helpers import MODES, api_client, call, data, demo, mcp_client, text_of

pytestmark = pytest.mark.parametrize("mode", MODES)


async def finished_run(mcp: Any, **fields: Any) -> str:
    result = data(await call(mcp, "start_agent_run", {"interaction": "Demo", "interactive": False,
                                                      "data": demo(), "wait_seconds": 30, **fields}))
    assert result["runs"][0]["done"], result
    return str(result["runs"][0]["run_id"])


async def test_get_agent_run_with_every_part(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        run_id = await finished_run(mcp, data=demo(spawn_child=True))
        parts = ["plan", "workstreams", "tools", "artifacts", "children", "details", "internals"]
        result = await call(mcp, "get_agent_run", {"run_id": run_id, "include": parts})
        view = data(result)
        assert view["run"]["id"] == run_id and view["run"]["status"] == "completed"
        assert set(view["parts"]) | set(view.get("errors", {})) == set(parts)
        assert {"plan", "artifacts", "internals"} <= set(view["parts"])
        assert "report.md" in view["parts"]["artifacts"]
        assert run_id in text_of(result)


async def test_list_search_and_pages(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        ids = [await finished_run(mcp, tags=["batch-7"]) for _ in range(3)]
        first = data(await call(mcp, "list_agent_runs", {"limit": 2, "interaction": "Demo"}))
        assert len(first["runs"]) == 2 and first["cursor"]
        second = data(await call(mcp, "list_agent_runs", {"limit": 2, "interaction": "Demo",
                                                          "cursor": first["cursor"]}))
        seen = [row["run_id"] for row in first["runs"] + second["runs"]]
        assert sorted(seen) == sorted(set(seen)) and set(ids) <= set(seen)
        found = data(await call(mcp, "list_agent_runs", {"tags": ["batch-7"], "limit": 10}))
        assert {row["run_id"] for row in found["runs"]} == set(ids)
        searched = data(await call(mcp, "list_agent_runs", {"query": "demo", "status": ["completed"]}))
        assert searched["runs"] and all(row["status"] == "completed" for row in searched["runs"])


async def test_messages_by_type_with_cursor(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        run_id = await finished_run(mcp)
        page = data(await call(mcp, "get_agent_messages", {"run_id": run_id, "types": ["THOUGHT"], "limit": 2}))
        assert [row["type"] for row in page["messages"]] == ["THOUGHT", "THOUGHT"] and page["more"]
        rest = data(await call(mcp, "get_agent_messages", {"run_id": run_id, "types": ["THOUGHT"],
                                                           "since": page["cursor"], "detail": "full"}))
        assert rest["messages"] and not rest["more"] and rest["messages"][0]["ts"] >= Cursor.parse(page["cursor"]).ts
        assert any(row.get("details") for row in rest["messages"])
        ws = data(await call(mcp, "get_agent_messages", {"run_id": run_id, "workstream": "ws-1"}))
        assert ws["messages"] and {row["workstream"] for row in ws["messages"]} == {"ws-1"}


async def test_restart_fork_cancel_and_signals(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        run_id = await finished_run(mcp)
        forked = data(await call(mcp, "fork_agent_run", {"run_id": run_id}))["runs"][0]
        assert forked["run_id"] != run_id
        restarted = data(await call(mcp, "restart_agent_run", {"run_id": run_id}))["runs"][0]
        assert restarted["run_id"] == run_id and Cursor.parse(restarted["cursor"]).ts > 0
        echo = data(await call(mcp, "start_agent_run", {"interaction": "Echo", "data": {"task": "hi"}}))
        echo_id = echo["runs"][0]["run_id"]
        sent = data(await call(mcp, "send_agent_input", {"run_id": echo_id, "message": "ping"}))
        assert "UserInput sent" in sent["runs"][0]["note"]
        stopped = data(await call(mcp, "send_agent_input", {"run_id": echo_id, "signal": "Stop",
                                                            "wait_seconds": 60}))
        # Stop ends the turn, not the run: it waits for input again (cancel_agent_run ends it).
        assert not stopped["timed_out"] and not stopped["runs"][0]["done"]
        assert stopped["runs"][0]["turn"] == "waiting_for_input"
        long = data(await call(mcp, "start_agent_run", {"interaction": "Demo", "interactive": False,
                                                        "data": demo(steps=100, step_delay_ms=100)}))
        cancelled = data(await call(mcp, "cancel_agent_run", {"run_id": long["runs"][0]["run_id"],
                                                              "reason": "not needed"}))
        assert cancelled["runs"][0]["status"] == "cancelled"


async def test_allow_interactions_refuses_others(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode, allow_interactions=("Echo",)) as mcp, \
            api_client(local_service) as client:
        refused = await mcp.call_tool("start_agent_run", {"interaction": "Demo@1", "data": demo()})
        assert refused.is_error and "'Demo' may not be started" in text_of(refused) and "Echo" in text_of(refused)
        assert (await client.runs.list()).items == []
        await call(mcp, "start_agent_run", {"interaction": "Echo@1", "data": {"task": "hi"}, "interactive": False})
        demo_run = await client.runs.create(interaction="Demo", data=demo(), interactive=False)
        for tool in ("fork_agent_run", "restart_agent_run"):
            refused = await mcp.call_tool(tool, {"run_id": demo_run.id})
            assert refused.is_error and "'Demo' may not be started" in text_of(refused)
        assert len((await client.runs.list()).items) == 2


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("start_agent_run", {"interaction": ""}, "interaction"),
    ("start_agent_run", {"interaction": "NoSuchAgent"}, "NoSuchAgent"),
    ("start_agent_run", {"interaction": "Demo", "notify_endpoints": ["ftp://x"]}, "http"),
    ("start_agent_run", {"interaction": "Demo", "user_channels": [{"type": "pigeon"}]}, "user_channels"),
    ("wait_for_agent_runs", {"run_ids": []}, "run_ids"),
    ("wait_for_agent_runs", {"run_ids": ["RUN"], "since": {"other": 1}}, "since names runs not in run_ids"),
    ("wait_for_agent_runs", {"run_ids": ["missing-run"]}, "list_agent_runs"),
    ("send_agent_input", {"run_id": "RUN", "signal": "UserInput"}, "UserInput needs a non-empty message"),
    ("send_agent_input", {"run_id": "RUN", "signal": "bad name!", "message": "x"}, "signal"),
    ("get_agent_run", {"run_id": "missing-run"}, "list_agent_runs"),
    ("get_agent_run", {"run_id": "RUN", "include": ["secrets"]}, "include"),
    ("list_agent_runs", {"cursor": "zzz"}, "cursor is not one this tool returned"),
    ("list_agent_runs", {"limit": 0}, "limit"),
    ("get_agent_messages", {"run_id": "RUN", "limit": 1000}, "limit"),
    ("get_agent_messages", {"run_id": "RUN", "types": ["SHOUT"]}, "types"),
    ("cancel_agent_run", {"run_id": "missing-run"}, "list_agent_runs"),
    ("restart_agent_run", {"run_id": "RUNNING"}, "status"),
    ("fork_agent_run", {"run_id": "missing-run"}, "list_agent_runs"),
    ("list_agent_artifacts", {"run_id": "missing-run"}, "list_agent_runs"),
    ("read_agent_artifact", {"run_id": "RUN", "path": "../../etc/passwd"}, "path"),
    ("read_agent_artifact", {"run_id": "RUN", "path": "nothing.txt"}, "not"),
    ("upload_agent_artifact", {"run_id": "RUN", "path": "a.bin", "content_base64": "!!not base64!!"},
     "not valid base64"),
    ("upload_agent_artifact", {"run_id": "RUN", "path": "a.txt", "text": "x", "content_base64": "eA=="},
     "exactly one of text or content_base64"),
    ("upload_agent_artifact", {"run_id": "RUN", "path": "../up.txt", "text": "x"}, "path"),
    ("post_agent_update", {"run_id": "RUN", "message": "x", "type": "SHOUT"}, "type"),
    ("ingest_agent_events", {"run_id": "RUN", "events": [{"eventType": "llm_call"}]}, "event"),
    ("get_agent_analytics", {"report": "everything"}, "report"),
    ("get_agent_analytics", {"report": "tool_parameters"}, "toolName"),
]


async def test_bad_input_is_refused_and_changes_nothing(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp, api_client(local_service) as client:
        run_id = await finished_run(mcp)
        running = data(await call(mcp, "start_agent_run", {"interaction": "Echo", "data": {"task": "x"}}))
        running_id = running["runs"][0]["run_id"]
        before = ([run.id for run in (await client.runs.list()).items], await client.artifacts.list(run_id),
                  len(await client.messages.retrieve(run_id)))
        for name, arguments, expected in BAD:
            filled = {key: (run_id if value == "RUN" else running_id if value == "RUNNING" else value)
                      for key, value in arguments.items()}
            result = await mcp.call_tool(name, filled)
            assert result.is_error, f"{name} accepted {arguments}"
            message = text_of(result)
            assert expected.lower() in message.lower(), f"{name} {arguments}: {message}"
            assert "sk-" not in message
        after = ([run.id for run in (await client.runs.list()).items], await client.artifacts.list(run_id),
                 len(await client.messages.retrieve(run_id)))
        assert after == before
        await call(mcp, "send_agent_input", {"run_id": running_id, "signal": "Stop"})
