"""What every tool, resource and prompt handler reaches through its Context: settings and the API client.

`client_for(ctx)` is the one place that decides which credential a request uses: in HTTP mode a
caller's own bearer (JWT or `sk-` key, set by the transport's token verifier) for that request
only, otherwise the server's own client. Handlers never read `deps.client` directly.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcp.server.auth.middleware.auth_context import get_access_token

from mcp_agents.settings import Settings

if TYPE_CHECKING:
    from mcp.server.mcpserver import Context

    from mcp_agents.client import AgentRunsClient
    from mcp_agents.local import RunningService
    from mcp_agents.server.subscriptions import RunWatcher

API_KEY_PREFIX = "sk-"
# Views per caller credential kept so an exchanged JWT is reused across a caller's requests. A view is about
# 2 KB; the bound is above the default session cap (1,000), so that callers taking turns on a team server
# do not evict each other's views and re-exchange their keys on every call.
MAX_CREDENTIAL_VIEWS = 4096


@dataclass
class ServerDeps:
    """Created once per process by the server's lifespan (see `backend.py` and `app.py`)."""

    settings: Settings
    client: AgentRunsClient
    local: RunningService | None = None
    watcher: RunWatcher | None = None
    views: OrderedDict[str, AgentRunsClient] = field(default_factory=OrderedDict, repr=False)


def lifespan_deps(lifespan_context: object) -> ServerDeps:
    """The dependencies from a request's lifespan context (for low-level handlers)."""
    if not isinstance(lifespan_context, ServerDeps):
        raise RuntimeError("mcp-agents server used without its lifespan")
    return lifespan_context


def server_deps(ctx: Context[Any, Any]) -> ServerDeps:
    return lifespan_deps(ctx.request_context.lifespan_context)


def caller_bearer() -> str | None:
    """The HTTP caller's bearer for the current request, or None (stdio, in-memory, no header)."""
    access = get_access_token()
    return access.token if access is not None and access.token else None


def credential_key(bearer: str | None) -> str:
    """A stable, non-reversible name for a credential ("" for the server's own)."""
    if not bearer:
        return ""
    return hashlib.sha256(bearer.encode()).hexdigest()[:24]


def client_with(deps: ServerDeps, bearer: str | None) -> AgentRunsClient:
    """The server's client, or a view of it that authenticates as `bearer` (cached, bounded)."""
    if not bearer:
        return deps.client
    key = credential_key(bearer)
    view = deps.views.get(key)
    if view is None:
        view = new_view(deps, bearer)
        keep_view(deps, bearer, view)
    else:
        deps.views.move_to_end(key)
    return view


def new_view(deps: ServerDeps, bearer: str) -> AgentRunsClient:
    """A view of the server's client that authenticates as `bearer`, not cached (see `keep_view`)."""
    if bearer.startswith(API_KEY_PREFIX):
        return deps.client.with_credentials(api_key=bearer)
    return deps.client.with_credentials(token=bearer)


def keep_view(deps: ServerDeps, bearer: str, view: AgentRunsClient) -> None:
    """Cache `view` for `bearer`, so its exchanged JWT serves the caller's next requests."""
    deps.views[credential_key(bearer)] = view
    deps.views.move_to_end(credential_key(bearer))
    while len(deps.views) > MAX_CREDENTIAL_VIEWS:
        deps.views.popitem(last=False)


def client_for(ctx: Context[Any, Any]) -> AgentRunsClient:
    """The client for this request: the caller's own credential when one came with it, else the server's."""
    return client_with(server_deps(ctx), caller_bearer())
