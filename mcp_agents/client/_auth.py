"""Credentials: a JWT used as is, or an `sk-` API key exchanged at the token service and cached.

The JWT from an exchange is refreshed shortly before it expires (from `expires_in`, else the
JWT's own `exp`). Concurrent callers share one exchange through a lock. After a 401 the request
path calls `invalidate(token)`; only the first caller holding that token clears the cache, so a
burst of 401s still costs one exchange. Neither the key nor the token appears in any repr.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx2

from mcp_agents.client._constants import TOKEN_DEFAULT_TTL, TOKEN_REFRESH_MARGIN
from mcp_agents.client.errors import (
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    PermissionDeniedError,
)
from mcp_agents.models.paths import TOKEN_ISSUE

logger = logging.getLogger(__name__)
API_KEY_PREFIX = "sk-"
Send = Callable[..., Awaitable[httpx2.Response]]


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim (epoch seconds) of a JWT, read without verifying it; None when absent."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, UnicodeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


class Credentials:
    """Resolves the bearer token for each request; exchanges and refreshes API keys."""

    def __init__(self, *, api_key: str | None, token: str | None, sts_url: str, headers: dict[str, str]) -> None:
        # A caller may pass an sk- key where a token is expected (MCP pass-through): treat it as a key.
        if token and token.startswith(API_KEY_PREFIX) and not api_key:
            api_key, token = token, None
        if api_key is not None and not api_key.strip():
            api_key = None
        self._api_key = api_key
        self._static = None if api_key else token or None  # with both, the refreshable key wins
        self._sts_url = sts_url.rstrip("/")
        self._headers = headers
        self._send: Send | None = None
        self._lock = anyio.Lock()
        self._cached: str | None = None
        self._expires_at = 0.0  # monotonic seconds
        self._refresh_at = 0.0
        self.exchanges = 0
        """How many key exchanges were made (tests and diagnostics read it)."""

    def __repr__(self) -> str:
        kind = "api_key" if self._api_key else "token" if self._static else "none"
        return f"Credentials(kind={kind!r}, sts_url={self._sts_url!r})"

    def attach(self, send: Send) -> None:
        """Send exchanges through the client's one request path (`Requester.request`), with its retries."""
        self._send = send

    @property
    def fingerprint(self) -> str:
        """A non-reversible name of the credential ("" for none): what per-credential state is keyed by."""
        secret = self._api_key or self._static
        return hashlib.sha256(secret.encode()).hexdigest() if secret else ""

    @property
    def configured(self) -> bool:
        return bool(self._api_key or self._static)

    @property
    def refreshable(self) -> bool:
        """True when a fresh token can be obtained after a 401 (an API key is configured)."""
        return self._api_key is not None

    async def get(self) -> str:
        """The bearer token to send now."""
        if self._static is not None:
            return self._static
        if self._api_key is None:
            raise ConfigurationError(
                "No credential configured: set VERTESIA_API_KEY (an sk- key) or VERTESIA_TOKEN (a JWT), "
                "or pass api_key=/token= to AgentRunsClient."
            )
        if self._cached is not None and time.monotonic() < self._refresh_at:
            return self._cached
        async with self._lock:
            if self._cached is not None and time.monotonic() < self._refresh_at:
                return self._cached
            self._cached = await self._exchange(self._api_key)
            return self._cached

    def invalidate(self, token: str) -> None:
        """Forget `token` after the service refused it, so the next `get()` exchanges again."""
        if self._cached is not None and token == self._cached:
            self._cached = None
            self._refresh_at = 0.0

    async def _exchange(self, api_key: str) -> str:
        if self._send is None:
            raise ConfigurationError("credentials are not attached to a client")
        url = f"{self._sts_url}{TOKEN_ISSUE}"
        headers = {**self._headers, "Authorization": f"Bearer {api_key}"}
        started = time.monotonic()
        try:
            # Issuing a token changes nothing on the service: it retries like a read.
            response = await self._send("POST", "", url=url, json={"type": "apikey", "key": api_key},
                                        headers=headers, authenticate=False, idempotent=True)
        except (AuthenticationError, PermissionDeniedError) as exc:
            raise AuthenticationError(
                f"The token service refused the API key (HTTP {exc.status_code}); check VERTESIA_API_KEY: it is "
                "invalid, revoked or for another environment.", status_code=exc.status_code, error=exc.error,
                api_message=exc.message, details=exc.details, body=exc.body, request_method="POST", url=exc.url,
            ) from None
        except APIConnectionError as exc:
            cls = APITimeoutError if isinstance(exc, APITimeoutError) else APIConnectionError
            raise cls(f"Could not get a token from the token service: {exc} Check VERTESIA_STS_URL.",
                      request_method="POST", url=exc.url) from None
        token, expires_in = self._read_answer(response)
        self.exchanges += 1
        ttl = self._ttl(token, expires_in)
        margin = min(TOKEN_REFRESH_MARGIN, ttl / 2)
        self._expires_at = started + ttl
        self._refresh_at = self._expires_at - margin
        logger.debug("exchanged the API key for a token valid %.0f s", ttl)
        return token

    def _read_answer(self, response: httpx2.Response) -> tuple[str, float | None]:
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ConfigurationError("The token service answered without a token; check VERTESIA_STS_URL points "
                                     "at the token service.")
        expires_in = body.get("expires_in") if isinstance(body, dict) else None
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0:
            return token, float(expires_in)
        return token, None

    @staticmethod
    def _ttl(token: str, expires_in: float | None) -> float:
        if expires_in is not None:
            return expires_in
        exp = jwt_expiry(token)
        if exp is not None:
            return max(0.0, exp - time.time())
        return TOKEN_DEFAULT_TTL
