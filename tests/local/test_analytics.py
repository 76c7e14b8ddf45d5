"""Analytics figures checked against values computed here, independently, from the ingested events."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2
import pytest

from tests.local.helpers import wait_status

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday
WINDOW = {"from": int(START.timestamp() * 1000), "to": int((START + timedelta(days=3)).timestamp() * 1000)}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = p * (len(ordered) - 1)
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def make_events(run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(7)
    out: dict[str, list[dict[str, Any]]] = {}
    for index, run_id in enumerate(run_ids):
        t0 = START + timedelta(hours=5 * index, minutes=rng.randint(0, 50))
        model = ["m-a", "m-b"][index % 2]
        base = {"runId": f"wf-{index}", "model": model, "environmentId": f"env{index % 2}",
                "environmentType": "bedrock", "interactionId": ["Alpha", "Beta", "Alpha"][index % 3]}

        def at(seconds: float, base: dict[str, Any] = base, t0: datetime = t0) -> str:
            return (t0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")

        events = [{**base, "eventType": "agent_run_started", "timestamp": at(0)}]
        for call in range(4):
            ok = rng.random() > 0.25
            prompt, completion = rng.randint(100, 3000), rng.randint(10, 800)
            events.append({**base, "eventType": "llm_call", "timestamp": at(1 + call * 10), "promptTokens": prompt,
                           "completionTokens": completion, "totalTokens": prompt + completion,
                           "durationMs": rng.randint(200, 5000), "success": ok, "streamingEnabled": False,
                           "toolUseCount": 0 if (index == 2 and call == 0) else 1,
                           "callType": ["start", "resume_tools", "resume_tools", "nested_interaction"][call],
                           **({} if ok else {"errorType": "timeout", "errorMessage": "timed out"})})
            tool = ["plan", "search", "fetch"][(index + call) % 3]
            tool_ok = rng.random() > 0.2
            events.append({**base, "eventType": "tool_call", "timestamp": at(5 + call * 10), "toolName": tool,
                           "toolUseId": f"u{call}", "toolType": "builtin", "iteration": call + 1,
                           "success": tool_ok, "durationMs": rng.randint(5, 900),
                           "parameters": {"q": ["x", "y"][call % 2]}, "parametersSizeBytes": 10 * call,
                           "resultSizeBytes": 100 * call, **({} if tool_ok else {"errorType": "rate_limit"})})
        if index != 3:  # the last run is still going
            events.append({**base, "eventType": "agent_run_completed", "timestamp": at(60), "success": index != 1,
                           "durationMs": 60000 + 1000 * index})
        out[run_id] = events
    return out


@pytest.fixture
async def dataset(api: httpx2.AsyncClient) -> tuple[list[str], dict[str, list[dict[str, Any]]]]:
    run_ids = []
    for _ in range(4):
        run_id = (await api.post("/agents", json={"interaction": "Echo", "interactive": False})).json()["id"]
        await wait_status(api, run_id, {"completed"})
        run_ids.append(run_id)
    events = make_events(run_ids)
    for run_id, items in events.items():
        assert (await api.post(f"/agents/{run_id}/events", json={"events": items})).json() == {"ingested": len(items)}
    return run_ids, events


async def _report(api: httpx2.AsyncClient, path: str, run_ids: list[str], **body: Any) -> Any:
    scope = {"agentRunIds": run_ids, **body.get("filter", {})}
    answer = await api.post(f"/agents/analytics/{path}", json={**WINDOW, **body, "filter": scope})
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_summary_tokens_latency(api: httpx2.AsyncClient, dataset: Any) -> None:
    run_ids, events = dataset
    flat = [event for items in events.values() for event in items]
    llm = [e for e in flat if e["eventType"] == "llm_call"]
    tools = [e for e in flat if e["eventType"] == "tool_call"]
    done = [e for e in flat if e["eventType"] == "agent_run_completed"]

    summary = (await _report(api, "summary", run_ids))["summary"]
    counts = (summary["totalRuns"], summary["successfulRuns"], summary["failedRuns"], summary["ongoingRuns"])
    assert counts == (4, 2, 1, 1)
    assert summary["successRate"] == pytest.approx(2 / 3)
    assert summary["tokenUsage"]["inputTokens"] == sum(e["promptTokens"] for e in llm)
    assert summary["tokenUsage"]["totalTokens"] == sum(e["totalTokens"] for e in llm)
    nested = [e for e in llm if e["callType"] == "nested_interaction"]
    assert summary["nestedInteractionTokens"]["outputTokens"] == sum(e["completionTokens"] for e in nested)
    assert summary["avgRunDurationMs"] == pytest.approx(sum(e["durationMs"] for e in done) / len(done))
    assert summary["p95RunDurationMs"] == pytest.approx(percentile([e["durationMs"] for e in done], 0.95))
    assert (summary["totalLlmCalls"], summary["totalToolCalls"], summary["uniqueModels"], summary["uniqueTools"]) \
        == (len(llm), len(tools), 2, 3)
    assert summary["nonInteractiveRunCount"] == 4

    tokens = await _report(api, "tokens", run_ids, groupBy="model", resolution="hour", resolutionStep=2)
    by_model: dict[str, int] = defaultdict(int)
    for e in llm:
        by_model[e["model"]] += e["totalTokens"]
    assert {d["dimension"]: d["usage"]["totalTokens"] for d in tokens["byDimension"]} == by_model
    assert sum(d["percentageOfTotal"] for d in tokens["byDimension"]) == pytest.approx(100)
    buckets: Counter[tuple[str, str]] = Counter()
    for e in llm:
        moment = datetime.fromisoformat(e["timestamp"].replace("Z", "+00:00"))
        start = moment.replace(minute=0, second=0, microsecond=0, hour=moment.hour - moment.hour % 2)
        buckets[(start.strftime("%Y-%m-%dT%H:%M:%S.000Z"), e["model"])] += 1
    assert {(p["timestamp"], p["group"]): p["callCount"] for p in tokens["timeSeries"]} == buckets
    first = tokens["timeSeries"][0]
    assert datetime.fromisoformat(first["timestampEnd"].replace("Z", "+00:00")) - \
        datetime.fromisoformat(first["timestamp"].replace("Z", "+00:00")) == timedelta(hours=2)

    latency = await _report(api, "latency/llm", run_ids, groupBy="model")
    durations = [e["durationMs"] for e in llm]
    expected = {"minMs": min(durations), "maxMs": max(durations), "avgMs": sum(durations) / len(durations),
                "medianMs": percentile(durations, 0.5), "p95Ms": percentile(durations, 0.95),
                "p99Ms": percentile(durations, 0.99)}
    for key, value in expected.items():
        assert latency["summary"][key] == pytest.approx(value), key
    assert latency["summary"]["count"] == len(llm)
    assert latency["summary"]["successRate"] == pytest.approx(sum(e["success"] for e in llm) / len(llm))
    model_a = next(d for d in latency["byDimension"] if d["dimension"] == "m-a")
    assert model_a["duration"]["p95Ms"] == pytest.approx(
        percentile([e["durationMs"] for e in llm if e["model"] == "m-a"], 0.95))
    tools_latency = (await _report(api, "latency/tools", run_ids))["summary"]
    assert tools_latency["medianMs"] == pytest.approx(percentile([e["durationMs"] for e in tools], 0.5))
    agents_latency = (await _report(api, "latency/agents", run_ids))["summary"]
    assert agents_latency["count"] == 3
    failed_only = (await _report(api, "latency/llm", run_ids, filter={"success": False}))["summary"]
    assert failed_only["count"] == sum(not e["success"] for e in llm)
    one_model = (await _report(api, "tokens", run_ids, filter={"models": ["m-b"]}))["summary"]
    assert one_model["totalTokens"] == by_model["m-b"]


async def test_errors_tools_and_distributions(api: httpx2.AsyncClient, dataset: Any) -> None:
    run_ids, events = dataset
    flat = [event for items in events.values() for event in items]
    llm = [e for e in flat if e["eventType"] == "llm_call"]
    tools = [e for e in flat if e["eventType"] == "tool_call"]

    errors = await _report(api, "errors", run_ids, resolution="day")
    calls = llm + tools
    bad = [e for e in calls if not e["success"]]
    assert errors["summary"]["totalCount"] == len(calls) and errors["summary"]["errorCount"] == len(bad)
    assert errors["summary"]["errorRate"] == pytest.approx(len(bad) / len(calls))
    assert errors["summary"]["llmErrorCount"] == sum(not e["success"] for e in llm)
    by_type = {item["errorType"]: item["count"] for item in errors["byErrorType"]}
    assert by_type == Counter(e["errorType"] for e in bad)
    assert sum(p["metrics"]["errorCount"] for p in errors["timeSeries"]) == len(bad)

    usage = await _report(api, "tools", run_ids)
    assert usage["totalInvocations"] == len(tools)
    search = next(t for t in usage["tools"] if t["toolName"] == "search")
    search_events = [e for e in tools if e["toolName"] == "search"]
    assert search["invocationCount"] == len(search_events)
    assert search["duration"]["p95Ms"] == pytest.approx(percentile([e["durationMs"] for e in search_events], 0.95))
    assert search["avgOutputSizeBytes"] == pytest.approx(sum(e["resultSizeBytes"] for e in search_events)
                                                         / len(search_events))

    params = (await _report(api, "tools/parameters", run_ids, toolName="fetch"))["analytics"]
    fetch_values = Counter(e["parameters"]["q"] for e in tools if e["toolName"] == "fetch")
    assert {v["value"]: v["count"] for v in params["parameters"]["q"]["topValues"]} == fetch_values
    assert (await api.post("/agents/analytics/tools/parameters", json={})).status_code == 400

    options = await _report(api, "filter-options", run_ids)
    assert {a["id"] for a in options["agents"]} == {"Alpha", "Beta"}
    assert {(p["environmentId"], p["modelId"]) for p in options["environmentModels"]} == {("env0", "m-a"),
                                                                                          ("env1", "m-b")}
    assert options["principals"] == [{"id": "apikey:dev", "type": "apikey", "name": "dev"}]

    prompt = await _report(api, "prompt-size", run_ids)
    starts = [e["promptTokens"] for e in llm if e["callType"] == "start"]
    assert prompt["summary"]["avgPromptTokens"] == pytest.approx(sum(starts) / len(starts))
    assert prompt["summary"]["totalStartCalls"] == 4

    by_agent = await _report(api, "runs-by-agent", run_ids)
    assert {a["agentId"]: a["runCount"] for a in by_agent["agents"]} == {"Alpha": 3, "Beta": 1}
    assert by_agent["agents"][0]["percentage"] == pytest.approx(75)
    top = await _report(api, "top-principals", run_ids)
    assert top["principals"][0]["principalId"] == "apikey:dev" and top["totalRuns"] == 4

    ttfr = await _report(api, "time-to-first-response", run_ids, resolution="week")
    expected = []
    for items in events.values():
        start = next(e for e in items if e["eventType"] == "agent_run_started")
        first_llm = next(e for e in items if e["eventType"] == "llm_call")
        gap = (datetime.fromisoformat(first_llm["timestamp"].replace("Z", "+00:00"))
               - datetime.fromisoformat(start["timestamp"].replace("Z", "+00:00"))).total_seconds() * 1000
        expected.append(gap + first_llm["durationMs"])
    assert ttfr["summary"]["runCount"] == 4
    assert ttfr["summary"]["medianMs"] == pytest.approx(percentile(expected, 0.5))
    assert ttfr["timeSeries"][0]["timestamp"] == "2026-01-05T00:00:00.000Z"  # Monday-aligned week

    behavior = (await _report(api, "first-response-behavior", run_ids))["summary"]
    # runs 0 and 3 start with the plan tool, run 2's first call uses no tool, run 1 calls another tool first
    assert (behavior["runsWithPlanTool"], behavior["runsWithNoTools"], behavior["runsWithOtherTools"]) == (2, 1, 1)
    assert behavior["planToolPercentage"] == pytest.approx(50)


async def test_analytics_refuses_bad_queries(api: httpx2.AsyncClient) -> None:
    assert (await api.post("/agents/analytics/nope", json={})).status_code == 404
    assert (await api.post("/agents/analytics/summary", json={"resolution": "year"})).status_code == 422
    assert (await api.post("/agents/analytics/summary", json={"from": "soon"})).status_code == 400
    empty = (await api.post("/agents/analytics/latency/llm", json={})).json()
    assert empty["summary"]["count"] == 0
    month = await api.post("/agents/analytics/tokens", json={"resolution": "month", "resolutionStep": 3})
    assert month.status_code == 200


async def test_daily_rollup_matches_the_events(api: httpx2.AsyncClient, dataset: Any) -> None:
    """Without a run filter, token figures come from the daily and hourly roll-ups plus the partial hours at
    the edges: they must equal the figures read from the events themselves (a run filter forces that path)."""
    run_ids, events = dataset
    llm = [e for items in events.values() for e in items if e["eventType"] == "llm_call"]

    def ms(moment: datetime) -> int:
        return int(moment.timestamp() * 1000)

    def stamp(event: dict[str, Any]) -> int:
        return ms(datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")))

    windows = [{"from": ms(START + timedelta(hours=7, minutes=13)), "to": ms(START + timedelta(days=2, hours=5))},
               {"from": ms(START + timedelta(hours=3)), "to": ms(START + timedelta(hours=20, minutes=30))},
               {"from": ms(START + timedelta(minutes=10)), "to": ms(START + timedelta(minutes=50))},
               {"from": -5000, "to": ms(START + timedelta(days=1, minutes=7))}, {"to": -7}, {"from": 9, "to": 3},
               WINDOW, {}]
    for window in windows:
        for path, body in (("summary", {}), ("tokens", {"groupBy": "model", "resolution": "day"}),
                           ("tokens", {"resolution": "week", "filter": {"models": ["m-a"]}}),
                           ("tokens", {"groupBy": "agent", "resolution": "month", "filter": {"success": True}}),
                           ("tokens", {"groupBy": "environment", "resolution": "hour", "resolutionStep": 2})):
            rolled = await api.post(f"/agents/analytics/{path}", json={**window, **body})
            raw = await api.post(f"/agents/analytics/{path}",
                                 json={**window, **body, "filter": {**body.get("filter", {}), "agentRunIds": run_ids}})
            assert rolled.status_code == raw.status_code == 200, rolled.text
            assert rolled.json() == raw.json(), (window, path, body)
        inside = [e for e in llm if window.get("from", 0) <= stamp(e) < window.get("to", 2**53)]
        tokens = (await api.post("/agents/analytics/tokens", json=window)).json()["summary"]
        assert tokens["totalTokens"] == sum(e["totalTokens"] for e in inside)
        assert tokens["inputTokens"] == sum(e["promptTokens"] for e in inside)
