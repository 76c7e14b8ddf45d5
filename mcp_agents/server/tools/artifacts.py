"""Toolset `artifacts`: the files of a run, listed, read (text, image or blob) and uploaded."""

from __future__ import annotations

import base64
import binascii
import codecs
from typing import Annotated, Any
from urllib.parse import quote

from mcp.server.mcpserver import Context
from mcp.types import BlobResourceContents, CallToolResult, EmbeddedResource, ImageContent
from pydantic import BaseModel, Field

from mcp_agents.server.deps import client_for
from mcp_agents.server.rendering import untrusted
from mcp_agents.server.tools._common import RUN_ID_MAX, P, reply, require
from mcp_agents.server.toolsets import Registry, hints

registry = Registry("artifacts")
RunId = Annotated[str, P("Agent run id.", min_length=1, max_length=RUN_ID_MAX)]
ArtifactPath = Annotated[str, P("Artifact path, e.g. report.md or out/data.csv.", min_length=1, max_length=1024)]
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/yaml", "application/x-yaml",
              "application/javascript", "application/csv", "+json", "+xml")
IMAGE_MAX = 1_000_000
BLOB_MAX = 256_000
UPLOAD_MAX = 5_000_000
TEXT_DEFAULT = 20_000
TEXT_READ_MAX = 16_000_000  # most bytes read for one text page; text beyond it is offered as a download URL


class ArtifactList(BaseModel):
    run_id: str
    paths: list[str]


@registry.tool("list_agent_artifacts", title="List agent artifacts",
               annotations=hints(read_only=True, destructive=False, idempotent=True, open_world=True))
async def list_agent_artifacts(ctx: Context[Any, Any], run_id: RunId) -> Annotated[CallToolResult, ArtifactList]:
    """Use to see which files (reports, data, charts) a run has written."""
    paths = await client_for(ctx).artifacts.list(run_id)
    text = "\n".join(paths) if paths else "no artifacts"
    return reply(ArtifactList(run_id=run_id, paths=paths), text)


class ArtifactRead(BaseModel):
    path: str
    mime_type: str
    size: int | None = Field(None, description="Bytes; absent when unknown (a large file).")
    kind: str = Field(description="text, image, blob or url.")
    text: str | None = Field(None, description="Text content (untrusted), from offset.")
    offset: int | None = None
    next_offset: int | None = Field(None, description="Pass as offset to read on; absent at the end.")
    url: str | None = Field(None, description="Signed download URL (large binaries).")


def is_text(mime: str, content: bytes) -> bool:
    if mime.startswith(TEXT_TYPES) or any(marker in mime for marker in TEXT_TYPES[-2:]):
        return True
    if mime.startswith("application/octet-stream") or not mime:
        try:
            content[:4096].decode("utf-8")
        except UnicodeDecodeError:
            return False
        return b"\x00" not in content[:4096]
    return False


@registry.tool("read_agent_artifact", title="Read agent artifact",
               annotations=hints(read_only=True, destructive=False, idempotent=True, open_world=True))
