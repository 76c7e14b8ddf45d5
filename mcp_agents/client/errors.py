"""The client's exceptions, and the one place that maps an HTTP answer to one of them.

```
AgentRunsError
 ├── ConfigurationError          bad/missing configuration; no request sent
 ├── InvalidRequestError         refused before any request (bad artifact path, empty id, ...); also a ValueError
 ├── CallerBusyError             this credential's share of concurrent requests stayed full (see `_limits.py`)
 ├── APIConnectionError          network failure after retries (.request_method, .url without query/credentials)
 │    └── APITimeoutError
 └── APIStatusError              .status_code, .error (service's error text), .message, .details, .body
      ├── BadRequestError 400        ├── AuthenticationError 401   ├── PermissionDeniedError 403
      ├── NotFoundError 404          ├── ConflictError 409         ├── UnprocessableEntityError 422
      ├── RateLimitError 429 (.retry_after: float | None)          └── ServerError 5xx
```

No exception text ever holds a credential: URLs are reduced to scheme, host and path, and bodies
are scrubbed of anything that looks like an API key or a JWT.
"""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime
from typing import Any

import httpx2

_SECRET = re.compile(r"sk-[A-Za-z0-9_\-]{4,}|eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_MAX_TEXT = 500


def redact(text: str) -> str:
    """`text` with API keys and JWTs replaced by `[redacted]`."""
    return _SECRET.sub("[redacted]", text)


def safe_url(url: httpx2.URL | str) -> str:
    """A URL without query, fragment or user info: what may appear in messages and logs."""
    try:
        parsed = url if isinstance(url, httpx2.URL) else httpx2.URL(url)
    except httpx2.InvalidURL:
        return "(invalid URL)"
    port = f":{parsed.port}" if parsed.port else ""
    return redact(f"{parsed.scheme}://{parsed.host}{port}{parsed.path}")


class AgentRunsError(Exception):
    """Base class of every error this client raises."""


class ConfigurationError(AgentRunsError):
    """The client is not configured well enough to send the request; nothing was sent."""


class InvalidRequestError(AgentRunsError, ValueError):
    """The call's arguments were refused before any request was made."""


class CallerBusyError(AgentRunsError):
    """The credential's share of concurrent upstream requests stayed full past the queueing bound; nothing was sent."""


class APIConnectionError(AgentRunsError):
    """The service could not be reached (after retries)."""

    def __init__(self, message: str, *, request_method: str, url: str) -> None:
        super().__init__(redact(message))
        self.request_method = request_method
        self.url = url


class APITimeoutError(APIConnectionError):
    """The service did not answer in time (after retries)."""


class APIStatusError(AgentRunsError):
    """The service answered with an error status."""

    status_code: int

    def __init__(self, message: str, *, status_code: int, error: str | None = None, api_message: str | None = None,
                 details: str | None = None, body: Any = None, request_method: str = "", url: str = "") -> None:
        super().__init__(redact(message))
        self.status_code = status_code
        self.error = error
        self.message = api_message
        self.details = details
        self.body = body
        self.request_method = request_method
        self.url = url


class BadRequestError(APIStatusError):
    """400: the service refused the request's content."""


class AuthenticationError(APIStatusError):
    """401: the credential is missing, invalid or expired."""


class PermissionDeniedError(APIStatusError):
    """403: the credential is valid but not allowed to do this."""


class NotFoundError(APIStatusError):
    """404: the run (or artifact, query handler, ...) does not exist or is not visible."""


class ConflictError(APIStatusError):
    """409: the run is not in a state that allows this (e.g. restarting a running run)."""


class UnprocessableEntityError(APIStatusError):
    """422: the request was well formed but its values are invalid."""


class RateLimitError(APIStatusError):
    """429: too many requests."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the service failed."""


_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError, 401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError,
    409: ConflictError, 422: UnprocessableEntityError, 429: RateLimitError,
}
_ADVICE: dict[int, str] = {
    400: "Check the request's parameters against the API reference.",
    401: "Check the API key or token (VERTESIA_API_KEY / VERTESIA_TOKEN): it is missing, invalid or expired.",
    403: "The credential lacks the permission for this (workflow:run); use a key of a principal that has it.",
    404: "Check the id or name: it does not exist, or is not visible to this credential.",
    409: "The run is not in a state that allows this; retrieve it to see its status.",
    422: "Fix the values the service reported as invalid.",
    429: "Too many requests: wait and retry later, or lower the request rate.",
}
_SERVER_ADVICE = "The service failed; retry later. If it persists, report it with the time and the run id."


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return redact(text[:_MAX_TEXT])


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def error_from_response(response: httpx2.Response, *, body: Any = None) -> APIStatusError:
    """The exception for an error answer: its class from the status, its text from the service's body.

    `body` is the decoded JSON body when the caller already has it; otherwise it is read from the
    (already loaded) response. The message says what happened and what to do about it.
    """
    status = response.status_code
    if body is None:
        try:
            body = response.json()
        except (ValueError, UnicodeDecodeError, httpx2.ResponseNotRead):
            try:
                body = response.text or None
            except (httpx2.ResponseNotRead, UnicodeDecodeError):
                body = None
    error = api_message = details = None
    if isinstance(body, dict):
        error = _text(body.get("error"))
        api_message = _text(body.get("message"))
        details = _text(body.get("details"))
    elif isinstance(body, str):
        api_message = _text(body.strip()) or None
    reason = api_message or error or response.reason_phrase or "error"
    advice = _ADVICE.get(status, _SERVER_ADVICE if status >= 500 else "Check the request.")
    method = response.request.method if _has_request(response) else ""
    url = safe_url(response.request.url) if _has_request(response) else ""
    where = f" ({method} {url})" if method else ""
    detail = f" [{details}]" if details else ""
    message = f"HTTP {status}: {reason}{detail}{where}. {advice}"
    safe_body = _scrub(body)
    kwargs: dict[str, Any] = {"status_code": status, "error": error, "api_message": api_message,
                              "details": details, "body": safe_body, "request_method": method, "url": url}
    if status == 429:
        return RateLimitError(message, retry_after=parse_retry_after(response.headers.get("retry-after")), **kwargs)
    cls = _CLASSES.get(status, ServerError if status >= 500 else APIStatusError)
    return cls(message, **kwargs)


def _has_request(response: httpx2.Response) -> bool:
    try:
        response.request  # noqa: B018 - raises when the response was built without a request
    except RuntimeError:
        return False
    return True


def _scrub(body: Any) -> Any:
    if isinstance(body, str):
        return redact(body[: _MAX_TEXT * 4])
    if isinstance(body, dict):
        return {str(k): _scrub(v) for k, v in body.items()}
    if isinstance(body, list):
        return [_scrub(v) for v in body]
    return body
