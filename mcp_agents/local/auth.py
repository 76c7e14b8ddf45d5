"""The token service and request authentication.

`POST /token/issue` exchanges an API key for a signed HS256 JWT (as the live service's STS does);
the API accepts only such JWTs, from the `Authorization: Bearer` header or, for `/stream`, the
`access_token` query parameter. The signing secret lives in `<data_dir>/jwt_secret` (0600).
Tampered, expired and unsigned (`alg: none`) tokens are refused with 401. Every token names the key
it was issued for (`kid`, in its header); a token whose key is no longer accepted (removed from the
keys file, or a changed development key, then a restart) is refused, and a token acts with its key's
current principal, so a role taken away takes effect at the restart too.

Every API route is behind `authenticating`: a caller is authenticated before anything of its
request is read, parsed or validated, so a stranger learns nothing from the schema and costs no parse.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mcp_agents.local.errors import ServiceError
from mcp_agents.local.keys import RUN_PERMISSION, KeyEntry, Principal, find_key
from mcp_agents.local.limits import read_body
from mcp_agents.local.private import write_private

ISSUER = "mcp-agents-local"
ALGORITHM = "HS256"
SECRET_FILE = "jwt_secret"
_CHALLENGE = {"WWW-Authenticate": "Bearer"}
VERIFIED_CACHE_MAX = 4096
# How a route's caller proves who it is: a bearer JWT; or also `access_token` in the query (event streams,
# which browsers open without headers); or also a signed URL, which the handler checks (artifact links).
Credential = Literal["bearer", "query", "signed"]
Handler = Callable[[Request], Awaitable[Response]]


def load_secret(data_dir: Path) -> bytes:
    path = data_dir / SECRET_FILE
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    secret = secrets.token_bytes(32)
    write_private(path, secret.hex() + "\n")
    return secret


class TokenService:
    """Issues and verifies the service's JWTs."""

    def __init__(self, secret: bytes, keys: list[KeyEntry], ttl_seconds: int) -> None:
        self._secret = secret
        self._keys = keys
        self._by_kid = {entry.kid: entry.principal for entry in keys}
        self._ttl = ttl_seconds
        self._verified: dict[str, tuple[Principal, int]] = {}  # token -> (principal, exp): skip re-verifying

    def __repr__(self) -> str:
        return f"TokenService(keys={len(self._keys)}, ttl={self._ttl})"

    def issue(self, api_key: str) -> dict[str, Any]:
        entry = find_key(self._keys, api_key)
        if entry is None:
            raise ServiceError(401, "unknown API key; use the development key printed at first start "
                                    "(kept in <data_dir>/dev_api_key) or one from the keys file", headers=_CHALLENGE)
        principal = entry.principal
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": principal.id, "name": principal.name, "role": principal.role,
                  "permissions": sorted(principal.permissions), "iat": now, "exp": now + self._ttl,
                  "jti": secrets.token_hex(8)}
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM, headers={"kid": entry.kid})
        return {"token": token, "token_type": "Bearer", "expires_in": self._ttl}

    def verify(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], issuer=ISSUER,
                                options={"require": ["exp", "iat", "sub", "iss"]})
        except jwt.ExpiredSignatureError:
            raise ServiceError(401, "token expired; get a new one from POST /token/issue",
                               headers=_CHALLENGE) from None
        except jwt.PyJWTError:
            raise ServiceError(401, "invalid token; get one from POST /token/issue with your API key",
                               headers=_CHALLENGE) from None
        principal = self._by_kid.get(str(jwt.get_unverified_header(token).get("kid")))  # the header is signed
        if principal is None or principal.id != claims["sub"]:
            raise ServiceError(401, "the API key this token was issued for is no longer accepted; get a new token "
                                    "from POST /token/issue with a current key", headers=_CHALLENGE)
        if len(self._verified) >= VERIFIED_CACHE_MAX:
            self._verified.clear()
        self._verified[token] = (principal, int(claims["exp"]))
        return principal

    def authenticate(self, request: Request, allow_query: bool = False) -> Principal:
        """The caller of an API request; 401 without a valid JWT, 403 without `workflow:run`."""
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        if not token and allow_query:
            token = request.query_params.get("access_token", "")
        if not token:
            raise ServiceError(401, "missing bearer token; send `Authorization: Bearer <JWT>` "
                                    "(get one from POST /token/issue)", headers=_CHALLENGE)
        if token.startswith("sk-"):
            raise ServiceError(401, "API keys are not accepted by the API; exchange the key for a JWT "
                                    "at POST /token/issue first", headers=_CHALLENGE)
        principal = self.verify(token)
        if RUN_PERMISSION not in principal.permissions:
            raise ServiceError(403, f"the principal {principal.id} lacks the `{RUN_PERMISSION}` permission")
        return principal


def authenticating(handler: Handler, credential: Credential = "bearer") -> Handler:
    """`handler` behind authentication first: 401 (403 without `workflow:run`) before the body is read.

    The handler authenticates again for its principal (a cache hit). A refused request that came with a
    body is answered `Connection: close`: the body is never read, so the connection is not reused."""

    async def endpoint(request: Request) -> Response:
        if not (credential == "signed" and "signature" in request.query_params):
            tokens: TokenService = request.app.state.tokens
            try:
                tokens.authenticate(request, allow_query=credential == "query")
            except ServiceError as exc:
                headers = request.headers
                if headers.get("transfer-encoding") or headers.get("content-length", "0").strip() not in ("", "0"):
                    exc.headers = {**(exc.headers or {}), "Connection": "close"}
                raise
        return await handler(request)

    return endpoint


async def issue_token(request: Request) -> JSONResponse:
    """`POST /token/issue`: `{"type": "apikey", "key": "sk-..."}` (or the key as the Bearer) -> `{token}`."""
    tokens: TokenService = request.app.state.tokens
    limits = request.app.state.services.limits
    key = ""
    body = await read_body(request, limits.token_body_bytes)
    if body.strip():
        payload = limits.parse_json(body, "the body (JSON: {\"type\": \"apikey\", \"key\": \"sk-...\"})")
        if isinstance(payload, dict):
            if payload.get("type", "apikey") != "apikey":
                raise ServiceError(400, "only `type: apikey` is supported by the local token service")
            key = str(payload.get("key") or "")
    if not key:
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not key:
        raise ServiceError(400, "send the API key as {\"type\": \"apikey\", \"key\": \"sk-...\"} or as the Bearer")
    return JSONResponse(tokens.issue(key))
