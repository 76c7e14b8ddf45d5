"""What an interaction is, what it is given, and how it is found by name.

An interaction is any object with `name`, `version`, `description`, `resumable` and an async
`run(ctx)`; `run` posts messages through `ctx`, waits for signals, and returns a result (the run
completes) or raises `InteractionError` (the run fails with that message). Like a hosted
conversation, an interactive run (`ctx.interactive`) ends each turn with IDLE and waits for the
next `UserInput` (`idle_until_input`); a `Stop` ends the turn with an IDLE that starts with
"Stopped."; the run ends when it is terminated. A `resumable`
interaction is started again after a crash with `ctx.mode == "resume"`; others are failed.

Names are resolved with the seed's syntax: `Name`, `Name@<version>`, `Name@latest`, `Name@draft`; an
interaction's id (as `GET /interactions` lists it) works too. Optional attributes `tags` and `tool_names`
are published in that listing; the description is what a model reads to choose an agent: say what it
does and what `data` it takes.
User interactions are loaded from `module:attribute` sources (`--interactions`) and from the
`mcp_agents.interactions` entry point group; the attribute may be an interaction, a class (it is
instantiated), or a list of either.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

from mcp_agents.local.errors import ServiceError

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "mcp_agents.interactions"
Mode = Literal["new", "restart", "resume", "fork"]


@dataclass(frozen=True)
class Signal:
    name: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return str(self.payload.get("message", ""))


class Post(NamedTuple):
    """One message of `RunContext.post_many`."""

    type: str
    message: str = ""
    details: Any = None
    workstream: str | None = None


class InteractionError(Exception):
    """Raised by an interaction to fail its run with an ERROR message."""


class RunContext(Protocol):
    """What a running interaction can do (implemented by the runtime)."""

    run_id: str
    data: dict[str, Any]
    interactive: bool
    max_iterations: int | None
    model: str
    environment: str
    mode: Mode

    async def post(self, type: str, message: str = "", details: Any = None,
                   workstream: str | None = None) -> int: ...
    async def post_many(self, messages: Sequence[Post]) -> int:
        """Post messages together (parallel tool calls, a question and the IDLE after it); with the service's
        bursts setting they share one millisecond, as a producer's clock stamps them on the hosted service."""
        ...
    async def next_signal(self, within: float | None = None) -> Signal | None: ...
    async def history(self) -> list[dict[str, Any]]: ...
    async def set_query(self, name: str, value: Any) -> None: ...
    async def set_title(self, title: str | None = None, topic: str | None = None) -> None: ...
    async def write_artifact(self, path: str, content: bytes, content_type: str) -> None: ...
    async def emit_events(self, events: list[dict[str, Any]]) -> None: ...
    async def spawn_child(self, interaction: str, data: dict[str, Any], interactive: bool = False) -> str: ...
    async def wait_for_run(self, run_id: str, seconds: float) -> str: ...
    async def sleep_ms(self, ms: float) -> None: ...


IDLE_TEXT = "Waiting for your command..."
STOPPED_TEXT = f"Stopped. {IDLE_TEXT}"


async def next_input(ctx: RunContext, ending: Sequence[Post] = ()) -> Signal:
    """End the turn as a hosted conversation does and wait for the next `UserInput`.

    `ending` (the turn's answer, or a question) and the IDLE go out together. A `Stop` gives an IDLE
    whose text starts with "Stopped." (`status_reason: user_stopped`); other signals are acknowledged
    with an UPDATE and the IDLE again. The run itself ends only when it is terminated.
    """
    await ctx.post_many([*ending, Post("IDLE", IDLE_TEXT)])
    while True:
        signal = await ctx.next_signal()
        if signal is None:
            continue
        if signal.name == "UserInput":
            return signal
        if signal.name == "Stop":
            await ctx.post("IDLE", STOPPED_TEXT, details={"status_reason": "user_stopped"})
        else:
            await ctx.post_many([Post("UPDATE", f"received signal {signal.name}",
                                      {"signal": signal.name, "payload": signal.payload}), Post("IDLE", IDLE_TEXT)])


