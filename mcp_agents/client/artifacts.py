"""A run's artifacts: list, read, signed URLs and upload. Paths are checked before any request."""

from __future__ import annotations

import builtins
import json
import time
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import httpx2

from mcp_agents.client import _constants as C
from mcp_agents.client._paths import artifact_path, segment
from mcp_agents.client._request import _connection_error, decode_json, parse_model
from mcp_agents.client._resource import Resource
from mcp_agents.client.errors import InvalidRequestError, error_from_response, parse_retry_after
from mcp_agents.models import ArtifactUrl
from mcp_agents.models.paths import ARTIFACT, ARTIFACTS

DEFAULT_CONTENT_TYPE = "application/octet-stream"
ERROR_BODY_MAX = 64_000


@dataclass(frozen=True)
class ArtifactContent:
    """An artifact's bytes and media type."""

    path: str
    content: bytes
    content_type: str

    def __repr__(self) -> str:
        return f"ArtifactContent(path={self.path!r}, size={len(self.content)}, content_type={self.content_type!r})"


@dataclass(frozen=True)
class ArtifactPrefix:
    """The first bytes of an artifact (all of them unless `truncated`) and its media type.

    `size` is the whole artifact's size when known: the length read when complete, else the
    service's `Content-Length` (None when it sent none).
    """

    path: str
    content: bytes
    content_type: str
    truncated: bool
    size: int | None

    def __repr__(self) -> str:
        return (f"ArtifactPrefix(path={self.path!r}, read={len(self.content)}, truncated={self.truncated}, "
                f"size={self.size}, content_type={self.content_type!r})")


async def _read_at_most(response: httpx2.Response, limit: int) -> tuple[bytes, bool]:
    """Up to `limit` bytes of a streamed body, and whether more followed (the rest is never read)."""
    data = bytearray()
    async for chunk in response.aiter_bytes():
        room = limit - len(data)
        if len(chunk) > room:
            data.extend(chunk[:room])
            return bytes(data), True
        data.extend(chunk)
    return bytes(data), False


def _declared_size(response: httpx2.Response) -> int | None:
    length = response.headers.get("content-length", "")
    if not length.isdigit() or response.headers.get("content-encoding", "identity") != "identity":
        return None
    return int(length)


def _error_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace") or None


def _names(body: Any) -> builtins.list[str]:
    """Artifact names from the seed's array of strings or an object/list of `{path|name}` entries."""
    if isinstance(body, dict):
        body = body.get("artifacts", body.get("items", body.get("files", [])))
    out: builtins.list[str] = []
    for item in body if isinstance(body, list) else []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            name = item.get("path") or item.get("name") or item.get("key")
            if isinstance(name, str):
                out.append(name)
    return out


