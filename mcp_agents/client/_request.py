"""The one request path: headers, credentials, retries, error mapping and response decoding.

Retry rules (bounded by `RetryPolicy.max_retries` attempts AND `max_total` seconds):
- GET, PUT, DELETE (idempotent) retry on connection errors and timeouts, 429, 502, 503, 504.
- POST retries only when the service provably did not act on it: the connection was never made
  (connect error, connect or pool timeout), or the answer was 429 (refused by rate limiting
  before processing). A 5xx, a read timeout or a dropped connection after sending may have
  created something, so a POST is not repeated then, even with `Retry-After`.
- A `Retry-After` (seconds or HTTP date) is honoured; one longer than `max_retry_after`, or past
  the total budget, is not waited for and the error is raised with `.retry_after` set.
- A 401 with an API key re-exchanges the key once and repeats the request.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, TypeVar

import anyio
import httpx2
from pydantic import BaseModel, ValidationError

from mcp_agents.client import _constants as C
from mcp_agents.client import _logging
from mcp_agents.client._auth import Credentials
from mcp_agents.client._limits import CallerSlots, SlotTable, UpstreamLimits
from mcp_agents.client.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ConfigurationError,
    error_from_response,
    parse_retry_after,
    safe_url,
)

logger = logging.getLogger("mcp_agents.client")
ModelT = TypeVar("ModelT", bound=BaseModel)
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_NEVER_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How ordinary requests retry. Tests shrink the delays; production keeps the defaults."""

    max_retries: int = C.DEFAULT_MAX_RETRIES
    base_delay: float = C.RETRY_BASE_DELAY
    max_delay: float = C.RETRY_MAX_DELAY
    jitter: float = C.RETRY_JITTER
    max_total: float = C.RETRY_MAX_TOTAL
    max_retry_after: float = C.RETRY_AFTER_MAX

    def backoff(self, retry: int) -> float:
        """Delay before retry number `retry` (0-based): exponential, capped, with jitter."""
        delay = min(self.max_delay, self.base_delay * 2.0**retry)
        return delay * (1 - self.jitter * random.random())


