"""The service's OpenAPI 3.1 document, generated from the routes table and the shared pydantic models.

Request bodies use the models' validation schemas, answers their serialization schemas, so the
document cannot drift from what the handlers validate and return.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from mcp_agents import __version__
from mcp_agents.models import (
    REPORT_MODELS,
    REPORTS,
    AgentRun,
    AnalyticsQuery,
    ArtifactUrl,
    ChildrenList,
    CreateAgentRunRequest,
    ErrorBody,
    IngestEventsRequest,
    IngestEventsResponse,
    InteractionRef,
    Internals,
    PostUpdateRequest,
    PostUpdateResponse,
    RunDetails,
    SearchResult,
    SignalResult,
    TerminateResult,
)
from mcp_agents.models.paths import API_PREFIX


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


MESSAGE = {"type": "object", "required": ["t", "ts"], "additionalProperties": True, "properties": {
    "t": {"type": "string", "description": "Message type name (UPDATE, THOUGHT, PLAN, COMPLETE, ...)."},
    "m": {"type": "string"}, "w": {"type": "string", "description": "Workstream id (absent: main)."},
    "d": {}, "ts": {"type": "integer", "description": "Epoch ms, strictly increasing per run."},
    "wri": {"type": "string", "description": "Workflow run id."}}}
TOKEN_REQUEST = {"type": "object", "properties": {"type": {"const": "apikey"}, "key": {"type": "string"}}}
TOKEN_ANSWER = {"type": "object", "required": ["token"], "properties": {
    "token": {"type": "string"}, "token_type": {"type": "string"}, "expires_in": {"type": "integer"}}}
SEARCH_QUERY = ("query", "status", "interaction", "started_by", "categories", "tags", "since")

# (method, path) -> request schema, success status, answer schema, query parameters
SPEC: dict[tuple[str, str], tuple[Any, int, Any, dict[str, Any]]] = {
    ("POST", "/agents"): (_ref(CreateAgentRunRequest), 200, _ref(AgentRun), {}),
    ("GET", "/agents"): (None, 200, {"type": "array", "items": _ref(AgentRun)}, {
        "status": {"type": "string"}, "interaction": {"type": "string"}, "started_by": {"type": "string"},
        "since": {"type": "string"}, "limit": {"type": "integer", "minimum": 1, "maximum": 200},
        "offset": {"type": "integer", "minimum": 0, "maximum": 10_000_000},
        "sort": {"enum": ["started_at", "updated_at"]}, "order": {"enum": ["asc", "desc"]}}),
    ("GET", "/agents/search"): (None, 200, _ref(SearchResult), {
        **{name: {"type": "string"} for name in SEARCH_QUERY},
        "limit": {"type": "integer", "minimum": 1, "maximum": 200},
        "offset": {"type": "integer", "minimum": 0, "maximum": 10_000_000}}),
    ("GET", "/agents/{run_id}"): (None, 200, _ref(AgentRun), {}),
    ("DELETE", "/agents/{run_id}"): (None, 200, _ref(TerminateResult), {"reason": {"type": "string"}}),
    ("POST", "/agents/{run_id}/restart"): (None, 200, _ref(AgentRun), {}),
    ("POST", "/agents/{run_id}/fork"): (None, 200, _ref(AgentRun), {}),
    ("POST", "/agents/{run_id}/signal/{name}"): ({"type": "object"}, 200, _ref(SignalResult), {}),
    ("GET", "/agents/{run_id}/query/{name}"): (None, 200, {}, {}),
    ("GET", "/agents/{run_id}/updates"): (None, 200, {"type": "object", "required": ["messages"], "properties": {
        "messages": {"type": "array", "items": MESSAGE}}}, {"since": {"type": "integer", "minimum": 0}}),
    ("POST", "/agents/{run_id}/updates"): (_ref(PostUpdateRequest), 200, _ref(PostUpdateResponse), {}),
    ("GET", "/agents/{run_id}/stream"): (None, 200, "sse", {
        "since": {"type": "integer", "minimum": 0}, "skipHistory": {"type": "string"},
        "access_token": {"type": "string"}}),
    ("GET", "/agents/{run_id}/artifacts"): (None, 200, {"type": "array", "items": {"type": "string"}}, {}),
    ("GET", "/agents/{run_id}/artifacts/{path}"): (None, 200, "file", {
        "url": {"enum": ["1", "true"]}, "disposition": {"enum": ["inline", "attachment"]}}),
    ("PUT", "/agents/{run_id}/artifacts/{path}"): ("bytes", 201, {"type": "object", "properties": {
        "path": {"type": "string"}, "size": {"type": "integer"}, "content_type": {"type": "string"}}}, {}),
    ("GET", "/agents/{run_id}/internals"): (None, 200, _ref(Internals), {}),
    ("GET", "/agents/{run_id}/details"): (None, 200, _ref(RunDetails), {"include_history": {"type": "boolean"}}),
    ("GET", "/agents/{run_id}/children"): (None, 200, _ref(ChildrenList), {}),
    ("POST", "/agents/{run_id}/events"): (_ref(IngestEventsRequest), 200, _ref(IngestEventsResponse), {}),
    ("GET", "/interactions"): (None, 200, {"type": "array", "items": _ref(InteractionRef)}, {
        **{flag: {"type": "boolean"} for flag in ("is_agent", "is_tool", "is_skill")},
        "name": {"type": "string"}, "status": {"type": "array", "items": {"type": "string"}},
        "tags": {"type": "array", "items": {"type": "string"}},
        "limit": {"type": "integer", "minimum": 1, "maximum": 200},
        "offset": {"type": "integer", "minimum": 0, "maximum": 10_000_000}}),
    ("GET", "/interactions/{interaction_id}"): (None, 200, _ref(InteractionRef), {}),
}
ERRORS = {400: "Bad request", 401: "Missing or invalid token", 403: "Permission missing", 404: "Not found",
          409: "The run's status (or an existing artifact) forbids this", 413: "Too large", 422: "Invalid body"}


# Before OpenAPI 3.2 (`itemSchema`), the schema of an event stream describes each event (as tools read it).
SSE_EVENT: dict[str, Any] = {"type": "object", "properties": {
    "event": {"type": "string"}, "id": {"type": "string"}, "retry": {"type": "integer"},
    "data": {"type": "string", "description": "One agent message (compact format) as JSON"}}}


def _operation(method: str, path: str, summary: str) -> dict[str, Any]:
    request, status, answer, query = SPEC[(method, path)]
    params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
              for name in ("run_id", "name", "path", "interaction_id") if "{" + name + "}" in path]
    params += [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in query.items()]
    if answer == "sse":
        content: dict[str, Any] = {"text/event-stream": {"schema": SSE_EVENT}}
    elif answer == "file":
        content = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                   "application/json": {"schema": _ref(ArtifactUrl)}}
    else:
        content = {"application/json": {"schema": answer}}
    error = {"application/json": {"schema": _ref(ErrorBody)}}
    responses: dict[str, Any] = {str(status): {"description": summary, "content": content}}
    responses.update({str(code): {"description": text, "content": error} for code, text in ERRORS.items()})
    operation: dict[str, Any] = {"summary": summary, "operationId": f"{method.lower()}_{path}", "parameters": params,
                                 "responses": responses, "security": [{"bearer": []}]}
    if request == "bytes":
        operation["requestBody"] = {"required": True, "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    elif request is not None:
        operation["requestBody"] = {"required": method != "POST" or "signal" not in path,
                                    "content": {"application/json": {"schema": request}}}
    return operation


def _analytics() -> dict[str, Any]:
    out = {}
    for name, sub in REPORTS.items():
        model = REPORT_MODELS[name]
        out[f"/agents/analytics/{sub}"] = {"post": {
            "summary": f"Analytics: {sub}", "operationId": f"analytics_{name}", "security": [{"bearer": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(AnalyticsQuery)}}},
            "responses": {"200": {"description": sub, "content": {"application/json": {"schema": _ref(model)}}},
                          **{str(code): {"description": text, "content": {"application/json": {
                              "schema": _ref(ErrorBody)}}} for code, text in ERRORS.items()}}}}
    return out


@cache
def _schemas() -> dict[str, Any]:
    requests = [CreateAgentRunRequest, PostUpdateRequest, IngestEventsRequest, AnalyticsQuery]
    answers = [AgentRun, SearchResult, TerminateResult, SignalResult, PostUpdateResponse, ArtifactUrl, Internals,
               RunDetails, ChildrenList, IngestEventsResponse, ErrorBody, InteractionRef, *REPORT_MODELS.values()]
    pairs = [(model, "validation") for model in requests] + [(model, "serialization") for model in answers]
    _, document = models_json_schema(pairs, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
    schemas: dict[str, Any] = document.get("$defs", {})
    return schemas


def document(api: Sequence[Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for endpoint in api:
        if endpoint.path.startswith("/agents/analytics/"):
            continue
        path = endpoint.path.replace("{path:path}", "{path}")
        paths.setdefault(path, {})[endpoint.method.lower()] = _operation(endpoint.method, path, endpoint.summary)
    paths.update(_analytics())
    paths["/token/issue"] = {"servers": [{"url": "/"}], "post": {
        "summary": "Exchange an API key for a JWT", "operationId": "issue_token", "security": [],
        "requestBody": {"content": {"application/json": {"schema": TOKEN_REQUEST}}},
        "responses": {"200": {"description": "A JWT", "content": {"application/json": {"schema": TOKEN_ANSWER}}},
                      **{str(code): {"description": ERRORS[code], "content": {"application/json": {
                          "schema": _ref(ErrorBody)}}} for code in (400, 401, 413)}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "mcp-agents local Agent Runs service", "version": __version__},
        "servers": [{"url": API_PREFIX}],
        "paths": paths,
        "components": {"schemas": _schemas(),
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }
