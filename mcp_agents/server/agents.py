"""The agents a caller may start: `GET /interactions?is_agent=true`, minus archived ones and those that
`--allow-interactions` rules out, optionally filtered by words. Used by `list_agents` and by argument
completion, so both see the same agents on the hosted service and on the local one."""

from __future__ import annotations

from mcp_agents.client import AgentRunsClient
from mcp_agents.models import InteractionRef
from mcp_agents.server.toolsets import interaction_allowed
from mcp_agents.settings import Settings

LIST_LIMIT = 200  # the most one listing answers; more agents than this is past what a model can choose from
NOT_STARTABLE = frozenset({"archived"})
NON_INTERACTIVE_TAG = "non-interactive"


def matches(agent: InteractionRef, words: list[str]) -> bool:
    """Every word appears in the agent's name, code, description or tags (case-insensitive)."""
    text = " ".join([agent.name, agent.code, agent.description or "", *agent.tags]).casefold()
    return all(word in text for word in words)


def interactive(agent: InteractionRef) -> bool:
    """Whether a run of it may ask questions and take follow-up input (agents do unless tagged otherwise)."""
    return agent.is_agent and NON_INTERACTIVE_TAG not in agent.tags


async def startable_agents(client: AgentRunsClient, settings: Settings, query: str = "") -> list[InteractionRef]:
    listed = await client.interactions.list(is_agent=True, limit=LIST_LIMIT)
    words = query.casefold().split()
    return [agent for agent in listed
            if agent.status not in NOT_STARTABLE and interaction_allowed(settings, agent.code)
            and (not words or matches(agent, words))]
