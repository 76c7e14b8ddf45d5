"""`Echo`: answers `data.task`; when interactive, answers every UserInput until Stop."""

from __future__ import annotations

from typing import Any

from mcp_agents.local.interactions.base import RunContext


class Echo:
    name = "Echo"
    version = "1"
    description = ("Test agent: answers with data.task unchanged; when interactive, then replies to each message "
                   "sent to it with that same text, until Stop. Use to try the start/wait/answer loop.")
    tags = ("test", "echo")
    resumable = True  # stateless: after a crash it simply waits for the next input

    async def run(self, ctx: RunContext) -> Any:
        task = ctx.data.get("task")
        history = await ctx.history() if ctx.mode != "new" else []
        answered = any(item.get("t") == "ANSWER" for item in history)
        if not answered or (ctx.mode == "restart" and not ctx.interactive):
            await ctx.post("ANSWER", str(task) if task is not None else "(no task given)")
        if not ctx.interactive:
            return {"answer": task}
        replies = 0
        while True:
            signal = await ctx.next_signal()
            if signal is None or signal.name == "Stop":
                return {"replies": replies}
            if signal.name == "UserInput":
                await ctx.post("ANSWER", signal.message)
                replies += 1
                if ctx.max_iterations is not None and replies >= ctx.max_iterations:
                    await ctx.post("WARNING", f"max_iterations ({ctx.max_iterations}) reached")
                    return {"replies": replies}
            else:
                await ctx.post("UPDATE", f"received signal {signal.name}", details={"signal": signal.name,
                                                                                 "payload": signal.payload})
