"""Streamable HTTP serving: `/mcp`, `/healthz`, DNS-rebinding protection and bearer pass-through.

Credentials: a caller's `Authorization: Bearer <JWT or sk- key>` is accepted by shape here
(`PassThroughVerifier`), then checked with the Agent Runs service before the request reaches the
transport (`admission.py`: a made-up bearer gets 401 and never holds a session), and used for that
caller's calls (`deps.client_for`), so one server can serve many users without holding their
credentials. Sessions are capped in all (`MCP_AGENTS_MAX_SESSIONS`), per credential
(`MCP_AGENTS_CALLER_SESSIONS`) and reaped when idle (`MCP_AGENTS_SESSION_IDLE_TIMEOUT`). With
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
import json
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
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mcp_agents import __version__
from mcp_agents.server.admission import RETRY_AFTER_SECONDS, BearerCheck, SessionQuota, Verdict
from mcp_agents.server.deps import API_KEY_PREFIX, ServerDeps, credential_key, lifespan_deps
from mcp_agents.settings import OPTION_BY_NAME, Settings

logger = logging.getLogger(__name__)

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
HttpAuth = Literal["optional", "required"]
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_API_KEY_SHAPE = re.compile(r"^sk-[A-Za-z0-9_\-]{8,512}$")
_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*$")
MAX_BEARER_CHARS = 16_384
PEEK_BYTES = 65_536
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
    forwarded_allow_ips: tuple[str, ...] = ("127.0.0.1", "::1")
    request_state_key: str = field(default="", repr=False)
    max_sessions: int = 1000
    session_idle_timeout: float = 600.0
    caller_sessions: int = 16

    def __post_init__(self) -> None:
        request_state_security(self.request_state_key)  # refuses a short key at once, with its reason
        if self.max_sessions < 1 or self.caller_sessions < 1:
            raise HttpConfigError("MCP_AGENTS_MAX_SESSIONS and MCP_AGENTS_CALLER_SESSIONS must be >= 1")
        if not 0 < self.session_idle_timeout <= 86_400:
            raise HttpConfigError("MCP_AGENTS_SESSION_IDLE_TIMEOUT must be between 0 and 86400 seconds")
        for proxy in self.forwarded_allow_ips:
            if proxy != "*":
                try:
                    ipaddress.ip_network(proxy, strict=False)
                except ValueError:
                    raise HttpConfigError(f"MCP_AGENTS_FORWARDED_ALLOW_IPS: {proxy!r} is neither an IP address, "
                                          "a CIDR nor `*`") from None

    @classmethod
    def load(cls, environ: Mapping[str, str], **overrides: str | bool | None) -> HttpOptions:
        """From the environment, then explicit values (CLI flags); bad values raise `HttpConfigError`."""
        raw: dict[str, str] = {}
        for name in ("http_auth", "stateless", "allowed_hosts", "allowed_origins", "request_state_key",
                     "forwarded_allow_ips", "max_sessions", "session_idle_timeout", "caller_sessions"):
            option = OPTION_BY_NAME[name]
            value = overrides.get(name)
            if value is None:
                value = (environ.get(option.env, "") if option.env else "").strip() or option.default
            raw[name] = "true" if value is True else "false" if value is False else str(value)
        auth = raw["http_auth"].strip().lower()
        if auth not in ("optional", "required"):
            raise HttpConfigError(f"--auth must be optional or required, not {raw['http_auth']!r}")
        try:
            max_sessions, caller_sessions = int(raw["max_sessions"]), int(raw["caller_sessions"])
            idle = float(raw["session_idle_timeout"])
        except ValueError as exc:
            raise HttpConfigError(f"session limits must be numbers: {exc}") from None
        return cls(
            auth=auth,  # type: ignore[arg-type]
            stateless=raw["stateless"].strip().lower() in {"1", "true", "yes", "on"},
            allowed_hosts=_csv(raw["allowed_hosts"]), allowed_origins=_csv(raw["allowed_origins"]),
            forwarded_allow_ips=_csv(raw["forwarded_allow_ips"]),
            request_state_key=raw["request_state_key"], max_sessions=max_sessions, session_idle_timeout=idle,
            caller_sessions=caller_sessions,
        )

    @property
    def callers_only(self) -> bool:
        """Every request brings its own bearer: the server needs no credential of its own."""
        return self.auth == "required"


def request_state_security(value: str) -> RequestStateSecurity | None:
    """The shared sealing of `requestState` for replicas (`MCP_AGENTS_REQUEST_STATE_KEY`), or None (per process).

    Comma-separated keys rotate: the first seals, every one opens. A key of exactly 32 bytes (UTF-8)
    is used as is; a longer value is hashed with SHA-256 into 32 bytes, so a long passphrase or a base64
    string works too. A shorter key is refused (`HttpConfigError`): it could be guessed, and with it
    anyone could forge the state of a question round trip. The SDK stretches each key with HKDF into
    an AES-256-GCM key; replicas must also share the server name, which they do.
    """
    keys: list[bytes] = []
    for index, key in enumerate(_csv(value), start=1):
        raw = key.encode("utf-8")
        if len(raw) < REQUEST_STATE_KEY_BYTES:
            raise HttpConfigError(
                f"MCP_AGENTS_REQUEST_STATE_KEY: key {index} is {len(raw)} bytes, fewer than "
                f"{REQUEST_STATE_KEY_BYTES}: use a random value of {REQUEST_STATE_KEY_BYTES}+ characters "
                "(for example `openssl rand -base64 32`)")
        if len(raw) != REQUEST_STATE_KEY_BYTES:
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
    """Before `/mcp`: a bearer that is present must have been accepted by its shape and then by the Agent
    Runs service (`admission.BearerCheck`); `required` demands one; a credential opens at most its
    quota of sessions. Nothing past this gate exists for a refused request."""

    def __init__(self, app: ASGIApp, *, required: bool, resource_metadata_url: AnyHttpUrl | None,
                 check: BearerCheck, sessions: SessionQuota | None) -> None:
        self._app = app
        self._required = required
        self._refuse = RequireAuthMiddleware(app, [], resource_metadata_url)
        self._metadata_url = resource_metadata_url
        self.check = check
        self._sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = scope.get("headers", ())
        authorization = next((v for k, v in headers if k.lower() == b"authorization"), None)
        user = scope.get("user")
        if not isinstance(user, AuthenticatedUser):
            if authorization is None and not self._required:
                await self._app(scope, receive, send)  # the server's own credential (loopback, optional)
            else:
                await self._refuse(scope, receive, send)  # answers 401 with WWW-Authenticate
            return
        client = scope.get("client")
        verdict = await self.check.verdict(user.access_token.token, client[0] if client else None)
        if verdict is Verdict.REFUSED:
            await self._unauthorized(scope, receive, send)
            return
        if verdict is Verdict.UNKNOWN:
            await _error(503, "the Agent Runs service could not check your bearer; retry shortly",
                         {"retry-after": "5"})(scope, receive, send)
            return
        if verdict is Verdict.THROTTLED:
            await _error(429, "too many new bearers from your address are waiting to be checked; retry shortly",
                         {"retry-after": str(RETRY_AFTER_SECONDS)})(scope, receive, send)
            return
        if verdict is Verdict.BUSY:
            await _error(503, "the server is checking as many new bearers as it may at once; retry shortly",
                         {"retry-after": str(RETRY_AFTER_SECONDS)})(scope, receive, send)
            return
        if self._sessions is None or scope.get("method") != "POST" or any(
                k.lower() == b"mcp-session-id" for k, _ in headers):
            await self._app(scope, receive, send)
            return
        receive, opens = await _peek_initialize(receive)
        if not opens:  # a call without a session (2026-07-28, or refused by the transport): nothing to count
            await self._app(scope, receive, send)
            return
        credential = user.access_token.client_id or ""
        quota = self._sessions
        async with quota.opening(credential) as opened:
            if opened is None:
                await _error(429, f"this credential already holds {quota.per_credential} sessions (the "
                             "server's MCP_AGENTS_CALLER_SESSIONS): close some (HTTP DELETE) or reuse one")(
                    scope, receive, send)
                return

            async def record(message: Message) -> None:
                if message["type"] == "http.response.start":  # the answer's head: the session exists or not
                    sid = next((v for k, v in message.get("headers", ()) if k.lower() == b"mcp-session-id"), None)
                    opened(sid.decode("latin-1") if sid is not None and message["status"] < 400 else None)
                await send(message)

            await self._app(scope, receive, record)


    async def _unauthorized(self, scope: Scope, receive: Receive, send: Send) -> None:
        """401 with the same `WWW-Authenticate` challenge as a missing bearer gets from the SDK."""
        challenge = 'Bearer error="invalid_token", error_description="The Agent Runs service refused this bearer"'
        if self._metadata_url is not None:
            challenge += f', resource_metadata="{self._metadata_url}"'
        response = JSONResponse({"error": "invalid_token", "error_description": "The Agent Runs service refused "
                                 "this bearer: send a valid JWT or sk- API key"}, status_code=401,
                                headers={"WWW-Authenticate": challenge})
        await response(scope, receive, send)


async def _peek_initialize(receive: Receive) -> tuple[Receive, bool]:
    """Whether the request body is an `initialize` (the only request that opens a session), and a
    `receive` that replays what was read. Reads at most `PEEK_BYTES`: an initialize is far smaller."""
    messages: list[Message] = []
    body = b""
    while len(body) <= PEEK_BYTES:
        message = await receive()
        messages.append(message)
        body += message.get("body", b"")
        if message["type"] != "http.request" or not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    try:
        request = json.loads(body) if len(body) <= PEEK_BYTES else None
    except (ValueError, RecursionError):  # not JSON, or nested too deep: the transport answers the parse error
        request = None
    return replay, isinstance(request, dict) and request.get("method") == "initialize"


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A JSON-RPC error body without a request id, like the transport's own refusals."""
    return JSONResponse({"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}},
                        status_code=status, headers=headers)


def build_http_app(server: MCPServer[ServerDeps], settings: Settings, options: HttpOptions) -> Starlette:
    """The ASGI app: `/healthz` (open), `/mcp` (bearer gate, rebinding protection, the MCP transport)."""
    check_bind(settings, options)
    # Builds the session manager. Its own app is not used: its error, exception and routing layers would sit
    # under ours, one more coroutine frame each in every request, and a wait holds its request for minutes.
    server.streamable_http_app(
        streamable_http_path=MCP_PATH, stateless_http=options.stateless,
        transport_security=transport_security(settings, options), host=settings.host,
        max_sessions=options.max_sessions, session_idle_timeout=options.session_idle_timeout,
    )
    manager = server.session_manager
    transport = StreamableHTTPASGIApp(manager)
    base_url = f"http://{_url_host(settings.host)}:{settings.port}"
    resource_url = AnyHttpUrl(base_url + MCP_PATH)
    required = options.auth == "required"
    routes: list[BaseRoute] = [Route(HEALTH_PATH, _health_endpoint(settings, options), methods=["GET"])]
    metadata_url: AnyHttpUrl | None = None
    if required:
        metadata_url = build_resource_metadata_url(resource_url)
        routes.extend(create_protected_resource_routes(resource_url, [AnyHttpUrl(settings.sts_url)]))
    # The SDK keeps the entered lifespan's state (our ServerDeps) and its open sessions on the session
    # manager, with no public accessor in mcp 2.3: read here, in one place.
    check = BearerCheck(lambda: lifespan_deps(manager._lifespan_state))
    sessions = None if options.stateless else SessionQuota(options.caller_sessions, lambda: manager._server_instances)
    routes.append(Route(MCP_PATH, endpoint=BearerGate(TrimmedRoutingHeaders(transport), required=required,
                                                      resource_metadata_url=metadata_url, check=check,
                                                      sessions=sessions)))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with manager.run():  # also enters the server's own lifespan
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


def raise_file_limit() -> int:
    """Lift the soft limit on open files to the hard one and return it.

    Each wait holds two sockets (its caller's request and its event stream to the API); the common
    soft limit of 1,024 would cap a replica near 500 waits, long before its memory or CPU does.
    """
    try:
        import resource
    except ImportError:  # not on POSIX: nothing to lift
        return 0
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as exc:  # some sandboxes refuse: keep the limit we have
            logger.debug("could not raise the open-file limit: %s", exc)
    return soft


async def serve_http(server: MCPServer[ServerDeps], settings: Settings, options: HttpOptions) -> None:
    """Serve until cancelled (Ctrl-C / SIGTERM stop uvicorn, which runs the shutdown lifespan)."""
    import uvicorn

    files = raise_file_limit()
    if files and files < 4 * 1024:
        logger.warning("open-file limit %d: about %d concurrent waits at most (two sockets each); raise "
                       "`ulimit -n` to serve more", files, files // 2)

    app = build_http_app(server, settings, options)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                            lifespan="on", access_log=False, forwarded_allow_ips=list(options.forwarded_allow_ips))
    logger.warning("serving MCP over streamable HTTP at http://%s:%s%s (auth %s%s)", _url_host(settings.host),
                   settings.port, MCP_PATH, options.auth, ", stateless" if options.stateless else "")
    await uvicorn.Server(config).serve()
