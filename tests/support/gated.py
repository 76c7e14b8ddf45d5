"""`Gated`: an interactive test agent whose turns the test drives, loaded with
`--interactions tests.support.gated:INTERACTIONS`.

Its first turn answers at once (`First: <task>`, or `Restarted: <task>` when restarted). Every later turn starts
with a `UserInput` and then posts nothing until the test says so: a `Think` signal posts a THOUGHT with its
`text`, a `Finish` signal ends the turn with `You said: <the input>` (and IDLE). So a test can look at a run
whose new turn has begun but shows nothing yet, without any race against the agent.
"""

from __future__ import annotations

from typing import Any

from mcp_agents.local.interactions import RunContext
from mcp_agents.local.interactions.base import Post, next_input


class Gated:
    name = "Gated"
    version = "1"
    description = "Test agent: after the first turn, each turn waits for Think/Finish signals before answering."
    resumable = False

    async def run(self, ctx: RunContext) -> Any:
        ending = [Post("ANSWER", f"{'Restarted' if ctx.mode == 'restart' else 'First'}: {ctx.data.get('task', '')}")]
        while True:
            said = (await next_input(ctx, ending)).message
            while True:
                signal = await ctx.next_signal()
                if signal is None:
                    continue
                if signal.name == "Finish":
                    break
                if signal.name == "Think":
                    await ctx.post("THOUGHT", str(signal.payload.get("text", "")))
            ending = [Post("ANSWER", f"You said: {said}")]


INTERACTIONS = [Gated]
