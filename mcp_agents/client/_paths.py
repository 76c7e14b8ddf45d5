"""Safe URL paths from user input: ids and names are encoded, artifact paths that climb out are refused.

Every check runs before any request, and a refusal is an `InvalidRequestError` (a `ValueError`).
`.` and `..` are refused even as ids, because URL normalization would collapse them.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from mcp_agents.client.errors import InvalidRequestError

MAX_ARTIFACT_PATH = 1024
_UNQUOTE_ROUNDS = 3


def segment(value: str, what: str) -> str:
    """One path segment (run id, signal or query name), checked and percent-encoded."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequestError(f"{what} must be a non-empty string")
    if value in (".", "..") or any(ord(char) < 0x20 for char in value):
        raise InvalidRequestError(f"{what} {value!r} is not a valid {what}")
    return quote(value, safe="")


def artifact_path(path: str) -> str:
    """A relative artifact path, each segment encoded; refuses anything that could leave the run's folder."""
    if not isinstance(path, str) or not path:
        raise InvalidRequestError("artifact path must be a non-empty relative path such as 'out/report.pdf'")
    if len(path) > MAX_ARTIFACT_PATH:
        raise InvalidRequestError(f"artifact path is longer than {MAX_ARTIFACT_PATH} characters")
    if "\\" in path or "\0" in path or any(ord(char) < 0x20 for char in path):
        raise InvalidRequestError(f"artifact path {path!r} holds a backslash or control character; use '/'")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise InvalidRequestError(f"artifact path {path!r} is absolute; give it relative to the run's artifacts")
    encoded: list[str] = []
    for part in path.split("/"):
        if not part:
            raise InvalidRequestError(f"artifact path {path!r} has an empty segment ('//' or a trailing '/')")
        decoded = part
        for _ in range(_UNQUOTE_ROUNDS):
            decoded = unquote(decoded)
        if decoded in (".", "..") or part in (".", ".."):
            raise InvalidRequestError(f"artifact path {path!r} climbs out of the run's artifacts ('..' or '.')")
        if any(char in decoded for char in "/\\\0"):
            raise InvalidRequestError(f"artifact path {path!r} hides a separator in percent-encoding")
        encoded.append(quote(part, safe=""))
    return "/".join(encoded)
