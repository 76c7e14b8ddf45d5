"""`Demo`: a scripted agent that exercises every feature of the API without any LLM.

It plans three workstreams (the `AgentPlan`, `ActiveWorkstreams` and `AvailableTools` queries
answer), posts THOUGHT tool calls, UPDATE and PLAN messages, writes a Markdown report, a CSV and
a PNG chart, optionally starts a child run, asks a QUESTION when interactive and `ask` is set,
emits telemetry with plausible token counts, and answers with ANSWER (or fails with `fail`). A
non-interactive run then completes; an interactive one goes IDLE and answers each follow-up
UserInput, turn by turn, until it is terminated (as a hosted conversation does).
`data`: `task`, `steps` (default 3), `step_delay_ms` (default 100), `ask`, `fail`, `spawn_child`.
"""

from __future__ import annotations

import struct
import time
import zlib
from datetime import UTC, datetime
from typing import Any

from mcp_agents.local.interactions.base import InteractionError, Post, RunContext, next_input

TOOLS = [
    {"name": "plan", "description": "Create or update the work plan."},
    {"name": "search_documents", "description": "Search the document collection."},
    {"name": "analyze_data", "description": "Compute figures from a table."},
    {"name": "write_artifact", "description": "Write a file to the run's artifacts."},
    {"name": "start_subagent", "description": "Delegate a sub-task to a child run."},
]
WORKSTREAMS = [("ws-1", "Research"), ("ws-2", "Analysis"), ("ws-3", "Report")]
MAX_STEPS = 100
PARALLEL_CALLS = 2  # tool calls of one step made at once


