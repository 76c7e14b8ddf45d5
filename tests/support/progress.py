"""A progress callback for MCP tool calls that records what the server relayed."""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio


@dataclass
class Progress:
    """Collects the progress notifications of one tool call; `seen` is set at the first one."""

    events: list[tuple[float, float | None, str | None]] = field(default_factory=list)
    seen: anyio.Event = field(default_factory=anyio.Event)

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.events.append((progress, total, message))
        self.seen.set()

    @property
    def lines(self) -> list[str]:
        return [message or "" for _, _, message in self.events]
