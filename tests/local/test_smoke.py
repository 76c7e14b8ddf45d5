from __future__ import annotations

import httpx2

from tests.local.helpers import wait_status


async def test_echo_run_completes_with_answer(api: httpx2.AsyncClient) -> None:
    created = await api.post("/agents", json={"interaction": "Echo", "data": {"task": "hello"}, "interactive": False})
    assert created.status_code == 200, created.text  # as the hosted document says
    run = await wait_status(api, created.json()["id"], {"completed"})
    messages = (await api.get(f"/agents/{run['id']}/updates")).json()["messages"]
    assert [m["t"] for m in messages] == ["ANSWER", "COMPLETE"]
    assert messages[0]["m"] == "hello"
