"""The embedded local Agent Runs service: the whole API on SQLite, with built-in interactions.

    async with run_local_service(LocalServiceConfig(data_dir=path)) as service:
        ...  # service.base_url, service.sts_url, service.api_key

Never imports `mcp` or the API client: it shares only `mcp_agents.models` with them. `run_local_service`
is imported on first use, so that `local.config` and `local.keys` stay cheap to import (the MCP server
reads them before it answers its first request, and starts the service itself in the background).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcp_agents.local.config import LocalServiceConfig, RunningService

if TYPE_CHECKING:
    from mcp_agents.local.service import run_local_service

__all__ = ["LocalServiceConfig", "RunningService", "run_local_service"]


def __getattr__(name: str) -> Any:
    if name == "run_local_service":
        from mcp_agents.local.service import run_local_service

        return run_local_service
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
