"""Checks against the hosted service's published contract: its OpenAPI document (with openapi-core)
and the models of its official Python client (`vertesia-client`, generated from the hosted schema).

`Recorder` is an httpx2 transport that keeps every exchange the client makes; `problems` lists
what the document and the official models refuse in one exchange (empty when it conforms).
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx2
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.finders import APICallPathFinder
from werkzeug.datastructures import Headers, ImmutableMultiDict

from mcp_agents.models.hosted import document

HOSTED_ROOT = "https://api.us1.vertesia.io"  # the document's server; local requests are checked as if sent there
_NESTED_ARTIFACT = re.compile(r"^(/api/v1/agents/[^/]+/(?:artifacts|artifact-content)/)(.+)$")


def _drop_unusable_discriminators(node: Any) -> None:
    """A discriminator without `mapping` over inline `oneOf` members (`WorkflowHistory`) names no schema:
    OpenAPI's implicit rule (the value is a component name) cannot apply, and openapi-core then refuses
    every value. JSON Schema's `oneOf` still decides, as it does for the official client."""
    if isinstance(node, dict):
        members = node.get("oneOf") or node.get("anyOf") or []
        if "discriminator" in node and "mapping" not in node["discriminator"] and any(
                isinstance(member, dict) and "$ref" not in member for member in members):
            del node["discriminator"]
        for value in node.values():
            _drop_unusable_discriminators(value)
    elif isinstance(node, list):
        for value in node:
            _drop_unusable_discriminators(value)


@cache
def openapi() -> OpenAPI:
    spec = copy.deepcopy(document())
    if spec.get("security") is None:  # the published document says `security: null`, which 3.1 does not allow
        spec.pop("security", None)
    _drop_unusable_discriminators(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Unsupported scheme type" of its OpenID scheme
        return OpenAPI.from_dict(spec)


@cache
def official_models() -> Any:
    from vertesia_client.openapi import models  # slow (thousands of generated models): loaded once, when needed

    return models


@dataclass
class Exchange:
    request: httpx2.Request
    body: bytes
    response: httpx2.Response | None = None  # None for a stream (its frames are checked as messages)


@dataclass
class Recorder(httpx2.AsyncBaseTransport):
    inner: httpx2.AsyncBaseTransport = field(default_factory=httpx2.AsyncHTTPTransport)
    exchanges: list[Exchange] = field(default_factory=list)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        body = await request.aread()
        response = await self.inner.handle_async_request(request)
        exchange = Exchange(request, body)
        self.exchanges.append(exchange)
        if "text/event-stream" not in response.headers.get("content-type", ""):
            await response.aread()  # kept on the response: the client reads the same (decoded) bytes
            exchange.response = response
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class _Request:
    """What openapi-core reads of a request."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes | None
    variables: dict[str, Any]
    host_url: str = HOSTED_ROOT

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def parameters(self) -> RequestParameters:
        return RequestParameters(query=ImmutableMultiDict(self.query), header=Headers(self.headers),
                                 cookie=ImmutableMultiDict(), path=self.variables)


@dataclass
class _Response:
    status_code: int
    headers: dict[str, str]
    data: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def operation_of(method: str, url: httpx2.URL) -> tuple[dict[str, Any], str, dict[str, Any]] | None:
    """(operation, hosted path, path variables) of a request, or None when the document does not publish it."""
    path = _NESTED_ARTIFACT.sub(lambda match: match[1] + match[2].replace("/", "%2F"), url.raw_path.decode()
                                .split("?")[0])
    try:
        found = APICallPathFinder(openapi().spec, base_url=None).find(method.lower(), HOSTED_ROOT + path)
    except Exception:
        return None
    template = found.path.parts[-1]
    return document()["paths"][template][method.lower()], path, dict(found.path_result.variables)


def _schema_name(reference: dict[str, Any] | None) -> str | None:
    ref = (reference or {}).get("$ref", "")
    return ref.rsplit("/", 1)[-1] or None


def _official(name: str, data: Any) -> list[str]:
    """What the official client's model `name` refuses in `data` (unknown keys included, where it has no extras)."""
    model = getattr(official_models(), name, None)
    if model is None or not isinstance(data, dict | list):
        return []
    try:
        parsed = model.from_dict(data) if isinstance(data, dict) else model.from_json(json.dumps(data))
    except Exception as exc:
        return [f"vertesia-client {name}: {str(exc).splitlines()[0][:300]}"]
    instance = getattr(parsed, "actual_instance", parsed)
    fields = getattr(type(instance), "model_fields", {})
    if isinstance(data, dict) and fields and "additional_properties" not in fields:
        known = {info.alias or key for key, info in fields.items()}
        unknown = sorted(set(data) - known)
        if unknown:
            return [f"vertesia-client {type(instance).__name__}: unknown properties {unknown}"]
    return []


def _reason(error: Exception) -> str:
    """openapi-core's error and the schema errors under it (which field, what the schema wants)."""
    cause = error.__cause__
    details = [f"{'.'.join(str(part) for part in item.absolute_path) or '(root)'}: {item.message[:200]}"
               for item in getattr(cause, "schema_errors", ())]
    return f"{type(error).__name__}: {'; '.join(details) or str(cause or error)[:400]}"


def problems(exchange: Exchange) -> list[str]:
    """Everything the published document and the official models refuse in one exchange."""
    request = exchange.request
    found = operation_of(request.method, request.url)
    if found is None:
        return []
    operation, path, variables = found
    headers = {key.lower(): value for key, value in request.headers.items()}
    checked = _Request(request.method.lower(), path, list(request.url.params.multi_items()), headers,
                       exchange.body or None, variables)
    out = [f"request: {_reason(error)}" for error in openapi().iter_request_errors(checked)]
    body_schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if exchange.body and body_schema:
        out += _official(_schema_name(body_schema) or "", json.loads(exchange.body))
    response = exchange.response
    if response is not None and operation["operationId"] == "GetAgentRunArtifact" and "url" not in request.url.params:
        response = None  # streamed content: the document describes only the `?url=1` answer of this operation
    if response is not None:
        answer = _Response(response.status_code, {key.lower(): value for key, value in response.headers.items()},
                           response.content)
        out += [f"response {response.status_code}: {_reason(error)}"
                for error in openapi().iter_response_errors(checked, answer)]
        status = response.status_code
        declared = operation["responses"].get(str(status)) or operation["responses"].get(f"{status // 100}XX", {})
        schema = declared.get("content", {}).get("application/json", {}).get("schema")
        if schema and "json" in answer.content_type:
            out += _official(_schema_name(schema) or "", json.loads(response.content))
    return out
