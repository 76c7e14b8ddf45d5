"""`mcp-agents local` as a subprocess: SIGKILL, restart on the same data dir, nothing acknowledged lost."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx2

from tests.local.helpers import wait_message, wait_status
from tests.support.processes import LocalServiceProcess

KEY = "sk-local-crash-test-key"


async def _connect(local: LocalServiceProcess) -> httpx2.AsyncClient:
    async with httpx2.AsyncClient(timeout=10) as sts:
        token = (await sts.post(f"{local.sts_url}/token/issue", json={"type": "apikey", "key": KEY})).json()["token"]
    return httpx2.AsyncClient(base_url=local.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


async def test_sigkill_and_restart_lose_nothing(tmp_path: Path) -> None:
    local = LocalServiceProcess(tmp_path / "data", KEY)
    try:
        await local.astart()
        async with await _connect(local) as api:
            assert local.process is not None and local.info["pid"] == local.process.pid
            echo = (await api.post("/agents", json={"interaction": "Echo", "data": {"task": "survive"}})).json()["id"]
            demo = (await api.post("/agents", json={"interaction": "Demo", "data": {
                "steps": 1, "step_delay_ms": 0, "ask": "continue?"}})).json()["id"]
            await wait_message(api, echo, "ANSWER")
            await wait_message(api, demo, "QUESTION")

            async def post(number: int) -> None:
                answer = await api.post(f"/agents/{echo}/updates", json={"message": f"note {number}"})
                assert answer.status_code == 200

            async with anyio.create_task_group() as group:
                for number in range(100):
                    group.start_soon(post, number)
            acknowledged = (await api.get(f"/agents/{echo}/updates")).json()["messages"]
        local.kill()

        await local.astart()  # the same data dir
        async with await _connect(local) as api:
            after = (await api.get(f"/agents/{echo}/updates")).json()["messages"]
            assert after[: len(acknowledged)] == acknowledged
            assert {m.get("m") for m in after} >= {f"note {n}" for n in range(100)}
            assert after[len(acknowledged)]["t"] == "SYSTEM"  # resumed
            assert (await api.get(f"/agents/{echo}")).json()["status"] == "running"
            await api.post(f"/agents/{echo}/signal/UserInput", json={"message": "still here"})
            messages = await wait_message(api, echo, "ANSWER")
            with anyio.fail_after(10):
                while not any(m.get("m") == "still here" for m in messages):
                    await anyio.sleep(0.05)
                    messages = (await api.get(f"/agents/{echo}/updates")).json()["messages"]
            failed = await wait_status(api, demo, {"failed"})
            assert "restart" in failed["error"]
            demo_messages = (await api.get(f"/agents/{demo}/updates")).json()["messages"]
            assert demo_messages[-1]["t"] == "ERROR"
            assert (await api.post(f"/agents/{demo}/restart")).json()["status"] == "running"
            await api.delete(f"/agents/{demo}")
            await api.delete(f"/agents/{echo}")
            await wait_status(api, echo, {"cancelled"})
        assert local.stop(timeout=15) == 0  # SIGTERM: a clean exit
    finally:
        local.stop()