def cookieless_jar() -> CookieJar:
    """A jar that keeps nothing: the API authenticates by bearer, so a cookie one credential's answer
    sets must never ride along with another credential's request over the shared pool."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class HttpPool:
    """The httpx2 client behind a client and its credential views, built on first use, and the slots
    that share it fairly between credentials (`_limits.py`).

    Building it loads the TLS trust store (tens of milliseconds), which a server should not pay
    before it answers its first `tools/list`. A pool closes only a client it built. It keeps no
    cookies (`cookieless_jar`).
    """

    def __init__(self, client: httpx2.AsyncClient | None, *, timeout: float, limits: UpstreamLimits) -> None:
        self._client = client
        self._owned = client is None
        self._timeout = timeout
        self.limits = limits
        self.slots = SlotTable(limits)
        _logging.install()

    @property
    def client(self) -> httpx2.AsyncClient:
        if self._client is None:
            self._client = httpx2.AsyncClient(
                timeout=httpx2.Timeout(self._timeout, connect=min(self._timeout, C.DEFAULT_CONNECT_TIMEOUT)),
                limits=self.limits.http_limits(),
                cookies=cookieless_jar())
        return self._client

    async def aclose(self) -> None:
        if self._owned and self._client is not None:
            await self._client.aclose()
            self._client = None


class Requester:
    """Sends requests for one credential over a shared HTTP client, within the credential's share of it."""

    def __init__(self, *, pool: HttpPool, base_url: str, credentials: Credentials, api_version: str,
                 user_agent: str, timeout: float, retry: RetryPolicy) -> None:
        self._pool = pool
        self.slots: CallerSlots = pool.slots.for_credential(credentials.fingerprint)
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.api_version = api_version
        self.user_agent = user_agent
        self.timeout = timeout
        self.retry = retry

    def __repr__(self) -> str:
        return f"Requester(base_url={self.base_url!r})"

    @property
    def http(self) -> httpx2.AsyncClient:
        return self._pool.client

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def headers(self, token: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {token}", "x-api-version": self.api_version, "User-Agent": self.user_agent}
        if extra:
            out.update(extra)
        return out

    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      json: Any = None, content: bytes | None = None, headers: Mapping[str, str] | None = None,
                      url: str | None = None, authenticate: bool = True, idempotent: bool | None = None,
                      follow_redirects: bool = False) -> httpx2.Response:
        """Send with retries; return the loaded 2xx response or raise the mapped error.

        `idempotent=True` lets a side-effect-free POST (analytics) retry like a GET; `url` replaces
        the API URL (signed storage URLs, sent with `authenticate=False`).
        """
        method = method.upper()
        target = url or self.url(path)
        idempotent = method in IDEMPOTENT if idempotent is None else idempotent
        policy = self.retry
        deadline = time.monotonic() + policy.max_total
        retries = 0
        reauthenticated = False
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        while True:
            token = await self.credentials.get() if authenticate else ""
            sent_headers = self.headers(token, headers) if authenticate else dict(headers or {})
            try:
                async with self.slots.request():
                    response = await self.http.request(method, target, params=clean_params or None, json=json,
                                                       content=content, headers=sent_headers, timeout=self.timeout,
                                                       follow_redirects=follow_redirects)
            except httpx2.TransportError as exc:
                safe = idempotent or isinstance(exc, _NEVER_SENT)
                delay = policy.backoff(retries)
                if safe and retries < policy.max_retries and time.monotonic() + delay < deadline:
                    logger.info("%s %s failed (%s); retry %d in %.2f s", method, safe_url(target),
                                type(exc).__name__, retries + 1, delay)
                    retries += 1
                    await anyio.sleep(delay)
                    continue
                raise _connection_error(exc, method, target, retries) from None
            except httpx2.RequestError as exc:  # undecodable body, redirect loop: not worth repeating
                raise _connection_error(exc, method, target, retries) from None
            except httpx2.InvalidURL:
                raise ConfigurationError(f"{safe_url(self.base_url)}: not a valid URL; check VERTESIA_API_URL "
                                         "and the ids passed") from None
            if response.status_code == 401 and authenticate and self.credentials.refreshable and not reauthenticated:
                reauthenticated = True
                self.credentials.invalidate(token)
                logger.info("%s %s: 401, exchanging the API key again", method, safe_url(target))
                continue
            if response.status_code < 400:
                return response
            if response.status_code in C.RETRYABLE_STATUS:
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                allowed = idempotent or response.status_code == 429
                delay = retry_after if retry_after is not None else policy.backoff(retries)
                if (allowed and retries < policy.max_retries and delay <= policy.max_retry_after
                        and time.monotonic() + delay < deadline):
                    logger.info("%s %s: HTTP %d; retry %d in %.2f s", method, safe_url(target),
                                response.status_code, retries + 1, delay)
                    retries += 1
                    await anyio.sleep(delay)
                    continue
            raise error_from_response(response)

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON body of a successful request (None for an empty body)."""
        response = await self.request(method, path, **kwargs)
        return decode_json(response)

    async def model(self, model: type[ModelT], method: str, path: str, **kwargs: Any) -> ModelT:
        response = await self.request(method, path, **kwargs)
        return parse_model(model, decode_json(response), response)


def decode_json(response: httpx2.Response) -> Any:
    if not response.content.strip():
        return None
    try:
        return response.json()
    except ValueError:
        raise _unexpected(response, "a body that is not JSON") from None


def parse_model(model: type[ModelT], data: Any, response: httpx2.Response) -> ModelT:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _unexpected(response, f"a body that is not a valid {model.__name__} "
                                    f"({exc.error_count()} problem(s))") from None


def _unexpected(response: httpx2.Response, what: str) -> APIStatusError:
    method, url = response.request.method, safe_url(response.request.url)
    return APIStatusError(
        f"{method} {url} answered HTTP {response.status_code} with {what}; check the base URL points at the "
        "Agent Runs API (…/api/v1) and the API version.",
        status_code=response.status_code, request_method=method, url=url,
    )


def _connection_error(exc: httpx2.RequestError, method: str, url: str, retries: int) -> APIConnectionError:
    where = safe_url(url)
    tries = f" after {retries + 1} attempt(s)" if retries else ""
    if isinstance(exc, httpx2.TimeoutException):
        return APITimeoutError(f"{method} {where} timed out ({type(exc).__name__}){tries}; retry later or raise "
                               "the timeout (MCP_AGENTS_TIMEOUT).", request_method=method, url=where)
    return APIConnectionError(f"{method} {where} failed ({type(exc).__name__}){tries}; check the base URL and "
                              "the network.", request_method=method, url=where)
