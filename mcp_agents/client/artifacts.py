"""A run's artifacts: list, read, signed URLs and upload. Paths are checked before any request."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any, Literal

import httpx2

from mcp_agents.client._paths import artifact_path, segment
from mcp_agents.client._request import decode_json, parse_model
from mcp_agents.client._resource import Resource
from mcp_agents.client.errors import InvalidRequestError
from mcp_agents.models import ArtifactUrl
from mcp_agents.models.paths import ARTIFACT, ARTIFACTS

DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ArtifactContent:
    """An artifact's bytes and media type."""

    path: str
    content: bytes
    content_type: str

    def __repr__(self) -> str:
        return f"ArtifactContent(path={self.path!r}, size={len(self.content)}, content_type={self.content_type!r})"


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
        """Store `content` at `path`.

        The seed's service stores the PUT body and answers without a URL (returns None). The live
        service answers `{url, path}`: the body is then PUT to that signed URL (without our
        credential) and the answer is returned.
        """
        if not content_type or "\n" in content_type or "\r" in content_type:
            raise InvalidRequestError("content_type must be a MIME type such as 'text/csv'")
        route = ARTIFACT.format(run_id=segment(run_id, "run id"), path=artifact_path(path))
        headers = {"Content-Type": content_type}
        response = await self._requester.request("PUT", route, content=content, headers=headers)
        body = decode_json(response) if "json" in response.headers.get("content-type", "") else None
        if not isinstance(body, dict) or not isinstance(body.get("url"), str):
            return None
        signed = parse_model(ArtifactUrl, body, response)
        target = str(httpx2.URL(self._requester.base_url).join(signed.url))
        await self._requester.request("PUT", "", url=target, content=content, headers=headers, authenticate=False)
        return signed
