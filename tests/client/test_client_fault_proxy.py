"""The fault proxy itself: transparent when idle, and each fault does what it says."""

from __future__ import annotations

import anyio
import httpx2
import pytest

from tests.support.fault_proxy import FaultProxy
from tests.support.scripted_api import ScriptedAPI


async def test_idle_proxy_is_transparent_and_keeps_encoding(api: ScriptedAPI) -> None:
    async with FaultProxy(api.root) as proxy, httpx2.AsyncClient() as http:
        response = await http.get(f"{proxy.url}/api/v1/agents/a%2Fb?x=1%202")
        assert response.status_code == 404  # the scripted API's own answer (no route for a/b), passed through
        assert api.raw_paths[-1] == "/api/v1/agents/a%2Fb"
        assert proxy.requests == [("GET", "/api/v1/agents/a%2Fb")]


async def test_failures_and_down(api: ScriptedAPI) -> None:
    async with FaultProxy(api.root) as proxy, httpx2.AsyncClient() as http:
        proxy.fail_next(2, status=429, retry_after="3", path_contains="/agents")
        first = await http.get(f"{proxy.url}/api/v1/agents")
        assert first.status_code == 429 and first.headers["retry-after"] == "3"
        assert (await http.post(f"{proxy.url}/token/issue")).status_code == 401  # path did not match
        assert (await http.get(f"{proxy.url}/api/v1/agents")).status_code == 429
        assert (await http.get(f"{proxy.url}/api/v1/agents")).status_code == 401
        proxy.set_down(True)
        assert (await http.get(f"{proxy.url}/api/v1/agents")).status_code == 502
        proxy.reset()
        assert (await http.get(f"{proxy.url}/api/v1/agents")).status_code == 401
    async with FaultProxy("http://127.0.0.1:9") as dead, httpx2.AsyncClient() as http:
        assert (await http.get(f"{dead.url}/x")).status_code == 502


async def test_byte_cut_drops_the_connection_mid_stream(api: ScriptedAPI) -> None:
    run = api.create_run()
    for index in range(5):
        api.emit(run["id"], "UPDATE", f"m{index}")
    token = "t"
    api.tokens[token] = 2e9
    async with FaultProxy(api.root) as proxy, httpx2.AsyncClient() as http:
        proxy.cut_streams_after(bytes=30)
        received = b""
        with anyio.fail_after(5), pytest.raises(httpx2.RemoteProtocolError):
            async with http.stream("GET", f"{proxy.url}/api/v1/agents/{run['id']}/stream",
                                   headers={"Authorization": f"Bearer {token}"}) as response:
                async for chunk in response.aiter_raw():
                    received += chunk
        assert len(received) == 30
        with anyio.fail_after(5):
            await proxy.wait_for_cuts(1)
