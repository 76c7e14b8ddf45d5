"""`AgentRunsClient`: the async client for every endpoint of the Agent Runs API, grouped by area."""

from __future__ import annotations

import copy
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import httpx2

from mcp_agents.client import _constants as C
from mcp_agents.client._auth import Credentials
from mcp_agents.client._limits import UpstreamLimits
from mcp_agents.client._request import HttpPool, Requester, RetryPolicy
from mcp_agents.client._streaming import StreamPolicy
from mcp_agents.client.analytics import AnalyticsResource
from mcp_agents.client.artifacts import ArtifactsResource
from mcp_agents.client.communication import CommunicationResource
from mcp_agents.client.errors import ConfigurationError, safe_url
from mcp_agents.client.interactions import InteractionsResource
from mcp_agents.client.messages import MessagesResource
from mcp_agents.client.observability import ObservabilityResource
from mcp_agents.client.runs import RunsResource
from mcp_agents.client.telemetry import TelemetryResource
from mcp_agents.models.paths import API_VERSION
from mcp_agents.settings import DEFAULT_STS_URL, GLOBAL_API_URL

if TYPE_CHECKING:
    from mcp_agents.settings import Settings


def _check_url(url: str, what: str) -> str:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"{what} must be an http(s) URL, not {url!r}")
    return url.rstrip("/")


def upstream_limits(settings: Settings) -> UpstreamLimits:
    """The pool size and per-credential shares from the settings."""
    return UpstreamLimits(connections=settings.upstream_connections, caller_requests=settings.caller_requests,
                          caller_streams=settings.caller_streams)


class AgentRunsClient:
    """Async client of the Agent Runs API. Use as `async with AgentRunsClient(api_key=...) as client:`.

    Give either `api_key` (an `sk-` key, exchanged at `sts_url` for short-lived JWTs, refreshed
    automatically) or `token` (a JWT used as is); with both, the key is used. `http_client` lets
    several clients share one connection pool; a client never closes a pool it did not create.
    `retry_policy` and `stream_policy` tune retries and stream following (a `retry_policy` overrides
    `max_retries`); `limits` sizes the pool and each credential's share of it (`_limits.py`); the
    defaults are those of `_constants.py`.
    """

    runs: RunsResource
    communication: CommunicationResource
    messages: MessagesResource
    artifacts: ArtifactsResource
    observability: ObservabilityResource
    telemetry: TelemetryResource
    analytics: AnalyticsResource
    interactions: InteractionsResource

    def __init__(self, *, base_url: str = GLOBAL_API_URL, api_key: str | None = None, token: str | None = None,
                 sts_url: str = DEFAULT_STS_URL, api_version: str = API_VERSION, timeout: float = C.DEFAULT_TIMEOUT,
                 user_agent: str | None = None, max_retries: int = C.DEFAULT_MAX_RETRIES,
                 http_client: httpx2.AsyncClient | None = None, retry_policy: RetryPolicy | None = None,
                 stream_policy: StreamPolicy | None = None, limits: UpstreamLimits | None = None) -> None:
        if not timeout or timeout <= 0:
            raise ConfigurationError("timeout must be a positive number of seconds")
        if max_retries < 0:
            raise ConfigurationError("max_retries must be >= 0")
        self.base_url = _check_url(base_url, "base_url")
        self.sts_url = _check_url(sts_url, "sts_url")
        self.api_version = api_version
        self.timeout = float(timeout)
        self.user_agent = user_agent or C.USER_AGENT
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.stream_policy = stream_policy or StreamPolicy()
        pool = HttpPool(http_client, timeout=self.timeout, limits=limits or UpstreamLimits())
        self._wire(pool, owns_pool=True, api_key=api_key, token=token)

    def _wire(self, pool: HttpPool, *, owns_pool: bool, api_key: str | None, token: str | None) -> None:
        self._pool = pool
        self._owns_pool = owns_pool
        self._credentials = Credentials(api_key=api_key, token=token, sts_url=self.sts_url,
                                        headers={"User-Agent": self.user_agent, "x-api-version": self.api_version})
        requester = Requester(pool=pool, base_url=self.base_url, credentials=self._credentials,
                              api_version=self.api_version, user_agent=self.user_agent, timeout=self.timeout,
                              retry=self.retry_policy)
        self._credentials.attach(requester.request)
        self._requester = requester
        self.runs = RunsResource(requester)
        self.communication = CommunicationResource(requester)
        self.messages = MessagesResource(requester, self.stream_policy)
        self.artifacts = ArtifactsResource(requester)
        self.observability = ObservabilityResource(requester)
        self.telemetry = TelemetryResource(requester)
        self.analytics = AnalyticsResource(requester)
        self.interactions = InteractionsResource(requester)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> AgentRunsClient:
        """A client configured from `Settings` (URL, region, credential, version, timeout); keywords win."""
        options: dict[str, Any] = {
            "base_url": settings.api_url, "api_key": settings.api_key or None, "token": settings.token or None,
            "sts_url": settings.sts_url, "api_version": settings.api_version, "timeout": settings.timeout,
            "limits": upstream_limits(settings),
        }
        options.update(overrides)
        return cls(**options)

    def with_credentials(self, *, api_key: str | None = None, token: str | None = None) -> AgentRunsClient:
        """A view of this client with another credential, sharing its connection pool. No I/O.

        Closing the view leaves the pool open; the original client owns it.
        """
        view = copy.copy(self)
        view._wire(self._pool, owns_pool=False, api_key=api_key, token=token)
        return view

    @property
    def credentials(self) -> Credentials:
        """The credential provider (exposes `exchanges`; never the secret)."""
        return self._credentials

    def __repr__(self) -> str:
        kind = ("api_key" if self._credentials.refreshable else "token" if self._credentials.configured
                else "none")
        return f"AgentRunsClient(base_url={safe_url(self.base_url)!r}, credential={kind!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool if this client created it (views leave it to their origin)."""
        if self._owns_pool:
            await self._pool.aclose()
