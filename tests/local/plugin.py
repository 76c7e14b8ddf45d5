"""A user interaction loaded with `--interactions tests.local.plugin:INTERACTIONS` in the tests."""

from __future__ import annotations

from typing import Any

from mcp_agents.local.interactions import RunContext


class Shout:
    name = "Shout"
    version = "2"
    description = "Answers data.task in capitals."
    resumable = False

    async def run(self, ctx: RunContext) -> Any:
        await ctx.post("ANSWER", str(ctx.data.get("task", "")).upper())
        return {"shouted": True}


class ShoutV1(Shout):
    version = "1"

    async def run(self, ctx: RunContext) -> Any:
        await ctx.post("ANSWER", "v1")
        return None


INTERACTIONS = [Shout, ShoutV1()]


class Deaf:
    """Works until it is terminated and never reads a signal."""

    name = "Deaf"
    version = "1"
    description = "Never reads signals."
    resumable = False

    async def run(self, ctx: RunContext) -> Any:
        await ctx.post("THOUGHT", "busy")
        while True:
            await ctx.sleep_ms(60_000)


DEAF = [Deaf]
