"""The tool registry: every toolset declared once, every tool naming its toolset.

`--toolsets` picks toolsets, `--read-only` keeps only tools whose `readOnlyHint` is true (the
annotation and nothing else decides), and `--allow-interactions` limits what may be started.
The snapshot, the README table and the budget test all read this registry.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mcp.types import ToolAnnotations

from mcp_agents.settings import DEFAULT_TOOLSETS, TOOLSETS, Settings

TOOLSET_DESCRIPTIONS: dict[str, str] = {
    "runs": "Find agents, start runs, follow them live, answer their questions, inspect and manage them.",
    "artifacts": "List, read and upload the files of a run.",
    "reporting": "For agents that report into a run: post updates and telemetry events.",
    "analytics": "Usage, cost, latency and error reports over agent runs.",
}
assert tuple(TOOLSET_DESCRIPTIONS) == TOOLSETS


@dataclass(frozen=True)
class ToolSpec:
    """One tool's model-facing contract plus the function that implements it."""

    name: str
    toolset: str
    title: str
    description: str
    annotations: ToolAnnotations
    fn: Callable[..., Any]

    @property
    def read_only(self) -> bool:
        return bool(self.annotations.read_only_hint)


def hints(*, read_only: bool, destructive: bool, idempotent: bool, open_world: bool) -> ToolAnnotations:
    """Annotations with all four hints set explicitly (a client must never have to guess a default)."""
    return ToolAnnotations(read_only_hint=read_only, destructive_hint=destructive, idempotent_hint=idempotent,
                           open_world_hint=open_world)


class Registry:
    """Collects a toolset module's tools in declaration order."""

    def __init__(self, toolset: str) -> None:
        if toolset not in TOOLSETS:
            raise ValueError(f"unknown toolset {toolset!r}")
        self.toolset = toolset
        self.specs: list[ToolSpec] = []

    def tool(self, name: str, *, title: str, annotations: ToolAnnotations) -> Callable[[Callable[..., Any]], Any]:
        """Declare the decorated async function as tool `name`; its docstring is the description."""

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            description = inspect.cleandoc(fn.__doc__ or "")
            if not description:
                raise ValueError(f"tool {name} needs a docstring: it is the model-facing description")
            self.specs.append(ToolSpec(name, self.toolset, title, description, annotations, fn))
            return fn

        return register


# The modules declaring each toolset's tools, in declaration order. Imported only when their
# toolset is wanted: a server that does not expose a toolset does not pay for importing it.
TOOLSET_MODULES: dict[str, tuple[str, ...]] = {
    "runs": ("mcp_agents.server.tools.agents", "mcp_agents.server.tools.runs", "mcp_agents.server.tools.run_views"),
    "artifacts": ("mcp_agents.server.tools.artifacts",),
    "reporting": ("mcp_agents.server.tools.reporting",),
    "analytics": ("mcp_agents.server.tools.analytics",),
}
assert tuple(TOOLSET_MODULES) == TOOLSETS


def toolset_specs(toolsets: Iterable[str] = TOOLSETS) -> list[ToolSpec]:
    """The tools of `toolsets`, in the order of `TOOLSETS` (importing only their modules)."""
    chosen = set(toolsets)
    specs: list[ToolSpec] = []
    for toolset, modules in TOOLSET_MODULES.items():
        if toolset in chosen:
            for module in modules:
                specs.extend(importlib.import_module(module).registry.specs)
    names = [spec.name for spec in specs]
    if len(names) != len(set(names)):
        raise RuntimeError("duplicate tool name in the registry")
    return specs


def all_specs() -> list[ToolSpec]:
    """Every tool of every toolset, in the order of `TOOLSETS`."""
    return toolset_specs(TOOLSETS)


def select(specs: Iterable[ToolSpec], *, toolsets: Iterable[str] = DEFAULT_TOOLSETS,
           read_only: bool = False) -> list[ToolSpec]:
    """The tools to expose: those of the chosen toolsets, minus writers in read-only mode."""
    chosen = set(toolsets)
    return [spec for spec in specs if spec.toolset in chosen and (spec.read_only or not read_only)]


def selected_specs(settings: Settings) -> list[ToolSpec]:
    return select(toolset_specs(settings.toolsets), toolsets=settings.toolsets, read_only=settings.read_only)


def interaction_name(interaction: str) -> str:
    """`Name@version` -> `Name`: what `--allow-interactions` compares."""
    return interaction.split("@", 1)[0].strip()


def interaction_allowed(settings: Settings, interaction: str) -> bool:
    allowed = settings.allow_interactions
    if not allowed:
        return True
    name = interaction_name(interaction).casefold()
    return any(interaction_name(item).casefold() == name for item in allowed)
