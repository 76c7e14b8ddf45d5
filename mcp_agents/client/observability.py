"""Observability of a run: internals, workflow details, child workflows."""

from __future__ import annotations

from mcp_agents.client._paths import segment
from mcp_agents.client._resource import Resource
from mcp_agents.models import ChildrenList, Internals, RunDetails
from mcp_agents.models.paths import CHILDREN, DETAILS, INTERNALS


class ObservabilityResource(Resource):
    """`/agents/{id}/internals`, `/details`, `/children`."""

    async def internals(self, run_id: str) -> Internals:
        """Workflow ids and the artifacts path: for debugging."""
        return await self._requester.model(Internals, "GET", INTERNALS.format(run_id=segment(run_id, "run id")))

    async def details(self, run_id: str, *, include_history: bool = False) -> RunDetails:
        """Workflow execution details; `include_history` adds the execution history as agent tasks."""
        params = {"include_history": "true"} if include_history else None
        return await self._requester.model(RunDetails, "GET", DETAILS.format(run_id=segment(run_id, "run id")),
                                           params=params)

    async def children(self, run_id: str) -> ChildrenList:
        """Child workflows spawned by the run (sub-agents, attachment processing)."""
        return await self._requester.model(ChildrenList, "GET", CHILDREN.format(run_id=segment(run_id, "run id")))
