"""The Demo agent: plan, tool calls, artifacts, child run, question, telemetry, failure."""

from __future__ import annotations

import zlib

import anyio
import httpx2

from tests.local.helpers import wait_message, wait_status


async def test_demo_runs_every_feature(api: httpx2.AsyncClient) -> None:
    created = await api.post("/agents", json={"interaction": "Demo", "data": {
        "task": "Q4 report", "steps": 3, "step_delay_ms": 1, "ask": "Which format?", "spawn_child": True}})
    run_id = created.json()["id"]
    await wait_message(api, run_id, "QUESTION")
    plan = (await api.get(f"/agents/{run_id}/query/AgentPlan")).json()
    assert len(plan["plan"]) == 3
    streams = (await api.get(f"/agents/{run_id}/query/ActiveWorkstreams")).json()["workstreams"]
    assert {item["id"] for item in streams} == {"ws-1", "ws-2", "ws-3"}
    tools = (await api.get(f"/agents/{run_id}/query/AvailableTools")).json()["tools"]
    assert "search_documents" in {tool["name"] for tool in tools}
    await api.post(f"/agents/{run_id}/signal/UserInput", json={"message": "markdown"})
    # An interactive run answers, then goes IDLE for the next command (it does not complete).
    messages = await wait_message(api, run_id, "ANSWER")
    with anyio.fail_after(10):
        while messages[-1]["t"] != "IDLE":
            await anyio.sleep(0.05)
            messages = (await api.get(f"/agents/{run_id}/updates")).json()["messages"]
    run = (await api.get(f"/agents/{run_id}")).json()
    assert run["status"] == "running" and run["title"].startswith("Demo: Q4 report")

    kinds = [m["t"] for m in messages]
    assert {"PLAN", "THOUGHT", "UPDATE", "QUESTION", "ANSWER"} <= set(kinds)
    assert kinds[kinds.index("QUESTION") + 1] == "IDLE" and kinds[-2:] == ["ANSWER", "IDLE"]
    assert messages[-1]["m"] == "Waiting for your command..."
    tool_calls = [m for m in messages if m["t"] == "THOUGHT" and not m.get("m")]
    assert tool_calls and all(isinstance(m["d"].get("part"), int) for m in tool_calls)  # parallel tool calls
    assert any(m["t"] == "THOUGHT" and m.get("d", {}).get("tool") == "search_documents" for m in messages)
    assert "markdown" in next(m["m"] for m in messages if m["t"] == "ANSWER")
    assert {m.get("w") for m in messages} >= {"ws-1", "ws-2", "ws-3"}

    children = (await api.get(f"/agents/{run_id}/children")).json()["runs"]
    assert len(children) == 1 and children[0]["status"] == "COMPLETED"
    child_id = children[0]["run_id"]
    assert any(m.get("d", {}).get("process_run_id") == child_id for m in messages if isinstance(m.get("d"), dict))
    assert (await api.get(f"/agents/{child_id}")).json()["parent_id"] == run_id

    assert (await api.get(f"/agents/{run_id}/artifacts")).json() == ["chart.png", "data.csv", "report.md"]
    png = await api.get(f"/agents/{run_id}/artifacts/chart.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG\r\n\x1a\n")
    idat = png.content.index(b"IDAT")
    length = int.from_bytes(png.content[idat - 4: idat], "big")
    assert zlib.decompress(png.content[idat + 4: idat + 4 + length])  # a valid compressed image body
    csv = (await api.get(f"/agents/{run_id}/artifacts/data.csv")).text
    assert csv.startswith("step,value\n") and len(csv.strip().splitlines()) == 4

    tokens = (await api.post("/agents/analytics/tokens", json={"filter": {"agentRunIds": [run_id]}})).json()
    assert tokens["summary"]["totalTokens"] > 1000
    summary = (await api.post("/agents/analytics/summary", json={"filter": {"agentRunIds": [run_id]}})).json()
    assert summary["summary"]["totalRuns"] == 1 and summary["summary"]["successfulRuns"] == 1


async def test_demo_fail_and_non_interactive(api: httpx2.AsyncClient) -> None:
    created = await api.post("/agents", json={"interaction": "Demo", "interactive": False, "data": {
        "steps": 1, "step_delay_ms": 0, "ask": "ignored when not interactive", "fail": "disk full"}})
    run_id = created.json()["id"]
    run = await wait_status(api, run_id, {"failed"})
    assert run["error"] == "disk full"
    messages = (await api.get(f"/agents/{run_id}/updates")).json()["messages"]
    assert messages[-1]["t"] == "ERROR" and messages[-1]["m"] == "disk full"
    assert "QUESTION" not in {m["t"] for m in messages}
    errors = (await api.post("/agents/analytics/summary", json={"filter": {"agentRunIds": [run_id]}})).json()
    assert errors["summary"]["failedRuns"] == 1
