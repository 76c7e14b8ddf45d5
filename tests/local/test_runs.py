"""Run lifecycle over HTTP: create, get, list, terminate, restart, fork, signals, queries, updates."""

from __future__ import annotations

import httpx2

from tests.local.helpers import wait_message, wait_status


async def _echo(api: httpx2.AsyncClient, **fields: object) -> dict[str, object]:
    body = {"interaction": "Echo", "data": {"task": "hi"}, **fields}
    answer = await api.post("/agents", json=body)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_create_stores_and_returns_every_parameter(api: httpx2.AsyncClient) -> None:
    params = {"interaction": "Echo@1", "data": {"task": "t"}, "environment": "env-1", "model": "m-1",
              "interactive": False, "tool_names": ["+search"], "collection_id": "c1", "visibility": "private",
              "tags": ["a", "b"], "categories": ["cat"], "properties": {"k": 1}, "search_scope": "collection",
              "user_channels": [{"type": "email", "to_email": "a@example.com"}], "checkpoint_tokens": 50,
              "max_iterations": 3, "debug_mode": True}
    created = (await api.post("/agents", json=params)).json()
    fetched = (await api.get(f"/agents/{created['id']}")).json()
    for name, value in params.items():
        if name == "interaction":
            assert fetched[name] == "Echo"
        elif name == "user_channels":
            assert fetched[name][0]["to_email"] == "a@example.com"
        else:
            assert fetched[name] == value, name
    assert fetched["started_by"] == "apikey:dev"
    assert created["status"] == "running"


async def test_bad_input_gives_the_error_shape(api: httpx2.AsyncClient) -> None:
    unknown = await api.post("/agents", json={"interaction": "Nope"})
    assert unknown.status_code == 404
    assert "Echo@1" in unknown.json()["message"] and "Demo@1" in unknown.json()["message"]
    typo = await api.post("/agents", json={"interaction": "Echo", "tagz": []})
    assert typo.status_code == 422
    assert set(typo.json()) >= {"error", "status", "message"} and "tagz" in typo.json()["message"]
    for raw in (b"{nope", b'{"interaction": "Echo", "data": {"x": NaN}}'):
        broken = await api.post("/agents", content=raw, headers={"content-type": "application/json"})
        assert broken.status_code == 400 and broken.json()["status"] == 400
    assert (await api.post("/agents", json=[])).status_code == 422
    assert (await api.get("/agents/ffffffffffffffffffffffff")).status_code == 404
    assert (await api.get("/agents", params={"limit": 500})).status_code == 400
    assert (await api.get("/agents", params={"status": "bogus"})).status_code == 400
    missing = await api.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["error"] == "Not Found"


async def test_list_filters_sorts_and_counts(api: httpx2.AsyncClient) -> None:
    first = await _echo(api, interactive=False)
    await wait_status(api, str(first["id"]), {"completed"})
    second = await _echo(api, interactive=True)
    listed = await api.get("/agents")
    assert listed.headers["x-total-count"] == "2"
    assert [run["id"] for run in listed.json()] == [second["id"], first["id"]]
    ascending = (await api.get("/agents", params={"order": "asc", "sort": "updated_at"})).json()
    assert ascending[0]["id"] == first["id"]
    running = (await api.get("/agents", params={"status": "running,created"})).json()
    assert [run["id"] for run in running] == [second["id"]]
    assert (await api.get("/agents", params={"interaction": "Demo"})).json() == []
    assert len((await api.get("/agents", params={"started_by": "apikey:dev", "limit": 1})).json()) == 1
    page = (await api.get("/agents", params={"limit": 1, "offset": 1})).json()
    assert [run["id"] for run in page] == [first["id"]]
    assert (await api.get("/agents", params={"since": "2999-01-01T00:00:00Z"})).json() == []


