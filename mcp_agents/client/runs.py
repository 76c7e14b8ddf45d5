"""Runs lifecycle: create, retrieve, list, search, terminate, restart, fork."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any, Literal

from mcp_agents.client._paths import segment
from mcp_agents.client._resource import Resource, build, many
from mcp_agents.models import (
    AgentRun,
    CreateAgentRunRequest,
    RunList,
    SearchResult,
    TerminateResult,
)
from mcp_agents.models.paths import FORK, RESTART, RUN, RUNS, SEARCH


class RunsResource(Resource):
    """`/agents`: start runs and manage their lifecycle."""

    async def create(self, request: CreateAgentRunRequest | None = None, /, **fields: Any) -> AgentRun:
        """Start a run. Pass a `CreateAgentRunRequest`, or its fields as keywords (or both: keywords win)."""
        if request is None:
            body = build(CreateAgentRunRequest, fields, "run request")
        elif fields:
            body = build(CreateAgentRunRequest, {**request.model_dump(exclude_none=True), **fields}, "run request")
        else:
            body = request
        return await self._requester.model(AgentRun, "POST", RUNS, json=body.model_dump(mode="json",
                                                                                         exclude_none=True))

    async def retrieve(self, run_id: str) -> AgentRun:
        return await self._requester.model(AgentRun, "GET", RUN.format(run_id=segment(run_id, "run id")))

    async def list(self, *, status: str | Sequence[str] | None = None, interaction: str | None = None,
                   started_by: str | None = None, since: str | None = None, until: str | None = None,
                   limit: int | None = None, offset: int | None = None, cursor: str | None = None,
                   sort: Literal["started_at", "updated_at"] | None = None,
                   order: Literal["asc", "desc"] | None = None) -> RunList:
        """Runs matching the filters; the seed's array and the live `{items,...}` both become a `RunList`.

        A list of statuses is sent as repeated `status` parameters, as the hosted schema requires.
        """
        params = {"status": many(status), "interaction": interaction, "started_by": started_by, "since": since,
                  "until": until, "limit": limit, "offset": offset, "cursor": cursor, "sort": sort, "order": order}
        return await self._requester.model(RunList, "GET", RUNS, params=params)

    async def search(self, query: str | None = None, *, status: str | Sequence[str] | None = None,
                     interaction: str | None = None, started_by: str | None = None,
                     categories: str | Sequence[str] | None = None, tags: str | Sequence[str] | None = None,
                     since: str | None = None, limit: int | None = None, offset: int | None = None) -> SearchResult:
        """Full-text search over runs."""
        params = {"query": query, "status": many(status), "interaction": interaction, "started_by": started_by,
                  "categories": many(categories), "tags": many(tags), "since": since, "limit": limit, "offset": offset}
        return await self._requester.model(SearchResult, "GET", SEARCH, params=params)

    async def terminate(self, run_id: str, *, reason: str | None = None) -> TerminateResult:
        """Cancel a running run; `reason` is recorded in the workflow history."""
        return await self._requester.model(TerminateResult, "DELETE", RUN.format(run_id=segment(run_id, "run id")),
                                           params={"reason": reason})

    async def restart(self, run_id: str) -> AgentRun:
        """Continue a completed, failed or cancelled run in a new workflow."""
        return await self._requester.model(AgentRun, "POST", RESTART.format(run_id=segment(run_id, "run id")))

    async def fork(self, run_id: str) -> AgentRun:
        """A new run that starts from this run's conversation."""
        return await self._requester.model(AgentRun, "POST", FORK.format(run_id=segment(run_id, "run id")))


__all__: builtins.list[str] = ["RunsResource"]
