"""The MCP tools, one module per toolset; `register_tools` adds the selected ones to a server."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cached_property
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

from mcp.server import MCPServer
from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata

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
        _keep_text_as_sent(server, spec.name)
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


def _takes_text(annotation: Any) -> bool:
    """Whether a parameter accepts a string as it is (`str`, or a union with `str` such as `str | None`)."""
    if annotation is str:
        return True
    return get_origin(annotation) in (Union, UnionType) and any(_takes_text(arm) for arm in get_args(annotation))


class _TextAsSent(FuncMetadata):
    """The SDK's argument pre-parsing, except for parameters that take text.

    The SDK decodes a JSON-looking string argument (`'{"a": 1}'`, `'[1]'`, `'null'`) into an object
    before validation, for clients that send lists and objects as strings; it spares only parameters
    typed exactly `str`. A `str | None` parameter then received a dict (refused) or None (`'null'`
    read as "not given"): a JSON document could not be uploaded, sent as input or searched for.
    A string is a valid value for such a parameter, so it is kept as sent; other parameters are
    pre-parsed as before.
    """

    @cached_property
    def _text_keys(self) -> frozenset[str]:
        return frozenset(key for name, field in self.arg_model.model_fields.items() if _takes_text(field.annotation)
                         for key in (name, field.alias) if key)

    def pre_parse_json(self, data: dict[str, Any]) -> dict[str, Any]:
        parsed = super().pre_parse_json(data)
        return {key: data[key] if key in self._text_keys else value for key, value in parsed.items()}


def _keep_text_as_sent(server: MCPServer[ServerDeps], name: str) -> None:
    """Give the registered tool `_TextAsSent` argument handling (no public hook either: see `_compact_schema`)."""
    tool = server._tool_manager.get_tool(name)  # not optional, unlike compact schemas: fail loudly if it moves
    if tool is None:
        raise RuntimeError(f"tool {name} was not registered")
    meta = tool.fn_metadata
    tool.fn_metadata = _TextAsSent.model_construct(**{key: getattr(meta, key) for key in FuncMetadata.model_fields})
