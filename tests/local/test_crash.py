"""`mcp-agents local` as a subprocess: SIGKILL, restart on the same data dir, nothing acknowledged lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2

from tests.local.helpers import wait_message, wait_status


@contextmanager
def service_process(data_dir: Path, ready: Path) -> Iterator[subprocess.Popen[bytes]]:
    ready.unlink(missing_ok=True)
    env = {**os.environ, "MCP_AGENTS_LOCAL_API_KEY": "sk-local-crash-test-key"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_agents", "local", "--data-dir", str(data_dir), "--port", "0",
         "--ready-file", str(ready), "--heartbeat", "0.2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        if process.stderr is not None:
            process.stderr.close()


async def _connect(ready: Path) -> tuple[httpx2.AsyncClient, dict[str, Any]]:
    path = anyio.Path(ready)
    with anyio.fail_after(20):
        while True:
            text = await path.read_text() if await path.exists() else ""
            if text:
                break
            await anyio.sleep(0.05)
    info = json.loads(text)
    async with httpx2.AsyncClient(timeout=10) as sts:
        token = (await sts.post(f"{info['sts_url']}/token/issue",
                                json={"type": "apikey", "key": "sk-local-crash-test-key"})).json()["token"]
    return httpx2.AsyncClient(base_url=info["base_url"], headers={"Authorization": f"Bearer {token}"},
                              timeout=10), info


async def test_sigkill_and_restart_lose_nothing(tmp_path: Path) -> None:
    data_dir, ready = tmp_path / "data", tmp_path / "ready.json"
    with service_process(data_dir, ready) as first:
        api, info = await _connect(ready)
        async with api:
            assert info["pid"] == first.pid
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
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)

    with service_process(data_dir, ready) as second:
        api, _ = await _connect(ready)
        async with api:
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
            await api.post(f"/agents/{echo}/signal/Stop", json={})
            await wait_status(api, echo, {"completed"})
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=15) == 0
