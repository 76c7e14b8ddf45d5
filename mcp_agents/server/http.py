"""Streamable HTTP serving: `/mcp`, `/healthz`, DNS-rebinding protection and bearer pass-through.

Credentials: a caller's `Authorization: Bearer <JWT or sk- key>` is accepted by shape here
(`PassThroughVerifier`) and validated by the Agent Runs service when the request uses it (see
`deps.client_for`), so one server can serve many users without holding their credentials. With
`--auth optional` (the default, loopback only) a request without a bearer uses the server's own
credential; a bearer that is present but malformed is refused, never replaced by the server's.
With `--auth required` every `/mcp` request needs a bearer; it is the only way to bind a
non-loopback address.

The app is assembled from the SDK's parts rather than with `MCPServer(auth=..., token_verifier=...)`
because the SDK's auth always requires a token, and optional pass-through needs the fallback.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Literal

from mcp.server import MCPServer
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.mcpserver import RequestStateSecurity
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mcp_agents import __version__
from mcp_agents.server.deps import API_KEY_PREFIX, ServerDeps, credential_key
from mcp_agents.settings import OPTION_BY_NAME, Settings

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
HttpAuth = Literal["optional", "required"]
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_API_KEY_SHAPE = re.compile(r"^sk-[A-Za-z0-9_\-]{8,512}$")
_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*$")
MAX_BEARER_CHARS = 16_384
REQUEST_STATE_KEY_BYTES = 32


class HttpConfigError(ValueError):
    """The HTTP options are unsafe or inconsistent; the message says what to change."""


def _csv(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class HttpOptions:
    """The HTTP-only options (declared in `settings.OPTIONS`, parsed here where they are used)."""

    auth: HttpAuth = "optional"
    stateless: bool = False
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = field(default=())
    request_state_key: str = field(default="", repr=False)

    @classmethod
    def load(cls, environ: Mapping[str, str], **overrides: str | bool | None) -> HttpOptions:
        """From the environment, then explicit values (CLI flags); bad values raise `HttpConfigError`."""
        raw: dict[str, str] = {}
        for name in ("http_auth", "stateless", "allowed_hosts", "allowed_origins", "request_state_key"):
            option = OPTION_BY_NAME[name]
            value = overrides.get(name)
            if value is None:
                value = (environ.get(option.env, "") if option.env else "").strip() or option.default
            raw[name] = "true" if value is True else "false" if value is False else str(value)
        auth = raw["http_auth"].strip().lower()
        if auth not in ("optional", "required"):
            raise HttpConfigError(f"--auth must be optional or required, not {raw['http_auth']!r}")
        return cls(
            auth=auth,  # type: ignore[arg-type]
            stateless=raw["stateless"].strip().lower() in {"1", "true", "yes", "on"},
            allowed_hosts=_csv(raw["allowed_hosts"]), allowed_origins=_csv(raw["allowed_origins"]),
            request_state_key=raw["request_state_key"],
        )

    @property
    def callers_only(self) -> bool:
        """Every request brings its own bearer: the server needs no credential of its own."""
        return self.auth == "required"


def request_state_security(value: str) -> RequestStateSecurity | None:
    """The shared sealing of `requestState` for replicas (`MCP_AGENTS_REQUEST_STATE_KEY`), or None (per process).

    Comma-separated keys rotate: the first seals, every one opens. A key of exactly 32 bytes (UTF-8)
    is used as is; any other value is hashed with SHA-256 into 32 bytes, so a passphrase or a base64
    string works too (its strength is the value's). The SDK stretches each key with HKDF into an
    AES-256-GCM key; replicas must also share the server name, which they do.
    """
    keys: list[bytes] = []
    for key in _csv(value):
        raw = key.encode("utf-8")
        if len(raw) != REQUEST_STATE_KEY_BYTES:
            if len(raw) < REQUEST_STATE_KEY_BYTES:
                logger.warning("a MCP_AGENTS_REQUEST_STATE_KEY key is shorter than %d characters: use a long "
                               "random value", REQUEST_STATE_KEY_BYTES)
            raw = hashlib.sha256(raw).digest()
        if raw not in keys:
            keys.append(raw)
    return RequestStateSecurity(keys=keys) if keys else None


def is_loopback(host: str) -> bool:
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings, options: HttpOptions) -> None:
    """Refuse to expose the server beyond this machine unless every request must bring its own credential."""
    if not is_loopback(settings.host) and options.auth != "required":
        raise HttpConfigError(
            f"refusing to serve on non-loopback address {settings.host!r} without authentication: "
            "add --auth required (MCP_AGENTS_HTTP_AUTH=required) so that every request must carry its own "
            "bearer, or bind 127.0.0.1"
        )


def transport_security(settings: Settings, options: HttpOptions) -> TransportSecuritySettings:
    """DNS-rebinding protection, always on: the bind host, localhost variants and the explicit extras."""
    bind = f"[{settings.host}]" if ":" in settings.host and not settings.host.startswith("[") else settings.host
    hosts: list[str] = []
    for name in (bind, *LOCAL_HOSTS):
        for value in (name, f"{name}:*"):
            if value not in hosts:
                hosts.append(value)
    hosts.extend(h for h in options.allowed_hosts if h not in hosts)
    origins = [f"http://{name}:*" for name in dict.fromkeys((bind, *LOCAL_HOSTS))]
    origins.extend(f"http://{name}" for name in dict.fromkeys((bind, *LOCAL_HOSTS)))
    origins.extend(o for o in options.allowed_origins if o not in origins)
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                     allowed_origins=origins)


class PassThroughVerifier(TokenVerifier):
    """Accepts a bearer that looks like a JWT or an `sk-` key; the backend validates it on use."""

    async def verify_token(self, token: str) -> AccessToken | None:
        token = token.strip()
        if not token or len(token) > MAX_BEARER_CHARS:
            return None
        if not (_API_KEY_SHAPE.match(token) or (_JWT_SHAPE.match(token) and not token.startswith(API_KEY_PREFIX))):
            return None
        # client_id names the credential (a hash, never the secret): the SDK binds each handshake-era
        # session to the credential that opened it.
        return AccessToken(token=token, client_id=f"caller-{credential_key(token)}", scopes=[],
                           expires_at=_jwt_expiry(token))


def _jwt_expiry(token: str) -> int | None:
    if token.startswith(API_KEY_PREFIX):
        return None
    from mcp_agents.client._auth import jwt_expiry  # the client's reader: one JWT parser in the package

    exp = jwt_expiry(token)
    return int(exp) if exp is not None else None


ROUTING_HEADERS = (b"mcp-method", b"mcp-name", b"mcp-protocol-version")
_OWS = b" \t"


class TrimmedRoutingHeaders:
    """`Mcp-Method`, `Mcp-Name`, `MCP-Protocol-Version` and `Mcp-Param-*` values without surrounding whitespace.

    RFC 9110 field values exclude leading and trailing whitespace, so a client may send
    `Mcp-Name:  tool ` and mean `tool`; the SDK (and the tasks extension) compare values exactly.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers", ())
            if any(_routing(name) and value != value.strip(_OWS) for name, value in headers):
                scope = {**scope, "headers": [(name, value.strip(_OWS) if _routing(name) else value)
                                              for name, value in headers]}
        await self._app(scope, receive, send)


def _routing(name: bytes) -> bool:
    lowered = name.lower()
    return lowered in ROUTING_HEADERS or lowered.startswith(b"mcp-param-")


class BearerGate:
    """Before `/mcp`: a bearer that is present must have been accepted; `required` demands one."""

    def __init__(self, app: ASGIApp, *, required: bool, resource_metadata_url: AnyHttpUrl | None) -> None:
        self._app = app
        self._required = required
        self._refuse = RequireAuthMiddleware(app, [], resource_metadata_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        authorization = next((v for k, v in scope.get("headers", ()) if k.lower() == b"authorization"), None)
        accepted = isinstance(scope.get("user"), AuthenticatedUser)
        if accepted or (authorization is None and not self._required):
            await self._app(scope, receive, send)
            return
        await self._refuse(scope, receive, send)  # answers 401 with WWW-Authenticate


def build_http_app(server: MCPServer[ServerDeps], settings: Settings, options: HttpOptions) -> Starlette:
    """The ASGI app: `/healthz` (open), `/mcp` (bearer gate, rebinding protection, the MCP transport)."""
    check_bind(settings, options)
    inner = server.streamable_http_app(
        streamable_http_path=MCP_PATH, stateless_http=options.stateless,
        transport_security=transport_security(settings, options), host=settings.host,
    )
    base_url = f"http://{_url_host(settings.host)}:{settings.port}"
    resource_url = AnyHttpUrl(base_url + MCP_PATH)
    required = options.auth == "required"
    routes: list[BaseRoute] = [Route(HEALTH_PATH, _health_endpoint(settings, options), methods=["GET"])]
    metadata_url: AnyHttpUrl | None = None
    if required:
        metadata_url = build_resource_metadata_url(resource_url)
        routes.extend(create_protected_resource_routes(resource_url, [AnyHttpUrl(settings.sts_url)]))
    routes.append(Mount("/", app=BearerGate(TrimmedRoutingHeaders(inner), required=required,
                                            resource_metadata_url=metadata_url)))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with server.session_manager.run():  # also enters the server's own lifespan
            yield

    return Starlette(
        routes=routes,
        middleware=[Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(PassThroughVerifier())),
                    Middleware(AuthContextMiddleware)],
        lifespan=lifespan,
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _health_endpoint(settings: Settings, options: HttpOptions) -> Callable[[Request], Awaitable[JSONResponse]]:
    body = {
        "status": "ok", "server": "mcp-agents", "version": __version__, "mcp_path": MCP_PATH,
        "auth": options.auth, "stateless": options.stateless,
    }

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse(body)

    return healthz


async def serve_http(server: MCPServer[ServerDeps], settings: Settings, options: HttpOptions) -> None:
    """Serve until cancelled (Ctrl-C / SIGTERM stop uvicorn, which runs the shutdown lifespan)."""
    import uvicorn

    app = build_http_app(server, settings, options)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                            lifespan="on", access_log=False)
    logger.warning("serving MCP over streamable HTTP at http://%s:%s%s (auth %s%s)", _url_host(settings.host),
                   settings.port, MCP_PATH, options.auth, ", stateless" if options.stateless else "")
    await uvicorn.Server(config).serve()
