"""`/interactions` matches the hosted service: the client's requests are the ones the official `vertesia-client`
(generated from the hosted schema, API version 20260803) sends, and the local service's answers are valid
`InteractionRef`s of that client's models, with no property the hosted schema does not define."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from vertesia_client.openapi.api.interactions_api import InteractionsApi
from vertesia_client.openapi.api_client import ApiClient
from vertesia_client.openapi.configuration import Configuration
from vertesia_client.openapi.models.interaction_ref import InteractionRef as HostedInteractionRef

from mcp_agents.client import NotFoundError
from mcp_agents.local import LocalServiceConfig, RunningService, run_local_service
from mcp_agents.models.paths import API_VERSION
from tests.client.conftest import make_client
from tests.support.serve import serve_app

REF = {"id": "6650f0c2a1b2c3d4e5f60718", "name": "Researcher", "endpoint": "researcher", "status": "published",
       "version": 3, "tags": ["research"], "updated_at": "2026-10-01T12:00:00.000Z",
       "agent_runner_options": {"is_agent": True, "tool_names": ["search"]}}
HOSTED_FIELDS = set(HostedInteractionRef.model_fields)


class Recorder:
    """A loopback server answering `/interactions` like the hosted service, recording each request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, list[tuple[str, str]], str | None]] = []

    def app(self) -> Starlette:
        async def handle(request: Request) -> JSONResponse:
            raw_path = request.scope["raw_path"].decode()  # as sent: ids stay percent-encoded
            self.requests.append((request.method, raw_path, sorted(request.query_params.multi_items()),
                                  request.headers.get("x-api-version")))
            return JSONResponse([REF] if request.url.path.endswith("/interactions") else REF)

        return Starlette(routes=[Route("/api/v1/interactions", handle),
                                 Route("/api/v1/interactions/{id:path}", handle)])


def hosted_request(method: str, **arguments: Any) -> tuple[str, str, list[tuple[str, str]], str | None]:
    """What the official client sends for `method(**arguments)` (its own request serializer); the query's
    pairs sorted, since their order carries no meaning."""
    api = InteractionsApi(ApiClient(Configuration(host="http://hosted/api/v1")))
    serialize = getattr(api, f"_{method}_serialize")
    defaults = {"_request_auth": None, "_content_type": None, "_headers": None, "_host_index": 0}
    if method == "list_interactions":
        defaults.update(dict.fromkeys(("name", "status", "limit", "offset", "prompt", "tags", "version", "model",
                                       "environment", "is_agent", "is_tool", "is_skill", "is_basic",
                                       "is_sub_agent")))
    verb, url, headers, _, _ = serialize(x_api_version=API_VERSION, **{**defaults, **arguments})
    parts = urlsplit(url)
    return verb, parts.path, sorted(parse_qsl(parts.query)), headers.get("x-api-version")


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    recording = Recorder()
    async with serve_app(recording.app()) as root:
        yield recording, root


async def test_the_client_sends_what_the_official_client_sends(recorder: tuple[Recorder, str]) -> None:
    recording, root = recorder
    async with make_client(root, token="a.b.c") as client:
        agents = await client.interactions.list(is_agent=True)
        await client.interactions.list(is_agent=True, name="Re", status=["published", "draft"], tags=["a", "b"],
                                       limit=5, offset=10)
        one = await client.interactions.retrieve("6650f0c2 a/b")
    assert recording.requests == [
        hosted_request("list_interactions", is_agent=True),
        hosted_request("list_interactions", is_agent=True, name="Re", status=["published", "draft"],
                       tags=["a", "b"], limit=5, offset=10),
        hosted_request("get_interaction", interaction_id="6650f0c2 a/b"),
    ]
    assert [agent.code for agent in agents] == ["researcher"] and agents[0].is_agent
    assert one.agent_runner_options is not None and one.agent_runner_options.tool_names == ["search"]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[RunningService]:
    config = LocalServiceConfig(data_dir=tmp_path, interactions=("tests.local.plugin:INTERACTIONS",))
    async with run_local_service(config) as running:
        yield running


def _hosted(item: dict[str, Any]) -> HostedInteractionRef:
    assert set(item) <= HOSTED_FIELDS, f"not in the hosted schema: {set(item) - HOSTED_FIELDS}"
    parsed = HostedInteractionRef.from_dict(item)
    assert parsed is not None
    return parsed


async def test_the_local_service_answers_hosted_interaction_refs(service: RunningService) -> None:
    async with make_client(service.sts_url, api_key=service.api_key) as client, \
            httpx2.AsyncClient(base_url=service.base_url, timeout=10,
                               headers={"x-api-version": API_VERSION}) as http:
        token = (await http.post(f"{service.sts_url}/token/issue",
                                 json={"type": "apikey", "key": service.api_key})).json()["token"]
        http.headers["Authorization"] = f"Bearer {token}"
        listed = (await http.get("/interactions", params={"is_agent": "true"})).json()
        hosted = [_hosted(item) for item in listed]
        assert {ref.name for ref in hosted} >= {"Echo", "Demo", "Shout"}  # built-ins and the plugin
        for ref in hosted:
            assert ref.agent_runner_options is not None and ref.agent_runner_options.is_agent
            assert ref.description and len(ref.description) >= 20, ref.name
            detail = (await http.get(f"/interactions/{ref.id}")).json()
            assert _hosted(detail) == ref
        assert (await http.get("/interactions", params={"is_agent": "false"})).json() == []
        # The client reads the same answers, and starts a run with the name it found.
        agents = await client.interactions.list(is_agent=True, tags=["demo"])
        assert [agent.code for agent in agents] == ["Demo"]
        run = await client.runs.create(interaction=agents[0].code, data={"task": "t", "steps": 0})
        assert run.interaction_name == "Demo" or run.interaction == "Demo"
        by_id = await client.runs.create(interaction=agents[0].id, data={"task": "t", "steps": 0})
        assert by_id.interaction_name == "Demo" or by_id.interaction == "Demo"
        with pytest.raises(NotFoundError, match="unknown interaction"):
            await client.interactions.retrieve("NoSuchAgent")
