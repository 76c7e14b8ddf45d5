"""Runs as resources: `agent-run://{run_id}`, its messages and its artifacts; recent runs in `resources/list`.

The run and message templates go through the SDK's template path. Two low-level handlers are
replaced because `MCPServer`'s fixed behaviour does not fit: `resources/list` adds the caller's
recent runs (the SDK lists static resources only), and `resources/read` serves artifacts with the
MIME type the service reports (an SDK template has one fixed MIME type).
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from mcp.server import MCPServer, ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.shared.exceptions import MCPError
from mcp.shared.path_security import contains_path_traversal, is_absolute_path
from mcp.types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    BlobResourceContents,
    ListResourcesResult,
    ReadResourceResult,
    Resource,
    TextResourceContents,
)

from mcp_agents.client import AgentRunsClient, AgentRunsError, ArtifactContent, NotFoundError
from mcp_agents.models import AgentMessage, AgentRun
from mcp_agents.models.cursor import Position
from mcp_agents.server.completions import register_completions
from mcp_agents.server.deps import ServerDeps, caller_bearer, client_for, client_with, lifespan_deps
from mcp_agents.server.tools._common import refused_bearer
from mcp_agents.server.uris import (
    ARTIFACT_TEMPLATE,
    MESSAGES_TEMPLATE,
    RUN_TEMPLATE,
    artifact_uri,
    messages_uri,
    parse_run_uri,
    run_uri,
)
from mcp_agents.settings import Settings

logger = logging.getLogger(__name__)

JSON = "application/json"
RECENT_RUNS = 20  # runs listed by resources/list
MAX_MESSAGES = 500  # the messages resource keeps the most recent ones
MAX_ARTIFACT_BYTES = 8 * 1024 * 1024  # larger artifacts: read_agent_artifact gives a signed URL
_TEXT_TYPES = ("application/json", "application/xml", "application/yaml", "application/x-yaml",
               "application/javascript", "application/x-ndjson", "image/svg+xml")


def run_document(run: AgentRun, artifacts: list[str]) -> dict[str, Any]:
    """The JSON of `agent-run://{run_id}`: the run, its artifacts and where to read more."""
    doc = run.model_dump(mode="json", exclude_none=True)
    doc["artifacts"] = [{"path": path, "uri": artifact_uri(run.id, path)} for path in artifacts]
    doc["messages_uri"] = messages_uri(run.id)
    return doc


def message_row(message: AgentMessage) -> dict[str, Any]:
    row: dict[str, Any] = {"type": message.type.value, "message": message.message}
    if message.workstream_id != "main":
        row["workstream_id"] = message.workstream_id
    if message.timestamp is not None:
        row["ts"] = message.timestamp
    if message.details is not None:
        row["details"] = message.details
    return row


def is_text(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith(("+json", "+xml"))


def _translate(exc: AgentRunsError, uri: str) -> Exception:
    if isinstance(exc, NotFoundError):
        return ResourceNotFoundError(f"{uri} not found (or not visible to you)")
    return ResourceError(f"reading {uri} failed: {refused_bearer(exc) or exc}")


async def read_run(client: AgentRunsClient, run_id: str) -> str:
    uri = run_uri(run_id)
    try:
        run = await client.runs.retrieve(run_id)
        artifacts = await client.artifacts.list(run_id)
    except AgentRunsError as exc:
        raise _translate(exc, uri) from None
    return json.dumps(run_document(run, artifacts), indent=1)


async def read_messages(client: AgentRunsClient, run_id: str) -> str:
    uri = messages_uri(run_id)
    try:
        messages = await client.messages.retrieve(run_id)
    except AgentRunsError as exc:
        raise _translate(exc, uri) from None
    kept = messages[-MAX_MESSAGES:]
    position = Position()
    position.take(messages)
    # `cursor` stands after the last message: get_agent_messages or wait_for_agent_runs go on from it.
    doc = {"run_id": run_id, "count": len(messages), "truncated": len(kept) < len(messages),
           "cursor": str(position.cursor), "messages": [message_row(m) for m in kept]}
    return json.dumps(doc, indent=1)


async def read_artifact(client: AgentRunsClient, run_id: str, path: str) -> ArtifactContent:
    uri = artifact_uri(run_id, path)
    if not path or contains_path_traversal(path) or is_absolute_path(path) or "\0" in path:
        raise ResourceNotFoundError(f"{uri}: not a valid artifact path")
    try:  # never more than the limit in memory, however large the artifact
        artifact = await client.artifacts.read(run_id, path, max_bytes=MAX_ARTIFACT_BYTES)
    except AgentRunsError as exc:
        raise _translate(exc, uri) from None
    if artifact.truncated:
        size = f"{artifact.size} bytes" if artifact.size is not None else "larger than that"
        raise ResourceError(f"{uri} is {size}, over the {MAX_ARTIFACT_BYTES}-byte limit of resource reads; use "
                            "the read_agent_artifact tool for a download URL")
    return ArtifactContent(path=path, content=artifact.content, content_type=artifact.content_type)


def artifact_contents(uri: str, artifact: ArtifactContent) -> TextResourceContents | BlobResourceContents:
    """Text for textual types that decode as UTF-8, a base64 blob otherwise; the service's MIME type."""
    mime = artifact.content_type or "application/octet-stream"
    if is_text(mime):
        try:
            return TextResourceContents(uri=uri, mime_type=mime, text=artifact.content.decode("utf-8"))
        except UnicodeDecodeError:
            pass
    return BlobResourceContents(uri=uri, mime_type=mime, blob=base64.b64encode(artifact.content).decode("ascii"))