class ArtifactsResource(Resource):
    """`/agents/{id}/artifacts[/{path}]`."""

    async def list(self, run_id: str) -> builtins.list[str]:
        """The run's artifact paths."""
        response = await self._requester.request("GET", ARTIFACTS.format(run_id=segment(run_id, "run id")))
        return _names(decode_json(response))

    async def get(self, run_id: str, path: str) -> ArtifactContent:
        """An artifact's content (redirects to signed storage URLs are followed)."""
        url = ARTIFACT.format(run_id=segment(run_id, "run id"), path=artifact_path(path))
        response = await self._requester.request("GET", url, follow_redirects=True)
        content_type = response.headers.get("content-type", DEFAULT_CONTENT_TYPE)
        return ArtifactContent(path=path, content=response.content, content_type=content_type)

    async def read(self, run_id: str, path: str, *, max_bytes: int) -> ArtifactPrefix:
        """At most `max_bytes` of an artifact, streamed: a large artifact is never loaded whole.

        Like `get` (redirects to signed storage followed, retries on connection failures and on
        429/502/503/504, one new exchange after a 401), but the body is read only up to `max_bytes`
        and the connection is then closed.
        """
        if max_bytes < 0:
            raise InvalidRequestError("max_bytes must be >= 0")
        requester = self._requester
        url = requester.url(ARTIFACT.format(run_id=segment(run_id, "run id"), path=artifact_path(path)))
        policy = requester.retry
        deadline = time.monotonic() + policy.max_total
        retries = 0
        reauthenticated = False
        while True:
            token = await requester.credentials.get()
            request = requester.http.build_request("GET", url, headers=requester.headers(token),
                                                   timeout=requester.timeout)
            delay: float | None = None
            try:
                async with requester.slots.request():  # the body streams over the connection: hold a slot
                    response = await requester.http.send(request, stream=True, follow_redirects=True)
                    try:
                        status = response.status_code
                        if status == 401 and requester.credentials.refreshable and not reauthenticated:
                            reauthenticated = True
                            requester.credentials.invalidate(token)
                            continue
                        if status >= 400:
                            raw, _ = await _read_at_most(response, ERROR_BODY_MAX)
                            error = error_from_response(response, body=_error_body(raw))
                            wait = parse_retry_after(response.headers.get("retry-after"))
                            wait = policy.backoff(retries) if wait is None else wait
                            if (status not in C.RETRYABLE_STATUS or retries >= policy.max_retries
                                    or wait > policy.max_retry_after or time.monotonic() + wait >= deadline):
                                raise error
                            delay = wait
                        else:
                            content, truncated = await _read_at_most(response, max_bytes)
                            size = len(content) if not truncated else _declared_size(response)
                            content_type = response.headers.get("content-type", DEFAULT_CONTENT_TYPE)
                            return ArtifactPrefix(path=path, content=content, content_type=content_type,
                                                  truncated=truncated, size=size)
                    finally:
                        await response.aclose()
            except httpx2.TransportError as exc:
                delay = policy.backoff(retries)
                if retries >= policy.max_retries or time.monotonic() + delay >= deadline:
                    raise _connection_error(exc, "GET", url, retries) from None
            except httpx2.RequestError as exc:  # undecodable body, redirect loop: not worth repeating
                raise _connection_error(exc, "GET", url, retries) from None
            retries += 1
            await anyio.sleep(delay or 0)

    async def url(self, run_id: str, path: str, *,
                  disposition: Literal["inline", "attachment"] | None = None) -> ArtifactUrl:
        """A signed download URL (the live `{url,path}` or the seed's bare URL)."""
        if disposition not in (None, "inline", "attachment"):
            raise InvalidRequestError("disposition must be 'inline' or 'attachment'")
        route = ARTIFACT.format(run_id=segment(run_id, "run id"), path=artifact_path(path))
        response = await self._requester.request("GET", route, params={"url": "1", "disposition": disposition})
        if "json" not in response.headers.get("content-type", "json"):
            return ArtifactUrl(url=response.text.strip(), path=path)
        body = decode_json(response)
        if isinstance(body, str):
            return ArtifactUrl(url=body, path=path)
        return parse_model(ArtifactUrl, body, response)

    async def upload(self, run_id: str, path: str, content: bytes, *, content_type: str) -> ArtifactUrl | None:
        """Store `content` at `path`; the bytes are sent once.

        The hosted protocol: the API's PUT (no body) answers `{url, path}`, a signed URL, and the
        bytes are then PUT to that URL (without our credential); that answer is returned. A
        seed-shaped service answers without a URL: the bytes then go to the API's PUT itself (the
        seed's direct upload) and None is returned.
        """
        if not content_type or "\n" in content_type or "\r" in content_type:
            raise InvalidRequestError("content_type must be a MIME type such as 'text/csv'")
        route = ARTIFACT.format(run_id=segment(run_id, "run id"), path=artifact_path(path))
        headers = {"Content-Type": content_type}
        response = await self._requester.request("PUT", route, content=b"", headers=headers)
        body = decode_json(response) if "json" in response.headers.get("content-type", "") else None
        if not isinstance(body, dict) or not isinstance(body.get("url"), str):
            if content:
                await self._requester.request("PUT", route, content=content, headers=headers)
            return None
        signed = parse_model(ArtifactUrl, body, response)
        target = str(httpx2.URL(self._requester.base_url).join(signed.url))
        await self._requester.request("PUT", "", url=target, content=content, headers=headers, authenticate=False)
        return signed