def png_chart(values: list[int], width: int = 64, height: int = 32) -> bytes:
    """A small bar chart as a real PNG (grayscale, no dependency)."""
    top = max(values) or 1
    bar = max(1, width // max(1, len(values)))
    rows = []
    for y in range(height):
        level = (height - y) / height
        row = bytearray([0])  # filter byte
        for x in range(width):
            index = x // bar
            filled = index < len(values) and values[index] / top >= level and x % bar != bar - 1
            row.append(40 if filled else 255)
        rows.append(bytes(row))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Demo:
    name = "Demo"
    version = "1"
    description = ("Demo research agent (scripted, no LLM): plans, works in steps, writes a report, a CSV and a "
                   "chart as artifacts, and answers. data: task; optional steps, step_delay_ms, ask (asks you a "
                   "question first), spawn_child, fail.")
    tags = ("demo", "research", "artifacts")
    tool_names = tuple(tool["name"] for tool in TOOLS)
    resumable = False

    async def run(self, ctx: RunContext) -> Any:
        data = ctx.data
        task = str(data.get("task") or "Summarize the demo dataset")
        steps = max(0, min(int(data.get("steps", 3)), MAX_STEPS))
        if ctx.max_iterations is not None:
            steps = min(steps, ctx.max_iterations)
        delay = max(0.0, float(data.get("step_delay_ms", 100)))
        started = time.monotonic()
        llm_calls = tool_calls = tokens_in = tokens_out = 0

        def llm(call_type: str, prompt: int, completion: int, tools: int) -> dict[str, Any]:
            nonlocal llm_calls, tokens_in, tokens_out
            llm_calls += 1
            tokens_in += prompt
            tokens_out += completion
            return {"eventType": "llm_call", "promptTokens": prompt, "completionTokens": completion,
                    "totalTokens": prompt + completion, "durationMs": 400 + 37 * llm_calls, "success": True,
                    "streamingEnabled": False, "toolUseCount": tools, "callType": call_type}

        def tool(name: str, iteration: int, kind: str = "builtin", **extra: Any) -> dict[str, Any]:
            nonlocal tool_calls
            tool_calls += 1
            return {"eventType": "tool_call", "toolName": name, "toolUseId": f"tu-{tool_calls}", "toolType": kind,
                    "iteration": iteration, "success": True, "durationMs": 50 + 11 * tool_calls,
                    "parameters": {"query": task[:40], "step": iteration}, "parametersSizeBytes": 64,
                    "resultSizeBytes": 512 + 16 * tool_calls, **extra}

        await ctx.set_title(f"Demo: {task}"[:200], topic="Demo agent run")
        await ctx.emit_events([{"eventType": "agent_run_started"}])
        await ctx.set_query("AvailableTools", {"tools": TOOLS})
        plan: list[dict[str, Any]] = [
            {"id": index + 1, "goal": f"{name}: {task}", "workstream": ws, "status": "pending"}
            for index, (ws, name) in enumerate(WORKSTREAMS)]
        workstreams: list[dict[str, Any]] = [{"id": ws, "name": name, "status": "pending"} for ws, name in WORKSTREAMS]
        await self._publish_plan(ctx, plan, workstreams)
        await ctx.post("THOUGHT", "Creating a plan", details={"tool": "plan", "tool_status": "completed"})
        await ctx.emit_events([llm("start", 1200 + 4 * len(task), 180, 1), tool("plan", 1)])
        tasks = [{key: item[key] for key in ("id", "goal", "status")} for item in plan]  # the hosted PlanTask
        await ctx.post("PLAN", f"Plan with {len(plan)} workstreams", details={"plan": tasks})

        figures: list[int] = []
        for step in range(1, steps + 1):
            ws, ws_name = WORKSTREAMS[(step - 1) % len(WORKSTREAMS)]
            plan[(step - 1) % len(plan)]["status"] = "in_progress"
            for item in workstreams:
                item["status"] = "active" if item["id"] == ws else item["status"]
            await self._publish_plan(ctx, plan, workstreams)
            name = "search_documents" if step % 2 else "analyze_data"
            # Parallel tool calls: THOUGHTs with no text and no activity id that only their details tell apart.
            await ctx.post_many([Post("THOUGHT", f"Calling {name}", {"tool": name, "tool_status": "running"}, ws),
                                 *(Post("THOUGHT", "", {"tool": name, "tool_status": "running", "part": part}, ws)
                                   for part in range(1, PARALLEL_CALLS + 1))])
            await ctx.sleep_ms(delay)
            figures.append(10 + (step * 37) % 90)
            await ctx.post("THOUGHT", f"{name} finished", workstream=ws,
                           details={"tool": name, "tool_status": "completed", "duration_ms": int(delay)})
            await ctx.emit_events([tool(name, step + 1), llm("resume_tools", 1500 + 220 * step, 240, 1)])
            await ctx.post("UPDATE", f"{ws_name}: step {step} of {steps} done",
                           details={"current": step, "total": steps}, workstream=ws)

        if data.get("spawn_child"):
            child = await ctx.spawn_child("Echo", {"task": f"Sub-task of {ctx.run_id}: check the figures"})
            await ctx.post("UPDATE", f"Started child run {child}",
                           details={"process_run_id": child, "child_run_id": child})
            await ctx.emit_events([tool("start_subagent", steps + 2, "interaction", spawnedChildWorkflow=child)])
            status = await ctx.wait_for_run(child, seconds=30)
            await ctx.post("UPDATE", f"Child run {child} {status}", details={"process_run_id": child, "status": status})

        await self._write_artifacts(ctx, task, figures)
        await ctx.emit_events([tool("write_artifact", steps + 3)])
        reply = None
        ask = data.get("ask")
        if ctx.interactive and ask:
            reply = (await next_input(ctx, [Post("QUESTION", str(ask))])).message
            await ctx.emit_events([llm("resume_user", 2400, 200, 0)])
        for item in plan:
            item["status"] = "completed"
        for item in workstreams:
            item["status"] = "completed"
        await self._publish_plan(ctx, plan, workstreams)
        duration = int((time.monotonic() - started) * 1000)
        fail = data.get("fail")
        completed: dict[str, Any] = {
            "eventType": "agent_run_completed", "durationMs": duration, "totalIterations": steps + 1,
            "totalToolCalls": tool_calls, "totalLlmCalls": llm_calls,
            "tokenUsage": {"input": tokens_in, "output": tokens_out}}
        if fail:
            await ctx.emit_events([{**completed, "success": False, "errorType": "demo_failure",
                                    "errorMessage": str(fail)[:200]}])
            raise InteractionError(str(fail))
        answer = f"Done: {task}. {steps} steps, figures {figures}." + (f" You said: {reply}" if reply else "")
        ending = [Post("ANSWER", answer, {"artifacts": ["report.md", "data.csv", "chart.png"]})]
        await ctx.emit_events([{**completed, "success": True}])
        if not ctx.interactive:
            await ctx.post_many(ending)
            return {"success": True, "figures": figures}
        while True:  # a conversation: every follow-up gets an answer, until the run is terminated
            follow_up = await next_input(ctx, ending)
            await ctx.emit_events([llm("resume_user", 2600, 120, 0)])
            ending = [Post("ANSWER", f"About {task}: you said {follow_up.message!r}; the figures were {figures}.")]

    async def _publish_plan(self, ctx: RunContext, plan: list[dict[str, Any]],
                            workstreams: list[dict[str, Any]]) -> None:
        await ctx.set_query("AgentPlan", {"plan": plan})
        await ctx.set_query("ActiveWorkstreams", {"workstreams": [dict(item) for item in workstreams]})

    async def _write_artifacts(self, ctx: RunContext, task: str, figures: list[int]) -> None:
        rows = "\n".join(f"{index + 1},{value}" for index, value in enumerate(figures))
        await ctx.write_artifact("data.csv", f"step,value\n{rows}\n".encode(), "text/csv")
        report = f"# Demo report\n\nTask: {task}\n\nGenerated {_now_iso()}.\n\n| step | value |\n|---|---|\n"
        report += "".join(f"| {index + 1} | {value} |\n" for index, value in enumerate(figures))
        await ctx.write_artifact("report.md", report.encode(), "text/markdown")
        await ctx.write_artifact("chart.png", png_chart(figures or [1]), "image/png")
