"""Limits on what enters the service: request bodies while they stream in, and every JSON value stored.

Checked at the write, never at the read: a body over its limit is refused with 413 before it is
buffered, and a value that could not be served back (NaN, Infinity, nesting deeper than the depth
limit, larger than the body limit once serialized) is refused with 400 (from a request) or
`ValueError` (from an interaction), so nothing stored can break a read or an SSE frame. The limits
are settings of `LocalServiceConfig` (defaults and ranges in `config.py`); one `Limits` serves a service.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from mcp_agents.local.config import MAX_ARTIFACT_BYTES, MAX_BODY_BYTES, MAX_JSON_DEPTH, MAX_TOKEN_BODY_BYTES
from mcp_agents.local.errors import ServiceError

if TYPE_CHECKING:
    from mcp_agents.local.config import LocalServiceConfig

_CLOSE = {"Connection": "close"}  # the rest of a refused body is not read: do not reuse the connection


def too_large(limit: int, what: str) -> ServiceError:
    return ServiceError(413, f"{what} is larger than {limit} bytes", headers=_CLOSE)


async def read_body(request: Request, limit: int, what: str = "the request body") -> bytes:
    """The request body, refused (413) as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        declared = declared.strip()
        if not (declared.isascii() and declared.isdigit()):
            raise ServiceError(400, "Content-Length must be a number of bytes", headers=_CLOSE)
        if len(declared) > 18 or int(declared) > limit:
            raise too_large(limit, what)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit, what)
        chunks.append(chunk)
    return b"".join(chunks)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


_CONTAINERS = frozenset({dict, list})


def depth_of(value: Any, limit: int) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), counted no further than `limit + 1`.

    Level by level, and a container holding only scalars is skipped at C speed (`map(type, ...)`):
    about half the cost of parsing for a batch of telemetry events, where a plain recursive walk
    cost more than parsing itself.
    """
    level = [value] if type(value) in _CONTAINERS else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            break
        below: list[Any] = []
        for item in level:
            children = item.values() if type(item) is dict else item
            if not _CONTAINERS.isdisjoint(map(type, children)):
                below += [child for child in children if type(child) in _CONTAINERS]
        level = below
    return depth


@dataclass(frozen=True)
class Limits:
    """The limits of one service: bodies while they stream in, and every JSON value written."""

    body_bytes: int = MAX_BODY_BYTES  # a JSON request body, and a stored value once serialized
    token_body_bytes: int = MAX_TOKEN_BODY_BYTES
    artifact_bytes: int = MAX_ARTIFACT_BYTES
    json_depth: int = MAX_JSON_DEPTH

    @classmethod
    def of(cls, config: LocalServiceConfig) -> Limits:
        return cls(config.max_body_bytes, config.max_token_body_bytes, config.max_artifact_bytes,
                   config.max_json_depth)

    def parse_json(self, body: bytes, what: str = "the request body") -> Any:
        """A JSON document with finite numbers and bounded nesting; 400 otherwise."""
        try:
            value = json.loads(body, parse_constant=_refuse_constant, parse_float=_finite)
        except RecursionError:
            raise ServiceError(400, f"{what} is nested deeper than {self.json_depth} levels") from None
        except ValueError:  # also bad UTF-8, and integers of more than 4300 digits
            raise ServiceError(400, f"{what} is not valid JSON with finite numbers (NaN and Infinity are not "
                                    "JSON, nor are numbers beyond the double range)") from None
        # the count of brackets bounds the depth: most bodies skip the walk
        limit = self.json_depth
        if body.count(b"[") + body.count(b"{") > limit and depth_of(value, limit) > limit:
            raise ServiceError(400, f"{what} is nested deeper than {limit} levels")
        return value

    def check_value(self, value: Any, what: str) -> None:
        """Refuse (ValueError) a value an interaction writes that could not be served back as JSON."""
        try:
            text = json.dumps(value, allow_nan=False, default=str)
        except ValueError:
            raise ValueError(f"{what} holds NaN or Infinity, which JSON cannot carry") from None
        except RecursionError:
            raise ValueError(f"{what} is nested deeper than {self.json_depth} levels") from None
        if len(text) > self.body_bytes:
            raise ValueError(f"{what} is larger than {self.body_bytes} bytes as JSON")
        # parsed back: plain dicts and lists, whatever was written
        if depth_of(json.loads(text), self.json_depth) > self.json_depth:
            raise ValueError(f"{what} is nested deeper than {self.json_depth} levels")
