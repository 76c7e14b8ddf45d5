"""`Echo`: answers `data.task`; when interactive, answers every UserInput, turn by turn, until terminated."""

from __future__ import annotations

from typing import Any

from mcp_agents.local.interactions.base import Post, RunContext, next_input


class Echo:
    name = "Echo"
    version = "1"
    description = ("Test agent: answers with data.task unchanged; when interactive, it then echoes each message "
                   "sent to it, going IDLE between turns, until cancelled. Use to try the start/wait/answer loop.")
    tags = ("test", "echo")
    resumable = True  # stateless: after a crash it simply waits for the next input

    async def run(self, ctx: RunContext) -> Any:
        task = ctx.data.get("task")
        history = await ctx.history() if ctx.mode != "new" else []
        answered = any(item.get("t") == "ANSWER" for item in history)
        answer = [Post("ANSWER", str(task) if task is not None else "(no task given)")]
        if answered and not (ctx.mode == "restart" and not ctx.interactive):
            answer = []
        if not ctx.interactive:
            if answer:
                await ctx.post_many(answer)
            return {"answer": task}
        replies = 0
        while True:
            signal = await next_input(ctx, answer)
            replies += 1
            if ctx.max_iterations is not None and replies >= ctx.max_iterations:
                await ctx.post_many([Post("ANSWER", signal.message),
                                     Post("WARNING", f"max_iterations ({ctx.max_iterations}) reached")])
                return {"replies": replies}
            answer = [Post("ANSWER", signal.message)]
