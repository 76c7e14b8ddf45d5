"""The hosted service's published OpenAPI document (API version 20260803, `/agents`), shipped with the package.

It is the contract of the hosted wire format: the local service validates requests against it
in hosted mode, and the tests check the client's requests and the local service's answers
against it. `operation` finds an operation by our route templates (`{run_id}`, `{name}`, `{path}`).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Literal

Wire = Literal["seed", "hosted"]
WIRES: tuple[Wire, ...] = ("seed", "hosted")
DOCUMENT_URI = "urn:vertesia:agent-runs-openapi"
_TEMPLATE_NAMES = {"{run_id}": "{agentRunId}", "{path:path}": "{path}"}


@cache
def document() -> dict[str, Any]:
    text = resources.files("mcp_agents.models").joinpath("agent_runs_openapi.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def hosted_path(template: str) -> str:
    """Our route template as the document spells it (`/agents/{run_id}/signal/{name}` -> `.../{signalName}`)."""
    for ours, theirs in _TEMPLATE_NAMES.items():
        template = template.replace(ours, theirs)
    if "/signal/{name}" in template:
        template = template.replace("{name}", "{signalName}")
    return template.replace("/query/{name}", "/query/{queryName}")


def operation(method: str, template: str) -> dict[str, Any] | None:
    """The document's operation for a route of ours, or None when the document does not publish it."""
    item = document()["paths"].get(hosted_path(template))
    found: dict[str, Any] | None = item.get(method.lower()) if item else None
    return found
