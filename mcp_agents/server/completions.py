"""Argument completion (`completion/complete`): run ids, interaction names and artifact paths.

One dispatcher for every prompt and resource template. It is registered on the low-level server
rather than with `@server.completion()` because completing needs the request's context (the
caller's credential and the lifespan's client), which the decorator's callback does not receive.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server import MCPServer, ServerRequestContext
from mcp.types import CompleteRequestParams, CompleteResult, Completion, PromptReference, ResourceTemplateReference

from mcp_agents.client import AgentRunsClient, AgentRunsError
from mcp_agents.server.agents import startable_agents
from mcp_agents.server.deps import ServerDeps, caller_bearer, client_with, lifespan_deps
from mcp_agents.server.uris import ARTIFACT_TEMPLATE, valid_run_id
from mcp_agents.settings import Settings

logger = logging.getLogger(__name__)

MAX_VALUES = 100  # the protocol's cap on values per completion
RECENT_RUNS_SCANNED = 50

RUN_ID_ARGUMENTS = frozenset({"run_id"})
INTERACTION_ARGUMENTS = frozenset({"interaction"})


async def recent_run_ids(client: AgentRunsClient, prefix: str) -> list[str]:
    runs = (await client.runs.list(limit=RECENT_RUNS_SCANNED, sort="started_at", order="desc")).items
    return [run.id for run in runs if run.id.startswith(prefix)]


async def interaction_names(deps: ServerDeps, client: AgentRunsClient) -> list[str]:
    """The agents the caller may start (`GET /interactions`, on the hosted service and the local one alike);
    when listing is refused, the `--allow-interactions` list, else the interactions of recent runs."""
    try:
        return [agent.code for agent in await startable_agents(client, deps.settings)]
    except AgentRunsError as exc:  # e.g. a key without `interaction:read`: fall back on what ran recently
        logger.info("listing agents for completion failed: %s", exc)
    if deps.settings.allow_interactions:
        return list(deps.settings.allow_interactions)
    names: list[str] = []
    runs = (await client.runs.list(limit=RECENT_RUNS_SCANNED, sort="started_at", order="desc")).items
    for run in runs:
        name = run.interaction_name or run.interaction
        if name and name not in names:
            names.append(name)
    return names


async def artifact_paths(client: AgentRunsClient, run_id: str, prefix: str) -> list[str]:
    if not valid_run_id(run_id):
        return []
    return [path for path in await client.artifacts.list(run_id) if path.startswith(prefix)]


def register_completions(server: MCPServer[ServerDeps], settings: Settings) -> None:
    """Install the one completion dispatcher (run ids, interactions, artifact paths)."""

    async def complete(ctx: ServerRequestContext[Any, Any], params: CompleteRequestParams) -> CompleteResult:
        deps = lifespan_deps(ctx.lifespan_context)
        client = client_with(deps, caller_bearer())
        name, prefix = params.argument.name, params.argument.value
        ref = params.ref
        known = dict(params.context.arguments or {}) if params.context else {}
        values: list[str] = []
        try:
            if name in RUN_ID_ARGUMENTS and isinstance(ref, PromptReference | ResourceTemplateReference):
                values = await recent_run_ids(client, prefix)
            elif name in INTERACTION_ARGUMENTS:
                values = [n for n in await interaction_names(deps, client) if n.lower().startswith(prefix.lower())]
            elif (name == "path" and isinstance(ref, ResourceTemplateReference)
                  and ref.uri == ARTIFACT_TEMPLATE and known.get("run_id")):
                values = await artifact_paths(client, known["run_id"], prefix)
        except AgentRunsError as exc:  # completion is a convenience: answer empty rather than fail
            logger.info("completion of %r failed: %s", name, exc)
        return CompleteResult(completion=Completion(
            values=values[:MAX_VALUES], total=len(values), has_more=len(values) > MAX_VALUES,
        ))

    server._lowlevel_server.add_request_handler("completion/complete", CompleteRequestParams, complete)
