"""The MCP tools, one module per toolset; `register_tools` adds the selected ones to a server."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, get_type_hints

from mcp.server import MCPServer

from mcp_agents.server.deps import ServerDeps
from mcp_agents.server.tools._common import guarded, strip_titles
from mcp_agents.server.toolsets import ToolSpec, selected_specs
from mcp_agents.server.viewer import tool_meta
from mcp_agents.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["register_tools"]


def register_tools(server: MCPServer[ServerDeps], settings: Settings) -> list[ToolSpec]:
    """Add the tools chosen by `--toolsets` and `--read-only`; returns their specs."""
    specs = selected_specs(settings)
    for spec in specs:
        _resolve_annotations(spec.fn)
        server.add_tool(guarded(spec.fn), name=spec.name, title=spec.title, description=spec.description,
                        annotations=spec.annotations, meta=tool_meta(spec.name))
        _compact_schema(server, spec.name)
    return specs


def _resolve_annotations(fn: Callable[..., Any]) -> None:
    """Evaluate the tool's string annotations (`from __future__ import annotations`) once, in place.

    The SDK evaluates them several times per tool while registering it (signature, context and
    resolver lookups, argument model), and each evaluation rebuilds every `P(...)` field; resolved
    once, startup is faster and the schemas are the same objects either way.
    """
    fn.__annotations__ = get_type_hints(fn, include_extras=True)


def _compact_schema(server: MCPServer[ServerDeps], name: str) -> None:
    """Drop pydantic's generated titles from the input schema: they cost tokens and say nothing.

    MCPServer has no public hook to post-process a registered tool's schema, hence the private
    attribute; without it the schema is only larger, never wrong.
    """
    manager = getattr(server, "_tool_manager", None)
    tool = manager.get_tool(name) if manager is not None else None
    if tool is not None:
        tool.parameters = strip_titles(tool.parameters)
