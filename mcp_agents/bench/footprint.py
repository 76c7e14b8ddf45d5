"""Tool footprint: the bytes a model reads for each toolset, from a real `tools/list`.

Model-facing bytes are the minified JSON of each tool's name, description and input schema (what
a host puts in the model's context); the whole `tools/list` also counts titles, annotations and
output schemas. The lists come from `mcp-agents serve` subprocesses over stdio, one with the
default toolsets and one with all of them; each tool is attributed to its toolset by the registry.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_agents.bench.harness import Harness, Service
from mcp_agents.bench.report import Figure, Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.settings import DEFAULT_TOOLSETS, TOOLSETS

BUDGET = 10_000


def minified(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def model_facing(tool: dict[str, Any]) -> dict[str, Any]:
    return {"name": tool["name"], "description": tool.get("description") or "", "inputSchema": tool["inputSchema"]}


def _toolset_of() -> dict[str, str]:
    from mcp_agents.server.toolsets import all_specs

    return {spec.name: spec.toolset for spec in all_specs()}


async def _tools(harness: Harness, service: Service, toolsets: str | None) -> list[dict[str, Any]]:
    env = harness.server_env(service, **({"MCP_AGENTS_TOOLSETS": toolsets} if toolsets else {}))
    async with harness.stdio_client(env, log_name="footprint.log") as client:
        listed = await client.list_tools()
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in listed.tools]


async def measure(harness: Harness, service: Service, sizes: Sizes) -> Figure:
    figure = Figure("tool_footprint", "model-facing bytes of tool definitions (minified JSON)")
    default_tools = await _tools(harness, service, None)
    all_tools = await _tools(harness, service, "all")
    owner = _toolset_of()
    per_set: dict[str, list[dict[str, Any]]] = {name: [] for name in TOOLSETS}
    for tool in all_tools:
        per_set.setdefault(owner.get(tool["name"], "unregistered"), []).append(tool)
    for name, tools in per_set.items():
        size = sum(minified(model_facing(tool)) for tool in tools)
        default = " (default)" if name in DEFAULT_TOOLSETS else ""
        figure.lines.append(Line(f"toolset `{name}`{default}: {len(tools)} tools", "bytes", size))
    default_size = sum(minified(model_facing(tool)) for tool in default_tools)
    figure.lines.append(Line(f"default toolsets ({', '.join(DEFAULT_TOOLSETS)}): {len(default_tools)} tools",
                             "bytes", default_size, target=f"<= {BUDGET:,} bytes", ok=default_size <= BUDGET))
    figure.lines.append(Line(f"all toolsets: {len(all_tools)} tools", "bytes",
                             sum(minified(model_facing(tool)) for tool in all_tools)))
    figure.lines.append(Line("whole `tools/list`, default toolsets", "bytes", minified({"tools": default_tools})))
    figure.lines.append(Line("whole `tools/list`, all toolsets", "bytes", minified({"tools": all_tools})))
    figure.notes.append("model-facing = {name, description, inputSchema}; the whole tools/list adds title, "
                        "annotations, outputSchema and _meta")
    return figure