async def read_agent_artifact(
    ctx: Context[Any, Any],
    run_id: RunId,
    path: ArtifactPath,
    offset: Annotated[int, P("Text: first character to return.", ge=0)] = 0,
    max_chars: Annotated[int, P("Text: most characters to return.", ge=100, le=200_000)] = TEXT_DEFAULT,
) -> Annotated[CallToolResult, ArtifactRead]:
    """Use to read a file a run wrote: text inline (paged), images as images, other files as a blob or a URL."""
    client = client_for(ctx)
    # Read only what can be shown: enough for any inline kind, and for this text page (<= 4 bytes a char).
    cap = max(IMAGE_MAX, BLOB_MAX, min(TEXT_READ_MAX, 4 * (offset + max_chars) + 4))
    artifact = await client.artifacts.read(run_id, path, max_bytes=cap)
    mime = artifact.content_type.split(";", 1)[0].strip().lower() or "application/octet-stream"
    size = artifact.size
    whole = not artifact.truncated
    size_text = f"{size} bytes" if size is not None else f"over {len(artifact.content)} bytes"
    if is_text(mime, artifact.content):
        text = codecs.getincrementaldecoder("utf-8")("replace").decode(artifact.content, final=whole)
        chunk = text[offset:offset + max_chars]
        end = offset + len(chunk)
        more = end < len(text)
        url = None if more or whole else (await client.artifacts.url(run_id, path)).url
        result = ArtifactRead(path=path, mime_type=mime, size=size, kind="text", text=chunk, offset=offset,
                              next_offset=end if more else None, url=url)
        note = f"{path} ({mime}, {size_text}, chars {offset}-{end} of {len(text) if whole else 'more'}"
        note += f"; more: offset={end})" if more else f"; the rest: download {url})" if url else ")"
        return reply(result, note + "\n" + untrusted(chunk, max_chars))
    if mime in IMAGE_TYPES and whole and len(artifact.content) <= IMAGE_MAX:
        data = base64.b64encode(artifact.content).decode("ascii")
        result = ArtifactRead(path=path, mime_type=mime, size=size, kind="image")
        return reply(result, f"{path} ({mime}, {size} bytes): image below",
                     ImageContent(type="image", data=data, mime_type=mime))
    if whole and len(artifact.content) <= BLOB_MAX:
        uri = f"agent-run://{quote(run_id, safe='')}/artifacts/{quote(path)}"
        blob = BlobResourceContents(uri=uri, mime_type=mime, blob=base64.b64encode(artifact.content).decode("ascii"))
        result = ArtifactRead(path=path, mime_type=mime, size=size, kind="blob")
        return reply(result, f"{path} ({mime}, {size} bytes): embedded below",
                     EmbeddedResource(type="resource", resource=blob))
    signed = await client.artifacts.url(run_id, path)
    result = ArtifactRead(path=path, mime_type=mime, size=size, kind="url", url=signed.url)
    return reply(result, f"{path} ({mime}, {size_text}) is too large to inline; download: {signed.url}")


class ArtifactWritten(BaseModel):
    run_id: str
    path: str
    size: int
    mime_type: str


@registry.tool("upload_agent_artifact", title="Upload agent artifact",  # destructive: it replaces a file
               annotations=hints(read_only=False, destructive=True, idempotent=True, open_world=True))
async def upload_agent_artifact(
    ctx: Context[Any, Any],
    run_id: RunId,
    path: ArtifactPath,
    text: Annotated[str | None, P("Text content (give this or content_base64).", max_length=UPLOAD_MAX)] = None,
    content_base64: Annotated[str | None, P("Binary content, base64.", max_length=UPLOAD_MAX * 4 // 3 + 4)] = None,
    mime_type: Annotated[str | None, P("MIME type (default text/plain for text, else "
                                       "application/octet-stream).", max_length=200)] = None,
) -> Annotated[CallToolResult, ArtifactWritten]:
    """Use to give a run a file (input data, a document): writes it at path, replacing any file there."""
    require((text is None) != (content_base64 is None), "give exactly one of text or content_base64")
    if text is not None:
        content = text.encode("utf-8")
        mime = mime_type or "text/plain; charset=utf-8"
    else:
        try:
            content = base64.b64decode(content_base64 or "", validate=True)
        except (binascii.Error, ValueError):
            require(False, "content_base64 is not valid base64 (standard alphabet, with padding)")
            raise AssertionError("unreachable") from None
        mime = mime_type or "application/octet-stream"
    require(len(content) <= UPLOAD_MAX, f"content is {len(content)} bytes; the limit is {UPLOAD_MAX}")
    require("/" in mime and not any(c in mime for c in "\r\n"), "mime_type must look like type/subtype")
    await client_for(ctx).artifacts.upload(run_id, path, content, content_type=mime)
    result = ArtifactWritten(run_id=run_id, path=path, size=len(content), mime_type=mime)
    return reply(result, f"wrote {path} ({len(content)} bytes, {mime}) to run {run_id}")
