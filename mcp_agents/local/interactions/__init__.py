"""Interactions: the agents the local service runs (built-ins and the user's own)."""

from mcp_agents.local.interactions.base import (
    ENTRY_POINT_GROUP,
    Interaction,
    InteractionError,
    InteractionRegistry,
    RunContext,
    Signal,
)

__all__ = ["ENTRY_POINT_GROUP", "Interaction", "InteractionError", "InteractionRegistry", "RunContext", "Signal"]
