"""The embedded local Agent Runs service: the whole API on SQLite, with built-in interactions.

    async with run_local_service(LocalServiceConfig(data_dir=path)) as service:
        ...  # service.base_url, service.sts_url, service.api_key

Never imports `mcp` or the API client: it shares only `mcp_agents.models` with them.
"""

from mcp_agents.local.config import LocalServiceConfig, RunningService
from mcp_agents.local.service import run_local_service

__all__ = ["LocalServiceConfig", "RunningService", "run_local_service"]
