"""The Starlette application: every URL in one table, and the factory that wires the services."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from mcp_agents.local import api_data, api_interactions, api_runs, openapi, sse
from mcp_agents.local.artifacts import ArtifactFiles
from mcp_agents.local.auth import Credential, TokenService, authenticating, issue_token
from mcp_agents.local.bus import Bus
from mcp_agents.local.errors import EXCEPTION_HANDLERS
from mcp_agents.local.limits import Limits
from mcp_agents.local.runtime import Runtime
from mcp_agents.local.store import Store
from mcp_agents.local.validation import validating
from mcp_agents.local.wire import WireFormat
from mcp_agents.models import hosted, paths
from mcp_agents.models.hosted import Wire

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a handler needs, built once per application."""

    store: Store
    bus: Bus
    runtime: Runtime
    tokens: TokenService
    files: ArtifactFiles
    heartbeat_seconds: float
    base_url: str = ""
    wire: WireFormat = field(default_factory=WireFormat)
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # relative to /api/v1 (paths.*), or absolute for the token service
    handler: Callable[[Request], Any]
    summary: str
    credential: Credential = "bearer"


# Every URL of the service. Order matters where templates overlap (`/agents/search` before `/agents/{run_id}`).
API: tuple[Endpoint, ...] = (
    Endpoint("POST", paths.RUNS, api_runs.create_run, "Create an agent run"),
    Endpoint("GET", paths.RUNS, api_runs.list_runs, "List agent runs"),
    Endpoint("GET", paths.SEARCH, api_data.search_runs, "Search agent runs"),
    Endpoint("POST", "/agents/analytics/{report:path}", api_data.analytics_report, "Analytics report"),
    Endpoint("GET", paths.RUN, api_runs.get_run, "Retrieve an agent run"),
    Endpoint("DELETE", paths.RUN, api_runs.terminate_run, "Terminate an agent run"),
    Endpoint("POST", paths.RESTART, api_runs.restart_run, "Restart an agent run"),
    Endpoint("POST", paths.FORK, api_runs.fork_run, "Fork an agent run"),
    Endpoint("POST", paths.SIGNAL, api_runs.send_signal, "Send a signal"),
    Endpoint("GET", paths.QUERY, api_runs.query_run, "Query agent state"),
    Endpoint("GET", paths.UPDATES, api_runs.get_updates, "Retrieve messages"),
    Endpoint("POST", paths.UPDATES, api_runs.post_update, "Post an update"),
    Endpoint("GET", paths.STREAM, sse.stream, "Stream messages (SSE)", "query"),
    Endpoint("GET", paths.ARTIFACTS, api_data.list_artifacts, "List artifacts"),
    Endpoint("GET", "/agents/{run_id}/artifacts/{path:path}", api_data.get_artifact, "Get an artifact", "signed"),
    Endpoint("PUT", "/agents/{run_id}/artifacts/{path:path}", api_data.put_artifact, "Upload an artifact",
             "signed"),
    Endpoint("GET", paths.INTERNALS, api_data.get_internals, "Get internals"),
    Endpoint("GET", paths.DETAILS, api_data.get_details, "Get run details"),
    Endpoint("GET", paths.CHILDREN, api_data.get_children, "List child workflows"),
    Endpoint("POST", paths.EVENTS, api_data.ingest_events, "Ingest telemetry events"),
    Endpoint("GET", paths.INTERACTIONS, api_interactions.list_interactions, "List interactions (agents)"),
    Endpoint("GET", paths.INTERACTION, api_interactions.get_interaction, "Retrieve an interaction"),
)


async def openapi_document(request: Request) -> JSONResponse:
    """The seed-shaped service describes itself; the hosted-shaped one serves the published document."""
    if request.app.state.services.wire.hosted:
        return JSONResponse(hosted.document())
    return JSONResponse(openapi.document(API))


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def routes(wire: Wire = "seed") -> list[Route | Mount]:
    """The service's routes: the caller is authenticated first; then, with the hosted wire, its request is
    checked against the published schema; then the handler runs."""
    api = []
    for item in API:
        handler = validating(item.method, item.path, item.handler) if wire == "hosted" else item.handler
        api.append(Route(item.path, authenticating(handler, item.credential), methods=[item.method]))
    api.append(Route("/openapi.json", openapi_document, methods=["GET"]))
    return [
        Route(paths.TOKEN_ISSUE, issue_token, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Mount(paths.API_PREFIX, routes=api),
    ]


def build_app(services_factory: Callable[[], Any], wire: Wire = "seed") -> Starlette:
    """The app; `services_factory` is an async context manager factory yielding `Services` (run in lifespan)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with services_factory() as services:
            app.state.services = services
            app.state.tokens = services.tokens
            yield

    return Starlette(routes=routes(wire), exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
