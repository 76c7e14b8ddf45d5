"""The agent run viewer: an MCP App (`io.modelcontextprotocol/ui`) that hosts render next to run results.

One `ui://` HTML resource, `run-viewer.html`, built from `web/` (npm, locked) and committed, so installing
the package needs no Node. The run tools link it in their `_meta.ui.resourceUri`; their results do not
change, so hosts without Apps see exactly what they saw before. The view keeps itself live by calling the
existing tools through the host, so the viewer adds no tool to anyone's list.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from mcp.server.apps import Apps, ResourceCsp
from mcp.server.mcpserver.resources import Resource

VIEW_URI = "ui://mcp-agents/run-viewer.html"
VIEW_FILE = "run-viewer.html"
LINKED_TOOLS = frozenset({"start_agent_run", "wait_for_agent_runs", "send_agent_input", "get_agent_run"})
# No origin at all: every byte the view shows comes through the host's tools/call (mirrored by the document's
# own Content-Security-Policy, which also pins its one script and one style by hash).
CSP = ResourceCsp(connect_domains=[], resource_domains=[], frame_domains=[], base_uri_domains=[])


@functools.cache
def view_html() -> str:
    """The built view, read once on first use (not at import: servers that are never asked don't pay)."""
    return resources.files(__package__).joinpath(VIEW_FILE).read_text(encoding="utf-8")


class ViewResource(Resource):
    async def read(self) -> str:
        return view_html()


def tool_meta(name: str) -> dict[str, Any] | None:
    """The `_meta` linking a tool to the viewer (None for tools whose results it does not show)."""
    return {"ui": {"resourceUri": VIEW_URI}} if name in LINKED_TOOLS else None


def viewer_extension() -> Apps:
    """The Apps extension serving the view (and advertising `io.modelcontextprotocol/ui`)."""
    apps = Apps()
    apps.add_resource(ViewResource(
        uri=VIEW_URI, name="run-viewer", title="Agent run viewer",
        description="Live view of agent runs (status, plan, timeline, questions, answer, files) for MCP Apps hosts.",
        meta={"ui": {"csp": CSP.model_dump(by_alias=True, exclude_none=True), "prefersBorder": True}}))
    return apps
