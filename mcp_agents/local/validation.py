"""Strict request validation against the hosted service's published schema (the hosted wire format).

Query parameters are read as the document declares them (form style: an array is the repeated
parameter; numbers and booleans are parsed) and, like JSON bodies, checked with a JSON Schema
2020-12 validator over the document itself, so `$ref`s resolve exactly as published. A refusal is
a 400 naming the parameter or body field and what the schema wants; nothing is changed.
Parameters the document does not declare are left to the handler, as the hosted service does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.requests import Request
from starlette.responses import Response

from mcp_agents.local.errors import ServiceError
from mcp_agents.local.limits import read_body
from mcp_agents.models.hosted import DOCUMENT_URI, document, hosted_path
from mcp_agents.models.hosted import operation as published_operation
from mcp_agents.models.paths import API_VERSION

Handler = Callable[[Request], Awaitable[Response]]
_TRUE, _FALSE = ("true", "1"), ("false", "0")
SCHEMA = f"the published schema of API version {API_VERSION}"


@dataclass(frozen=True)
class _Parameter:
    name: str
    kind: str  # the JSON type the text is parsed to
    item_kind: str | None  # for arrays
    validator: Draft202012Validator


@dataclass(frozen=True)
class _Operation:
    parameters: tuple[_Parameter, ...]
    body: Draft202012Validator | None
    body_required: bool


@cache
def _registry() -> Registry[Any]:
    registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(document()))
    return registry


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{DOCUMENT_URI}#/{pointer}"}, registry=_registry())


def _kind(schema: dict[str, Any]) -> str:
    kind = schema.get("type", "string")
    return kind if isinstance(kind, str) else "string"


@cache
def _operation(method: str, template: str) -> _Operation | None:
    path = hosted_path(template)
    operation = published_operation(method, template)
    if operation is None:
        return None
    parameters = []
    for index, parameter in enumerate(operation.get("parameters", [])):
        if parameter.get("in") != "query":
            continue
        schema = parameter.get("schema", {})
        items = schema.get("items") if _kind(schema) == "array" else None
        parameters.append(_Parameter(parameter["name"], _kind(schema), _kind(items) if items else None,
                                     _validator(_pointer("paths", path, method.lower(), "parameters", str(index),
                                                         "schema"))))
    body = operation.get("requestBody")
    body_validator = None
    if body and "application/json" in body.get("content", {}):
        body_validator = _validator(_pointer("paths", path, method.lower(), "requestBody", "content",
                                             "application/json", "schema"))
    return _Operation(tuple(parameters), body_validator, bool(body and body.get("required")))


def _parse(text: str, kind: str, name: str) -> Any:
    if kind in ("number", "integer"):
        try:
            value = float(text)
        except ValueError:
            raise ServiceError(400, f"query parameter {name} must be a number, not {text[:40]!r} ({SCHEMA})") from None
        return int(value) if kind == "integer" and value.is_integer() else value
    if kind == "boolean":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ServiceError(400, f"query parameter {name} must be true or false, not {text[:40]!r} ({SCHEMA})")
    return text


def _leaf(error: ValidationError) -> ValidationError:
    """Under an `anyOf`/`oneOf` nobody matched, the error of the alternative that came closest."""
    while error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        error = best_match(min(branches.values(), key=len))
    return error


def _refuse(where: str, errors: list[ValidationError]) -> ServiceError:
    error = _leaf(best_match(errors))
    field = ".".join(str(part) for part in error.absolute_path)
    place = f"{where}.{field}" if field else where
    return ServiceError(400, f"{place}: {error.message[:300]} ({SCHEMA} refuses it)")


def check_query(request: Request, operation: _Operation) -> None:
    query = request.query_params
    for parameter in operation.parameters:
        texts = query.getlist(parameter.name)
        if not texts:
            continue
        if parameter.item_kind is not None:
            value: Any = [_parse(text, parameter.item_kind, parameter.name) for text in texts]
        elif len(texts) > 1:
            raise ServiceError(400, f"query parameter {parameter.name} takes one value, not {len(texts)} ({SCHEMA})")
        else:
            value = _parse(texts[0], parameter.kind, parameter.name)
        errors = list(parameter.validator.iter_errors(value))
        if errors:
            raise _refuse(f"query parameter {parameter.name}", errors)


async def check_body(request: Request, operation: _Operation) -> None:
    """Read within the handler's limits (bounded while it streams in; finite, bounded nesting), before
    anything else: the handler then reads the same bytes."""
    if operation.body is None:
        return
    limits = request.app.state.services.limits
    raw = await read_body(request, limits.body_bytes)
    request._body = raw  # what Starlette's `Request.body` keeps: the handler's `read_body` streams it again
    if not raw.strip():
        if operation.body_required:
            raise ServiceError(400, f"this request needs a JSON body ({SCHEMA} requires one)")
        return
    data = limits.parse_json(raw)
    errors = list(operation.body.iter_errors(data))
    if errors:
        raise _refuse("body", errors)


def validating(method: str, template: str, handler: Handler) -> Handler:
    """`handler` behind strict validation of its query and body, when the document publishes the route."""
    operation = _operation(method, template)
    if operation is None:
        return handler
    checked: _Operation = operation

    async def endpoint(request: Request) -> Response:
        check_query(request, checked)
        await check_body(request, checked)
        return await handler(request)

    return endpoint