@runtime_checkable
class Interaction(Protocol):
    name: str
    version: str
    description: str
    resumable: bool

    async def run(self, ctx: RunContext) -> Any: ...


def interaction_id(name: str) -> str:
    """A stable id in the hosted service's form (24 hex digits), derived from the name."""
    return hashlib.sha256(f"interaction:{name}".encode()).hexdigest()[:24]


class InteractionRegistry:
    """Interactions by name and version."""

    def __init__(self) -> None:
        self._by_name: dict[str, dict[str, Interaction]] = {}
        self._names_by_id: dict[str, str] = {}
        self._registered_at: dict[str, str] = {}

    def register(self, interaction: Interaction) -> None:
        if not isinstance(interaction, Interaction):
            raise TypeError(f"{interaction!r} is not an interaction (needs name, version, description, "
                            "resumable and an async run(ctx))")
        self._by_name.setdefault(interaction.name, {})[str(interaction.version)] = interaction
        self._names_by_id[interaction_id(interaction.name)] = interaction.name
        self._registered_at[interaction.name] = datetime.now(UTC).isoformat(timespec="milliseconds").replace(
            "+00:00", "Z")

    def refs(self) -> list[dict[str, Any]]:
        """Every interaction's latest version as the hosted `InteractionRef` (what `GET /interactions` lists)."""
        return [self.ref(name) for name in sorted(self._by_name, key=str.lower)]

    def ref(self, key: str) -> dict[str, Any]:
        """One interaction, by id or name (any version syntax), as the hosted `InteractionRef`; 404 when unknown."""
        interaction = self.resolve(self._names_by_id.get(key, key))
        version = str(interaction.version)
        tool_names = [str(name) for name in getattr(interaction, "tool_names", None) or ()]
        options: dict[str, Any] = {"is_agent": True, "is_tool": False}
        if tool_names:
            options["tool_names"] = tool_names
        return {
            "id": interaction_id(interaction.name), "name": interaction.name, "endpoint": interaction.name,
            "description": interaction.description, "status": "published", "visibility": "public",
            "version": int(version) if version.isdigit() else 0,
            "tags": [str(tag) for tag in getattr(interaction, "tags", None) or ()],
            "agent_runner_options": options, "updated_at": self._registered_at[interaction.name],
        }

    def available(self) -> list[str]:
        return sorted(f"{name}@{version}" for name, versions in self._by_name.items() for version in versions)

    def resolve(self, ref: str) -> Interaction:
        """`Name[@version]` or an id -> the interaction; 404 listing the available ones when unknown."""
        name, _, version = self._names_by_id.get(ref, ref).partition("@")
        versions = self._by_name.get(name) or next(
            (items for key, items in self._by_name.items() if key.lower() == name.lower()), None)
        if versions:
            if not version or version in ("latest", "draft"):
                return versions[max(versions, key=_version_key)]
            if version in versions:
                return versions[version]
        raise ServiceError(404, f"unknown interaction {ref!r}; available: {', '.join(self.available()) or 'none'}")

    def load(self, source: str) -> None:
        """Register the interactions of a `module:attribute` source."""
        module_name, _, attr = source.partition(":")
        if not module_name or not attr:
            raise ValueError(f"interaction source {source!r} must look like `package.module:attribute`")
        target = getattr(importlib.import_module(module_name), attr)
        for item in _as_list(target):
            self.register(item() if isinstance(item, type) else item)

    def load_entry_points(self) -> None:
        for point in entry_points(group=ENTRY_POINT_GROUP):
            try:
                for item in _as_list(point.load()):
                    self.register(item() if isinstance(item, type) else item)
            except Exception:
                log.exception("cannot load interactions from entry point %s", point.value)


def _as_list(target: Any) -> list[Any]:
    if isinstance(target, list | tuple):
        return list(target)
    if isinstance(target, Iterable) and not isinstance(target, str | bytes | type):
        return list(target)
    return [target]


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), "") if version.isdigit() else (-1, version)
