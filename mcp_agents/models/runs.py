"""Agent runs: the run object, creation, listing, search, lifecycle answers.

Request models are strict (unknown fields are refused, so a typo is an error, not a silent no-op);
response models are tolerant (`extra="allow"`) because the live service adds fields over time.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RunStatus = Literal["created", "running", "completed", "failed", "cancelled"]
RUN_STATUSES: tuple[str, ...] = ("created", "running", "completed", "failed", "cancelled")
TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})
ACTIVE_STATUSES = frozenset({"created", "running"})
Visibility = Literal["private", "project"]


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


class EmailChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["email"] = "email"
    to_email: str = Field(min_length=3, max_length=320)
    thread_subject: str | None = Field(default=None, max_length=998)
    in_reply_to: str | None = None
    references: list[str] | None = None
    route_key: str | None = None


class InteractiveChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["interactive"] = "interactive"


UserChannel = EmailChannel | InteractiveChannel


class RunConfig(BaseModel):
    """`config` of a new run: the execution overrides of the hosted `InteractionExecutionConfiguration`."""

    model_config = ConfigDict(extra="forbid")

    environment: str | None = Field(default=None, max_length=256)
    model: str | None = Field(default=None, max_length=256)


class CreateAgentRunRequest(BaseModel):
    """`POST /agents`: every input parameter of the seed, shaped as the hosted `CreateAgentRunPayload`.

    The seed puts `environment` and `model` at the top level; the hosted schema puts them under
    `config` and refuses unknown properties. Both spellings are accepted here and serialized the
    hosted way (`config`), which the seed-shaped local service reads too.
    """

    model_config = ConfigDict(extra="forbid")

    interaction: str = Field(min_length=1, max_length=256, description="Interaction id or name, `Name@version` ok.")
    data: dict[str, Any] | None = None
    config: RunConfig | None = None
    interactive: bool | None = Field(default=None, description="Default true.")
    tool_names: list[str] | None = None
    collection_id: str | None = Field(default=None, max_length=256)
    visibility: Visibility | None = None
    tags: list[str] | None = None
    categories: list[str] | None = None
    properties: dict[str, Any] | None = None
    search_scope: Literal["collection"] | None = None
    user_channels: list[UserChannel] | None = None
    checkpoint_tokens: float | None = Field(default=None, ge=0)
    max_iterations: int | None = Field(default=None, ge=1)
    notify_endpoints: list[str] | None = None
    debug_mode: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _overrides_into_config(cls, raw: Any) -> Any:
        if not isinstance(raw, dict) or not ({"environment", "model"} & raw.keys()):
            return raw
        out = dict(raw)
        config = out.get("config")
        if config is not None and not isinstance(config, dict | RunConfig):
            return out  # refused by validation, with the field's own message
        merged: dict[str, Any] = (config.model_dump(exclude_none=True) if isinstance(config, RunConfig)
                                  else dict(config or {}))
        for name in ("environment", "model"):  # the top-level value wins, as keywords win in `runs.create`
            value = out.pop(name, None)
            if value is not None:
                merged[name] = value
        out["config"] = merged
        return out

    @property
    def environment(self) -> str | None:
        return self.config.environment if self.config else None

    @property
    def model(self) -> str | None:
        return self.config.model if self.config else None

    @model_validator(mode="after")
    def _check_endpoints(self) -> CreateAgentRunRequest:
        for url in self.notify_endpoints or ():
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"notify_endpoints: {url!r} is not an http(s) URL")
        return self


class AgentRun(_Response):
    """The AgentRun object returned by all endpoints."""

    id: str
    account: str | None = None
    project: str | None = None
    interaction: str | None = None
    interaction_name: str | None = None
    data: dict[str, Any] | None = None
    environment: str | None = None
    model: str | None = None
    interactive: bool | None = None
    tool_names: list[str] | None = None
    collection_id: str | None = None
    status: str = "created"
    started_at: str | None = None
    completed_at: str | None = None
    started_by: str | None = None
    name: str | None = None
    title: str | None = None
    topic: str | None = None
    tags: list[str] | None = None
    categories: list[str] | None = None
    properties: dict[str, Any] | None = None
    visibility: str | None = None
    created_at: str | None = None
    updated_at: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _overrides_from_config(cls, raw: Any) -> Any:
        """The hosted run keeps `environment` and `model` under `config`; the seed's at the top level."""
        config = raw.get("config") if isinstance(raw, dict) else None
        if not isinstance(config, dict):
            return raw
        lifted = {name: config[name] for name in ("environment", "model")
                  if raw.get(name) is None and isinstance(config.get(name), str)}
        return {**raw, **lifted} if lifted else raw

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


class RunList(_Response):
    """`GET /agents`, normalized: the seed's bare array becomes `items`."""

    items: list[AgentRun] = Field(default_factory=list)
    total_count: int | None = None
    next_cursor: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_array(cls, raw: Any) -> Any:
        return {"items": raw} if isinstance(raw, list) else raw


class SearchHit(_Response):
    id: str
    score: float | None = None
    interaction: str | None = None
    interaction_name: str | None = None
    status: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    started_by: str | None = None
    title: str | None = None
    topic: str | None = None
    tags: list[str] | None = None
    categories: list[str] | None = None


class SearchResult(_Response):
    hits: list[SearchHit] = Field(default_factory=list)
    total: int = 0


class TerminateResult(_Response):
    message: str = ""
    reason: str | None = None


class SignalResult(_Response):
    status: str = "success"
    message: str = ""
