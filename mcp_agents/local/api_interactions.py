"""Handlers of `/interactions`: the registered interactions (built-ins and plugins) in the hosted
`InteractionRef` shape, filtered like the hosted listing (`is_agent`, `name`, `status`, `tags`, paging)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from mcp_agents.local.api_runs import int_param, services_of
from mcp_agents.local.config import LIST_MAX_LIMIT
from mcp_agents.local.errors import ServiceError

FLAGS = ("is_agent", "is_tool", "is_skill")
OFFSET_MAX = 10_000_000


def _flag(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() not in ("true", "false"):
        raise ServiceError(400, f"{name} must be true or false, not {raw!r}")
    return raw.lower() == "true"


def _matches(ref: dict[str, Any], flags: dict[str, bool | None], name: str, statuses: list[str],
             tags: list[str]) -> bool:
    options = ref["agent_runner_options"]
    if any(wanted is not None and bool(options.get(flag)) != wanted for flag, wanted in flags.items()):
        return False
    if name and name.lower() not in ref["name"].lower():
        return False
    if statuses and ref["status"] not in statuses:
        return False
    return all(tag in ref["tags"] for tag in tags)


async def list_interactions(request: Request) -> JSONResponse:
    services = services_of(request)
    services.tokens.authenticate(request)
    query = request.query_params
    flags = {flag: _flag(request, flag) for flag in FLAGS}
    statuses = [item for value in query.getlist("status") for item in value.split(",") if item]
    tags = [item for value in query.getlist("tags") for item in value.split(",") if item]
    limit = int_param(request, "limit", LIST_MAX_LIMIT, 1, LIST_MAX_LIMIT)
    offset = int_param(request, "offset", 0, 0, OFFSET_MAX)
    found = [ref for ref in services.runtime.registry.refs()
             if _matches(ref, flags, query.get("name", ""), statuses, tags)]
    return JSONResponse(found[offset:offset + limit])


async def get_interaction(request: Request) -> JSONResponse:
    services = services_of(request)
    services.tokens.authenticate(request)
    return JSONResponse(services.runtime.registry.ref(request.path_params["interaction_id"]))
