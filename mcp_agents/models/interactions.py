"""Interactions: the agents a caller may start, as `GET /interactions` lists them (API version 20260803).

`InteractionRef` is the hosted list item (`GET /interactions?is_agent=true`); `GET /interactions/{id}`
answers the full interaction, a superset, so the same tolerant model reads both. A run is started with
`code`: the interaction's endpoint (its code name), else its id.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

INTERACTION_STATUSES = ("draft", "published", "archived", "code", "unknown")


class AgentRunnerOptions(BaseModel):
    """How an interaction is exposed in the agent runner (the hosted schema's `AgentRunnerOptions`)."""

    model_config = ConfigDict(extra="allow")

    is_agent: bool | None = Field(None, description="Runs as an agent (can be started as an agent run).")
    is_tool: bool | None = Field(None, description="Available to other agents as a tool (sub-agent).")
    is_skill: bool | None = None
    tool_names: list[str] | None = Field(None, description="Its default tools.")
    collection_id: str | None = None


class InteractionRef(BaseModel):
    """One interaction, in the hosted `InteractionRef` shape."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    endpoint: str = ""
    description: str | None = None
    status: str = "unknown"
    visibility: str | None = None
    version: int | float = 0
    tags: list[str] = Field(default_factory=list)
    parent: str | None = None
    model: str | None = None
    agent_runner_options: AgentRunnerOptions | None = None
    updated_at: str | None = None

    @property
    def code(self) -> str:
        """What `POST /agents` takes as `interaction` for this one: its code name, else its id."""
        return self.endpoint or self.id

    @property
    def is_agent(self) -> bool:
        return bool(self.agent_runner_options and self.agent_runner_options.is_agent)


class InteractionList(RootModel[list[InteractionRef]]):
    """`GET /interactions`: an array (an `{items: [...]}` envelope is read too)."""

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            return data["items"]
        return data
