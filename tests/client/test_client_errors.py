"""Error mapping: one exception class per status, the service's body read, a message that says what to do."""

from __future__ import annotations

import httpx2
import pytest

from mcp_agents.client import (
    AgentRunsClient,
    AgentRunsError,
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
)
from mcp_agents.client.errors import error_from_response, redact
from tests.client.conftest import make_client
from tests.support.scripted_api import ScriptedAPI

CASES = [
    (400, BadRequestError, "parameters"),
    (401, AuthenticationError, "API key or token"),
    (403, PermissionDeniedError, "permission"),
    (404, NotFoundError, "id or name"),
    (409, ConflictError, "status"),
    (422, UnprocessableEntityError, "invalid"),
    (429, RateLimitError, "retry later"),
    (500, ServerError, "retry later"),
    (503, ServerError, "retry later"),
    (504, ServerError, "retry later"),
]


def response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx2.Response:
    request = httpx2.Request("GET", "https://api.example.com/api/v1/agents/r1?access_token=eyJa.eyJb.c")
    return httpx2.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(("status", "cls", "advice"), CASES)
def test_status_maps_to_class_with_body_and_advice(status: int, cls: type[APIStatusError], advice: str) -> None:
    body = {"error": "Some Error", "status": status, "message": "what went wrong", "details": "field x"}
    error = error_from_response(response(status, body, {"Retry-After": "3"}))
    assert type(error) is cls and isinstance(error, AgentRunsError)
    assert (error.status_code, error.error, error.message, error.details) == (status, "Some Error",
                                                                              "what went wrong", "field x")
    text = str(error)
    assert f"HTTP {status}" in text and "what went wrong" in text and "field x" in text
    assert advice in text
    assert "GET https://api.example.com/api/v1/agents/r1" in text and "access_token" not in text
    if status == 429:
        assert isinstance(error, RateLimitError) and error.retry_after == 3.0


def test_non_json_and_empty_bodies_still_map() -> None:
    request = httpx2.Request("POST", "https://api.example.com/api/v1/agents")
    error = error_from_response(httpx2.Response(502, text="<html>bad gateway</html>", request=request))
    assert isinstance(error, ServerError) and "bad gateway" in str(error)
    error = error_from_response(httpx2.Response(418, request=request))
    assert type(error) is APIStatusError and error.status_code == 418


def test_invalid_request_error_is_a_value_error() -> None:
    assert issubclass(InvalidRequestError, ValueError)


def test_redact_removes_keys_and_jwts() -> None:
    text = "key sk-abc123DEF456 and token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-nature end"
    assert redact(text) == "key [redacted] and token [redacted] end"


@pytest.mark.parametrize(("status", "cls", "advice"), CASES)
async def test_real_server_errors_are_mapped(api: ScriptedAPI, client: AgentRunsClient, status: int,
                                             cls: type[APIStatusError], advice: str) -> None:
    api.script(status, times=10, path="/agents", body={"error": "E", "status": status, "message": f"m{status}"},
               headers={"Retry-After": "100"})
    with pytest.raises(cls, match=f"m{status}") as caught:
        await client.runs.create(interaction="Echo")
    assert caught.value.request_method == "POST"
    assert caught.value.body == {"error": "E", "status": status, "message": f"m{status}"}


async def test_a_non_json_success_body_is_reported(api: ScriptedAPI) -> None:
    api.script(200, times=1, path="/agents", body="just text")
    async with make_client(api.root, api_key=api.api_key) as client:
        with pytest.raises(APIStatusError, match="not a valid RunList"):
            await client.runs.list()
