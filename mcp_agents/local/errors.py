"""One exception type for every refusal, and the handlers that render the one JSON error shape.

Every error answer is `{"error": "<status text>", "status": <int>, "message": "<what to do>",
"details"?: ...}` (`mcp_agents.models.ErrorBody`), whatever raised it: a `ServiceError`, a
validation failure, an unknown route or an unexpected bug (a 500 that is logged, never leaked).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

log = logging.getLogger(__name__)


class ServiceError(Exception):
    """A refusal with an HTTP status and an actionable message."""

    def __init__(self, status: int, message: str, details: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details
        self.headers = headers


def not_found(what: str) -> ServiceError:
    return ServiceError(404, f"{what} not found")


def error_response(status: int, message: str, details: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    try:
        text = HTTPStatus(status).phrase
    except ValueError:
        text = "Error"
    body: dict[str, Any] = {"error": text, "status": status, "message": message}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


def describe_validation(exc: ValidationError) -> str:
    """`field.path: problem; ...`, short enough to read and precise enough to fix the request."""
    parts = []
    for error in exc.errors()[:10]:
        where = ".".join(str(item) for item in error.get("loc", ())) or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


async def _service_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ServiceError)
    return error_response(exc.status, exc.message, exc.details, exc.headers)


async def _validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ValidationError)
    return error_response(422, f"invalid request: {describe_validation(exc)}")


async def _http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = {404: "no such endpoint; see /api/v1/openapi.json", 405: "method not allowed on this endpoint"}
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, message.get(exc.status_code, str(exc.detail)), headers=headers)


async def _unexpected(_: Request, exc: Exception) -> Response:
    log.exception("unexpected error while serving a request", exc_info=exc)
    return error_response(500, "internal error in the local service; see its log on stderr")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ServiceError: _service_error,
    ValidationError: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}
