"""A large artifact is never loaded whole: reads are streamed and stop at what can be shown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from mcp import Client
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mcp_agents.client import AgentRunsClient
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.settings import TOOLSETS, Settings
from tests.server.tools_helpers import MODES, call, data
from tests.support.scripted_api import ScriptedAPI, make_jwt
from tests.support.serve import serve_app

ENDLESS_BYTES = 64 * 1024 * 1024
CHUNK = b"\x00\x01" * 32 * 1024
STEP_TIMEOUT = 30.0


class EndlessArtifact:
    """An API whose artifact is 64 MiB of binary, produced as it is read, until the reader hangs up."""

    def __init__(self) -> None:
        self.produced = 0
        self.app = Starlette(routes=[Route("/api/v1/agents/{run_id}/artifacts/{path:path}", self.artifact)])

    async def artifact(self, request: Request) -> Response:
        if request.query_params.get("url") == "1":
            return JSONResponse({"url": "https://storage.example/signed/huge.bin?sig=x", "path": "huge.bin"})

        async def body() -> AsyncIterator[bytes]:
            while self.produced < ENDLESS_BYTES and not await request.is_disconnected():
                self.produced += len(CHUNK)
                yield CHUNK

        return StreamingResponse(body(), media_type="application/octet-stream")


async def test_the_client_reads_at_most_what_it_is_asked() -> None:
    api = ScriptedAPI()
    async with api.serve() as root, AgentRunsClient(base_url=f"{root}/api/v1", sts_url=root,
                                                     api_key=api.api_key) as client:
        run_id = api.create_run()["id"]
        api.artifacts[run_id] = {"big.txt": (b"abc" * 5000, "text/plain"), "small.txt": (b"hi", "text/plain")}
        head = await client.artifacts.read(run_id, "big.txt", max_bytes=100)
        assert head.content == (b"abc" * 5000)[:100] and head.truncated and head.size == 15000
        whole = await client.artifacts.read(run_id, "small.txt", max_bytes=100)
        assert whole.content == b"hi" and not whole.truncated and whole.size == 2
        assert whole.content_type.startswith("text/plain")
        api.script(503, times=1, path="small.txt")  # retried like any read
        assert (await client.artifacts.read(run_id, "small.txt", max_bytes=10)).content == b"hi"


@pytest.mark.parametrize("mode", MODES)
async def test_a_huge_artifact_becomes_a_download_url_without_being_downloaded(mode: str) -> None:
    fake = EndlessArtifact()
    async with serve_app(fake.app) as root, AgentRunsClient(base_url=f"{root}/api/v1",
                                                            token=make_jwt(4_000_000_000, 1)) as client:
        settings = Settings(toolsets=TOOLSETS)
        async with Client(build_server(settings, deps=ServerDeps(settings, client)), mode=mode) as mcp:
            with anyio.fail_after(STEP_TIMEOUT):
                result = data(await call(mcp, "read_agent_artifact", {"run_id": "r1", "path": "huge.bin"}))
    assert result["kind"] == "url" and result["url"].startswith("https://storage.example/")
    assert "size" not in result  # unknown: it was not read to the end
    assert fake.produced < ENDLESS_BYTES // 4, fake.produced


@pytest.mark.parametrize("mode", MODES)
async def test_text_pages_far_into_a_large_text(mode: str) -> None:
    api = ScriptedAPI()
    text = "".join(f"{index:09d}\n" for index in range(200_000))  # 2,000,000 characters
    async with api.serve() as root, AgentRunsClient(base_url=f"{root}/api/v1", sts_url=root,
                                                     api_key=api.api_key) as client:
        run_id = api.create_run()["id"]
        api.artifacts[run_id] = {"log.txt": (text.encode(), "text/plain")}
        settings = Settings(toolsets=TOOLSETS)
        async with Client(build_server(settings, deps=ServerDeps(settings, client)), mode=mode) as mcp:
            first: dict[str, Any] = data(await call(mcp, "read_agent_artifact", {"run_id": run_id, "path": "log.txt"}))
            far = data(await call(mcp, "read_agent_artifact", {"run_id": run_id, "path": "log.txt",
                                                               "offset": 1_999_000, "max_chars": 1000}))
    assert first["text"] == text[:20_000] and first["next_offset"] == 20_000
    assert far["text"] == text[1_999_000:] and "next_offset" not in far and far["size"] == len(text)
