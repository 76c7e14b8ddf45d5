"""The `agent-run://` resource URIs, in one place: templates, builders and the parser."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, unquote

SCHEME = "agent-run://"
RUN_TEMPLATE = "agent-run://{run_id}"
MESSAGES_TEMPLATE = "agent-run://{run_id}/messages"
# `{+path}` (RFC 6570 reserved expansion) so that nested artifact paths keep their slashes.
ARTIFACT_TEMPLATE = "agent-run://{run_id}/artifacts/{+path}"

_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")
ResourceKind = Literal["run", "messages", "artifact"]


@dataclass(frozen=True)
class RunResource:
    run_id: str
    kind: ResourceKind
    path: str = ""


def valid_run_id(run_id: str) -> bool:
    return bool(_RUN_ID.match(run_id))


def run_uri(run_id: str) -> str:
    return f"{SCHEME}{run_id}"


def messages_uri(run_id: str) -> str:
    return f"{SCHEME}{run_id}/messages"


def artifact_uri(run_id: str, path: str) -> str:
    return f"{SCHEME}{run_id}/artifacts/{quote(path, safe='/')}"


def parse_run_uri(uri: str) -> RunResource | None:
    """What an `agent-run://` URI names, or None when it is not one of ours."""
    if not uri.startswith(SCHEME):
        return None
    rest = uri[len(SCHEME):]
    run_id, _, tail = rest.partition("/")
    if not valid_run_id(run_id):
        return None
    if not tail:
        return RunResource(run_id, "run")
    if tail == "messages":
        return RunResource(run_id, "messages")
    if tail.startswith("artifacts/") and len(tail) > len("artifacts/"):
        return RunResource(run_id, "artifact", unquote(tail[len("artifacts/"):]))
    return None
