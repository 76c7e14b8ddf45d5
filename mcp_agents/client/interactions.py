"""`/interactions`: the agents a caller may start (`is_agent=true`), and one interaction by id."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from mcp_agents.client._paths import segment
from mcp_agents.client._resource import Resource, many
from mcp_agents.models import InteractionList, InteractionRef
from mcp_agents.models.paths import INTERACTION, INTERACTIONS


class InteractionsResource(Resource):
    """`/interactions` (permission `interaction:read`)."""

    async def list(self, *, is_agent: bool | None = None, is_tool: bool | None = None, name: str | None = None,
                   status: str | Sequence[str] | None = None, tags: str | Sequence[str] | None = None,
                   version: str | None = None, limit: int | None = None,
                   offset: int | None = None) -> builtins.list[InteractionRef]:
        """Interactions matching the filters; `is_agent=True` lists the agents that can be started."""
        params = {"is_agent": is_agent, "is_tool": is_tool, "name": name, "status": many(status),
                  "tags": many(tags), "version": version, "limit": limit, "offset": offset}
        listed = await self._requester.model(InteractionList, "GET", INTERACTIONS, params=params)
        return listed.root

    async def retrieve(self, interaction_id: str) -> InteractionRef:
        """One interaction by id (the hosted service answers the full interaction; its extra fields are kept)."""
        return await self._requester.model(
            InteractionRef, "GET", INTERACTION.format(interaction_id=segment(interaction_id, "interaction id")))


__all__: builtins.list[str] = ["InteractionsResource"]
