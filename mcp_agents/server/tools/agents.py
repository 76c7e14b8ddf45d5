"""Toolset `runs`, part 0: find the agents that can be started (`list_agents`)."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from mcp_agents.models import InteractionRef
from mcp_agents.server.agents import interactive, startable_agents
from mcp_agents.server.deps import client_for, server_deps
from mcp_agents.server.rendering import clip
from mcp_agents.server.tools._common import P, reply
from mcp_agents.server.toolsets import Registry, hints

registry = Registry("runs")
DESCRIPTION_MAX = 300


class AgentRow(BaseModel):
    name: str = Field(description="Pass as start_agent_run's interaction.")
    title: str | None = Field(None, description="Display name, when it differs.")
    description: str = ""
    tags: list[str] | None = None
    interactive: bool = Field(description="It may ask questions and take follow-up input.")

    @classmethod
    def of(cls, agent: InteractionRef) -> AgentRow:
        return cls(name=agent.code, title=agent.name if agent.name != agent.code else None,
                   description=clip(agent.description or "", DESCRIPTION_MAX), tags=agent.tags or None,
                   interactive=interactive(agent))

    def line(self) -> str:
        head = self.name + (f" ({clip(self.title, 60)})" if self.title else "")
        tags = f" [{', '.join(self.tags)}]" if self.tags else ""
        mode = "" if self.interactive else " (not interactive)"
        return f"{head}{tags}{mode}: {self.description or 'no description'}"


class AgentsList(BaseModel):
    agents: list[AgentRow]


@registry.tool("list_agents", title="List agents",
               annotations=hints(read_only=True, destructive=False, idempotent=True, open_world=True))
async def list_agents(
    ctx: Context[Any, Any],
    query: Annotated[str | None, P("Words to match in name, description or tags.", max_length=200)] = None,
) -> Annotated[CallToolResult, AgentsList]:
    """Use first to find which agents you can start: each one's name for start_agent_run, what it does, tags."""
    agents = await startable_agents(client_for(ctx), server_deps(ctx).settings, query or "")
    result = AgentsList(agents=[AgentRow.of(agent) for agent in agents])
    text = "\n".join(row.line() for row in result.agents)
    if not text:
        text = f"no agent matches {query!r}; call again without query" if query else "no agents can be started"
    return reply(result, text)
