"""The conformance suite's task fixtures, served by the project's own Tasks extension.

Each fixture tool is an agent run on the local service (the `Fixture` interaction below, loaded
with `interactions=["tests.tasks.conformance_fixture:INTERACTIONS"]`), handed off to a task with
`handoff()` exactly as `start_agent_run` does; `greet` is synchronous. `protocol_error_job`'s run
becomes unreadable through a real fault proxy (the service refuses the credential for it): the
protocol error that makes a task `failed`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.types import (
    CallToolResult,
    ElicitRequest,
    ElicitRequestFormParams,
    ElicitResult,
    InputRequiredResult,
    TextContent,
)

from mcp_agents.client import AgentRunsClient
from mcp_agents.local.interactions import InteractionError, RunContext
from mcp_agents.models.cursor import START
from mcp_agents.server.deps import ServerDeps, client_for
from mcp_agents.server.tasks import TaskKeys, Tasks, handoff, register_tasks, wants_task
from mcp_agents.server.tasks.handoff import handed_off
from mcp_agents.settings import Settings

REQUIRED = frozenset({"failing_job", "test_tool_with_task"})
SYNC_WAIT_SECONDS = 30.0


class Fixture:
    name = "Fixture"
    version = "1"
    description = "The conformance suite's jobs: slow, fail, confirm, multi, hello (and count, for the tests)."
    resumable = False

    async def run(self, ctx: RunContext) -> Any:
        data = ctx.data
        job = data.get("job")
        if job == "slow":
            await ctx.sleep_ms(float(data.get("seconds", 0)) * 1000)
            await ctx.post("ANSWER", f"computed {data.get('label', '')} in {data.get('seconds', 0)} s")
        elif job == "fail":
            await ctx.sleep_ms(1000)
            raise InteractionError("the job failed")
        elif job == "count":  # how many answers reach the agent (a duplicate tasks/update must not add one)
            await ctx.post("QUESTION", "Your answer?")
            replies = []
            signal = await ctx.next_signal()
            while signal is not None and signal.name == "UserInput":
                replies.append(signal.message)
                signal = await ctx.next_signal(within=1.0)
            await ctx.post("ANSWER", f"replies: {len(replies)}")
        elif job == "hello":
            await ctx.post("ANSWER", f"Hello, {data.get('name')}!")
        elif job in ("confirm", "multi"):
            questions = [f"Delete {data.get('filename', 'the file')}?"] if job == "confirm" else ["First?", "Second?"]
            for question in questions:
                await ctx.post("QUESTION", question)
            replies = []
            while len(replies) < len(questions):
                signal = await ctx.next_signal()
                if signal is None or signal.name == "Stop":
                    return {"stopped": True}
                if signal.name == "UserInput":
                    replies.append(signal.message)
            await ctx.post("ANSWER", f"{job}: " + "; ".join(replies))
        return {"job": job}


INTERACTIONS = [Fixture]


async def _run(ctx: Context[Any, Any], **data: Any) -> CallToolResult:
    """Start a Fixture run; a task when the caller declared tasks, else wait for its end (bounded)."""
    client = client_for(ctx)
    run = await client.runs.create(interaction="Fixture", data=data, interactive=True)
    immediate = CallToolResult(content=[TextContent(type="text", text=f"run {run.id} started")])
    if wants_task(ctx):
        return handoff(immediate, run.id, START)
    with anyio.fail_after(SYNC_WAIT_SECONDS):
        async for _ in client.messages.stream(run.id):
            pass
    answer = [m.message for m in await client.messages.retrieve(run.id) if m.type.value == "ANSWER"]
    return CallToolResult(content=[TextContent(type="text", text=answer[-1] if answer else "done")])


def fixture_server(client: AgentRunsClient, key: str, on_protocol_error: Callable[[str], Awaitable[None]]
                   ) -> MCPServer[ServerDeps]:
    settings = Settings(task_key=key)

    @asynccontextmanager
    async def lifespan(_: MCPServer[ServerDeps]) -> AsyncIterator[ServerDeps]:
        yield ServerDeps(settings, client)

    tasks = Tasks(TaskKeys.from_secret(key) or TaskKeys([b"\0" * 32]), required=REQUIRED)
    server: MCPServer[ServerDeps] = MCPServer("conformance-fixture", lifespan=lifespan, extensions=[tasks])

    @server.tool()
    async def greet(name: str) -> str:
        return f"Hello, {name}!"

    @server.tool()
    async def slow_compute(ctx: Context[Any, Any], seconds: float = 1, label: str = "") -> CallToolResult:
        return await _run(ctx, job="slow", seconds=seconds, label=label)

    @server.tool()
    async def failing_job(ctx: Context[Any, Any]) -> CallToolResult:
        return await _run(ctx, job="fail")

    @server.tool()
    async def protocol_error_job(ctx: Context[Any, Any]) -> CallToolResult:
        result = await _run(ctx, job="slow", seconds=60)
        mark = handed_off(result)
        if mark is not None:
            await on_protocol_error(mark[0])
        return result

    @server.tool()
    async def confirm_delete(ctx: Context[Any, Any], filename: str = "file.txt") -> CallToolResult:
        return await _run(ctx, job="confirm", filename=filename)

    @server.tool()
    async def multi_input(ctx: Context[Any, Any]) -> CallToolResult:
        return await _run(ctx, job="multi")

    @server.tool()
    async def test_tool_with_task(ctx: Context[Any, Any]) -> CallToolResult | InputRequiredResult:
        response = (ctx.input_responses or {}).get("user_name")
        if not isinstance(response, ElicitResult) or response.action != "accept":
            schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
            return InputRequiredResult(input_requests={"user_name": ElicitRequest(params=ElicitRequestFormParams(
                message="What is your name?", requested_schema=schema))}, request_state=json.dumps({"round": 1}))
        return await _run(ctx, job="hello", name=(response.content or {}).get("name"))

    register_tasks(server, tasks)
    return server
