"""`/interactions` on the local service: the registered interactions in the hosted shape, its filters, its
errors, and the same authentication as every other route."""

from __future__ import annotations

import httpx2

from mcp_agents.local import RunningService
from tests.local.helpers import client


async def test_listing_filters_and_lookup(api: httpx2.AsyncClient) -> None:
    listed = (await api.get("/interactions", params={"is_agent": "true"})).json()
    assert [item["name"] for item in listed] == ["Demo", "Echo"]
    demo = listed[0]
    assert demo["endpoint"] == "Demo" and demo["status"] == "published" and demo["version"] == 1
    assert demo["agent_runner_options"]["is_agent"] is True and "plan" in demo["agent_runner_options"]["tool_names"]
    assert [i["name"] for i in (await api.get("/interactions?tags=test&tags=echo")).json()] == ["Echo"]
    assert (await api.get("/interactions?tags=test&tags=demo")).json() == []
    assert [i["name"] for i in (await api.get("/interactions", params={"name": "dem"})).json()] == ["Demo"]
    assert [i["name"] for i in (await api.get("/interactions", params={"limit": 1, "offset": 1})).json()] == ["Echo"]
    assert (await api.get("/interactions", params={"status": "archived"})).json() == []
    assert (await api.get("/interactions", params={"is_tool": "true"})).json() == []
    for key in (demo["id"], "Demo", "demo", "Demo@1"):
        assert (await api.get(f"/interactions/{key}")).json() == demo, key


async def test_bad_input_and_unknown_ids_are_clear_errors(api: httpx2.AsyncClient) -> None:
    for params in ({"is_agent": "yes"}, {"limit": "0"}, {"limit": "x"}, {"offset": "-1"}):
        answer = await api.get("/interactions", params=params)
        assert answer.status_code == 400 and next(iter(params)) in answer.json()["message"], params
    missing = await api.get("/interactions/NoSuchAgent")
    assert missing.status_code == 404 and "Demo@1, Echo@1" in missing.json()["message"]


async def test_a_token_is_required(local_service: RunningService) -> None:
    async with client(local_service, None) as anonymous, client(local_service, "not-a-token") as forged:
        for http in (anonymous, forged):
            assert (await http.get("/interactions")).status_code == 401
            assert (await http.get("/interactions/Echo")).status_code == 401
