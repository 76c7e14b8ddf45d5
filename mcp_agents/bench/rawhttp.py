"""Minimal HTTP/1.1 over asyncio streams for the ingest load generator.

A general HTTP client parses every header and every SSE event into objects; at thousands of
messages a second times ten subscribers that costs more CPU than the service under test, and on
a shared 2-core machine the benchmark then measures itself. This speaks just enough HTTP/1.1 for
keep-alive POSTs with a `Content-Length` answer and one chunked `text/event-stream` answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

HEAD_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Endpoint:
    """Where requests go: host and port to connect to, and the path prefix of the API."""

    host: str
    port: int
    prefix: str

    @classmethod
    def from_url(cls, base_url: str) -> Endpoint:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError("the ingest load generator speaks plain http only")
        return cls(parts.hostname, parts.port or 80, parts.path.rstrip("/"))

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(self.host, self.port, limit=HEAD_LIMIT)


def request_head(method: str, endpoint: Endpoint, path: str, headers: dict[str, str], length: int | None) -> bytes:
    """A request's head (request line and headers, ending with the blank line)."""
    lines = [f"{method} {endpoint.prefix}{path} HTTP/1.1", f"Host: {endpoint.host}:{endpoint.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes]]:
    """Status code and lower-cased headers of the next response."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].split(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    for line in header_lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of a response framed by `Content-Length` (every JSON answer of the service)."""
    status, headers = await read_head(reader)
    length = headers.get(b"content-length")
    if length is None:
        raise ValueError(f"response {status} without Content-Length")
    return status, await reader.readexactly(int(length))


async def next_chunk(reader: asyncio.StreamReader) -> bytes | None:
    """The next chunk of a chunked body; None at its end (or when the server closed the connection)."""
    try:
        size_line = await reader.readuntil(b"\r\n")
    except asyncio.IncompleteReadError:
        return None
    size = int(size_line.split(b";", 1)[0], 16)
    if size == 0:
        return None
    data = await reader.readexactly(size + 2)
    return data[:-2]