async def test_echo_interactive_signals_stop_and_transitions(api: httpx2.AsyncClient) -> None:
    run = await _echo(api)
    run_id = str(run["id"])
    await wait_message(api, run_id, "ANSWER")
    assert (await api.post(f"/agents/{run_id}/restart")).status_code == 409
    sent = await api.post(f"/agents/{run_id}/signal/UserInput", json={"message": "ping"})
    assert sent.json() == {"status": "success", "message": "Signal UserInput sent"}
    assert (await api.post(f"/agents/{run_id}/signal/UserInput", json={})).status_code == 400
    await api.post(f"/agents/{run_id}/signal/Custom", json={"x": 1})
    await api.post(f"/agents/{run_id}/signal/Stop", json={})
    # Each turn ends with IDLE; Stop ends the turn ("Stopped."), not the run: terminating does.
    messages = await wait_message(api, run_id, "IDLE", count=4)
    idle = ("IDLE", "Waiting for your command...")
    texts = [(m["t"], m.get("m")) for m in messages]
    assert texts == [("ANSWER", "hi"), idle, ("ANSWER", "ping"), idle, ("UPDATE", "received signal Custom"), idle,
                     ("IDLE", "Stopped. Waiting for your command...")]
    assert messages[-1]["d"] == {"status_reason": "user_stopped"}
    assert (await api.get(f"/agents/{run_id}")).json()["status"] == "running"
    await api.delete(f"/agents/{run_id}")
    done = await wait_status(api, run_id, {"cancelled"})
    assert done["completed_at"]
    assert (await api.post(f"/agents/{run_id}/signal/UserInput", json={"message": "late"})).status_code == 409
    assert (await api.delete(f"/agents/{run_id}")).status_code == 409

    restarted = await api.post(f"/agents/{run_id}/restart")
    assert restarted.status_code == 200 and restarted.json()["status"] == "running"
    internals = (await api.get(f"/agents/{run_id}/internals")).json()
    assert internals["workflow_run_id"] != internals["first_workflow_run_id"]
    stopped = await api.delete(f"/agents/{run_id}", params={"reason": "No longer needed"})
    assert stopped.json() == {"message": "Agent run terminated", "reason": "No longer needed"}
    final = await wait_status(api, run_id, {"cancelled"})
    assert final["status"] == "cancelled"
    messages = (await api.get(f"/agents/{run_id}/updates")).json()["messages"]
    kinds = [m["t"] for m in messages]
    assert "RESTARTING" in kinds and kinds[-1] == "TERMINATED" and "No longer needed" in messages[-1]["m"]
    stamps = [m["ts"] for m in messages]
    assert stamps == sorted(set(stamps))
    assert len({m["wri"] for m in messages}) == 2


async def test_updates_post_since_and_fork(api: httpx2.AsyncClient) -> None:
    run = await _echo(api, interactive=False)
    run_id = str(run["id"])
    await wait_status(api, run_id, {"completed"})
    posted = await api.post(f"/agents/{run_id}/updates", json={"type": "PROGRESS", "message": "step 2",
                                                                "details": {"current": 2}, "workstream_id": "ws-1"})
    assert posted.json() == {"success": True}
    await api.post(f"/agents/{run_id}/updates", json={"type": 7, "message": "coded"})
    messages = (await api.get(f"/agents/{run_id}/updates")).json()["messages"]
    custom = messages[-2]
    assert custom["t"] == "UPDATE" and custom["d"] == {"current": 2} and custom["w"] == "ws-1" and custom["wri"]
    assert messages[-1]["t"] == "ANSWER"
    later = (await api.get(f"/agents/{run_id}/updates", params={"since": messages[-2]["ts"]})).json()["messages"]
    assert later == messages[-1:]

    fork = await api.post(f"/agents/{run_id}/fork")
    assert fork.status_code == 200
    fork_id = fork.json()["id"]
    assert fork_id != run_id and fork.json()["forked_from"] == run_id
    await wait_status(api, fork_id, {"completed"})
    copied = (await api.get(f"/agents/{fork_id}/updates")).json()["messages"]
    assert copied[: len(messages)] == messages


async def test_queries_details_and_history(api: httpx2.AsyncClient) -> None:
    run = await _echo(api, interactive=False)
    run_id = str(run["id"])
    await wait_status(api, run_id, {"completed"})
    for name, empty in (("AgentPlan", {"plan": []}), ("ActiveWorkstreams", {"workstreams": []}),
                        ("AvailableTools", {"tools": []})):  # every conversation run answers the common queries
        assert (await api.get(f"/agents/{run_id}/query/{name}")).json() == empty
    unknown = await api.get(f"/agents/{run_id}/query/NoSuchQuery")
    assert unknown.status_code == 404 and "AgentPlan" in unknown.json()["message"]
    details = (await api.get(f"/agents/{run_id}/details")).json()
    assert details["status"] == "COMPLETED" and details["input"] == {"task": "hi"}
    assert details["workflow_id"] == f"AgentRun:{run_id}" and "history" not in details
    assert details["execution_duration"] >= 0
    full = (await api.get(f"/agents/{run_id}/details", params={"include_history": "true"})).json()
    assert [item["type"] for item in full["history"]] == ["ANSWER", "COMPLETE"]
    assert (await api.get(f"/agents/{run_id}/children")).json() == {"runs": []}