def register_resources(server: MCPServer[ServerDeps], settings: Settings) -> None:
    """Templates, recent runs in resources/list, artifact reads with their MIME type, completions."""

    @server.resource(RUN_TEMPLATE, name="agent_run", title="Agent run", mime_type=JSON,
                     description="An agent run: status, input, timestamps, artifacts (JSON).")
    async def run_resource(run_id: str, ctx: Context[ServerDeps]) -> str:
        return await read_run(client_for(ctx), run_id)

    @server.resource(MESSAGES_TEMPLATE, name="agent_run_messages", title="Agent run messages", mime_type=JSON,
                     description=f"The run's messages, oldest first (the last {MAX_MESSAGES}; JSON).")
    async def messages_resource(run_id: str, ctx: Context[ServerDeps]) -> str:
        return await read_messages(client_for(ctx), run_id)

    @server.resource(ARTIFACT_TEMPLATE, name="agent_run_artifact", title="Agent run artifact",
                     mime_type="application/octet-stream",
                     description="A file the run produced; text or binary with the MIME type from the service. "
                                 "Paths may contain slashes.")
    async def artifact_resource(run_id: str, path: str, ctx: Context[ServerDeps]) -> bytes:
        return (await read_artifact(client_for(ctx), run_id, path)).content

    lowlevel = server._lowlevel_server  # MCPServer has no hook for dynamic lists or per-read MIME types
    read_entry = lowlevel.get_request_handler("resources/read")
    list_entry = lowlevel.get_request_handler("resources/list")
    assert read_entry is not None and list_entry is not None
    sdk_read = read_entry.handler

    async def on_read(ctx: ServerRequestContext[Any, Any], params: Any) -> Any:
        resource = parse_run_uri(str(params.uri))
        if resource is None or resource.kind != "artifact":
            return await sdk_read(ctx, params)
        client = client_with(lifespan_deps(ctx.lifespan_context), caller_bearer())
        try:
            artifact = await read_artifact(client, resource.run_id, resource.path)
        except ResourceError as exc:
            code = INVALID_PARAMS if isinstance(exc, ResourceNotFoundError) else INTERNAL_ERROR
            raise MCPError(code=code, message=str(exc), data={"uri": str(params.uri)}) from None
        return ReadResourceResult(contents=[artifact_contents(str(params.uri), artifact)])

    async def on_list(ctx: ServerRequestContext[Any, Any], params: Any) -> ListResourcesResult:
        static = await server.list_resources()
        client = client_with(lifespan_deps(ctx.lifespan_context), caller_bearer())
        try:
            runs = (await client.runs.list(limit=RECENT_RUNS, sort="started_at", order="desc")).items
        except AgentRunsError as exc:  # listing must not break a client's connect; the tools report errors
            logger.warning("resources/list: could not list recent runs: %s", exc)
            runs = []
        return ListResourcesResult(resources=[*static, *(_run_listing(run) for run in runs[:RECENT_RUNS])])

    lowlevel.add_request_handler("resources/read", read_entry.params_type, on_read)
    lowlevel.add_request_handler("resources/list", list_entry.params_type, on_list)
    register_completions(server, settings)


def _run_listing(run: AgentRun) -> Resource:
    label = run.title or run.topic or run.interaction_name or run.interaction or run.id
    started = f", started {run.started_at}" if run.started_at else ""
    return Resource(
        uri=run_uri(run.id), name=run.id, title=f"{label} ({run.status})"[:120], mime_type=JSON,
        description=f"Agent run of {run.interaction or 'an unknown interaction'}: {run.status}{started}.",
    )
