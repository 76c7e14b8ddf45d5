"""Which Agent Runs service the server talks to: a remote one with credentials, else the embedded one.

With `VERTESIA_API_KEY` or `VERTESIA_TOKEN` the server is a client of that service (URL, region and
token service from the settings). With neither, it starts the local service in-process on its data
directory and talks to it over loopback, so `mcp-agents serve` works with no account anywhere (it
starts in the background: see `embedded.py`) —
except in a team deployment (`--auth required`): there every caller's bearer is a credential of the
remote service, so the server talks to that service (`VERTESIA_API_URL` / region) with no credential
of its own and every call uses the caller's bearer.
The choice is announced on stderr through logging; stdout belongs to the protocol.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp_agents.client import AgentRunsClient
from mcp_agents.server.deps import ServerDeps
from mcp_agents.settings import Settings

logger = logging.getLogger(__name__)


@asynccontextmanager
async def open_backend(settings: Settings, *, callers_only: bool = False) -> AsyncIterator[ServerDeps]:
    """The server's dependencies for its whole life: a client, and the local service when embedded.

    `callers_only`: every request carries its caller's bearer (HTTP with `--auth required`), so no
    embedded service is started for want of a server credential.
    """
    if not settings.uses_local_service or callers_only:
        async with AgentRunsClient.from_settings(settings) as client:
            if settings.uses_local_service:
                logger.warning("no VERTESIA_API_KEY or VERTESIA_TOKEN: every request uses its caller's bearer "
                               "with the Agent Runs service at %s", settings.api_url)
            else:
                logger.info("using the Agent Runs service at %s", settings.api_url)
            yield ServerDeps(settings=settings, client=client)
        return
    from mcp_agents.server.embedded import embedded_backend

    async with embedded_backend(settings) as deps:
        yield deps
