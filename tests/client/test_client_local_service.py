"""The client against the real local service (`mcp_agents.local`), directly and through the fault proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from mcp_agents.client import AgentRunsClient, InvalidRequestError, NotFoundError
from mcp_agents.models import MessageType
from tests.client.conftest import make_client
from tests.support.fault_proxy import FaultProxy

local = pytest.importorskip("mcp_agents.local")

FOLLOW_TIMEOUT = 30.0


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[local.RunningService]:
    config = local.LocalServiceConfig(data_dir=tmp_path, heartbeat_seconds=0.05, token_ttl_seconds=3600)
    async with local.run_local_service(config) as running:
        yield running


def client_for(service: local.RunningService, root: str | None = None) -> AgentRunsClient:
    base = root or service.sts_url
    return make_client(base, api_key=service.api_key)


async def test_demo_run_is_followed_to_the_end(service: local.RunningService) -> None:
    async with client_for(service) as client:
        run = await client.runs.create(interaction="Demo", data={"steps": 3, "step_delay_ms": 5}, interactive=False)
        with anyio.fail_after(FOLLOW_TIMEOUT):
            streamed = [m async for m in client.messages.stream(run.id)]
        stored = await client.messages.retrieve(run.id)
        assert [m.identity() for m in streamed] == [m.identity() for m in stored]
        assert streamed[-1].ends_run or (await client.runs.retrieve(run.id)).is_terminal
        assert any(m.tool_name for m in streamed)
        artifacts = await client.artifacts.list(run.id)
        assert artifacts
        content = await client.artifacts.get(run.id, artifacts[0])
        assert content.content
        await client.observability.internals(run.id)
        await client.observability.details(run.id, include_history=True)
        await client.observability.children(run.id)
        listed = await client.runs.list(limit=5)
        assert run.id in {r.id for r in listed.items}
        await client.analytics.summary()
        with pytest.raises(NotFoundError):
            await client.runs.retrieve("no-such-run")
        with pytest.raises(InvalidRequestError):
            await client.artifacts.get(run.id, "../escape")


async def test_stream_survives_cuts_against_the_local_service(service: local.RunningService) -> None:
    async with FaultProxy(service.sts_url, seed=3) as proxy, client_for(service, proxy.url) as client:
        run = await client.runs.create(interaction="Demo", data={"steps": 6, "step_delay_ms": 10}, interactive=False)
        proxy.cut_streams_after(events=3, times=5)
        with anyio.fail_after(FOLLOW_TIMEOUT):
            streamed = [m async for m in client.messages.stream(run.id)]
        stored = await client.messages.retrieve(run.id)
        assert [m.identity() for m in streamed] == [m.identity() for m in stored]
        assert proxy.cuts >= 1


async def test_upload_signal_and_post_round_trip(service: local.RunningService) -> None:
    async with client_for(service) as client:
        run = await client.runs.create(interaction="Echo")
        await client.artifacts.upload(run.id, "notes/a b.txt", b"hello", content_type="text/plain")
        assert (await client.artifacts.get(run.id, "notes/a b.txt")).content == b"hello"
        url = await client.artifacts.url(run.id, "notes/a b.txt", disposition="inline")
        assert url.url
        await client.messages.post(run.id, message="from a test", type="UPDATE")
        messages = await client.messages.retrieve(run.id)
        assert any(m.message == "from a test" and m.type is MessageType.UPDATE for m in messages)
        answer = await client.communication.send_signal(run.id, "UserInput", {"message": "hi"})
        assert answer.status == "success"
        await client.runs.terminate(run.id, reason="test over")
        assert (await client.runs.retrieve(run.id)).status == "cancelled"


async def test_short_lived_tokens_are_refreshed(tmp_path: Path) -> None:
    config = local.LocalServiceConfig(data_dir=tmp_path, heartbeat_seconds=0.05, token_ttl_seconds=1)
    async with local.run_local_service(config) as running, client_for(running) as client:
        await client.runs.list()
        await anyio.sleep(0.6)  # past the refresh point (half of a short lifetime), before expiry
        await client.runs.list()
        assert client.credentials.exchanges == 2
