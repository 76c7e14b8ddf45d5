"""Telemetry events (`POST /agents/{id}/events`).

Field names stay camelCase, as on the wire and in the analytics queries built on them, so there
is one name for each field everywhere. One model serves every event type: the base fields are
required, the type-specific ones are checked for the types the seed defines, the rest is kept.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

EVENT_TYPES = ("agent_run_started", "agent_run_completed", "llm_call", "tool_call", "nested_interaction",
               "checkpoint_created")
CallType = Literal["start", "resume_tools", "resume_user", "checkpoint", "nested_interaction"]
ToolType = Literal["builtin", "interaction", "remote", "skill"]

_REQUIRED = {
    "llm_call": ("promptTokens", "completionTokens", "totalTokens", "durationMs", "success", "streamingEnabled",
                 "toolUseCount", "callType"),
    "tool_call": ("toolName", "toolUseId", "toolType", "iteration", "success", "durationMs"),
}


class TokenCounts(BaseModel):
    model_config = ConfigDict(extra="allow")

    input: int = Field(default=0, ge=0)
    output: int = Field(default=0, ge=0)


class AgentEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    eventType: str = Field(min_length=1, max_length=128)
    timestamp: str = Field(min_length=1, max_length=64, description="ISO 8601.")
    runId: str = Field(min_length=1, max_length=256)
    model: str = Field(max_length=256)
    environmentId: str = Field(max_length=256)
    environmentType: str = Field(max_length=128)
    interactionId: str = Field(max_length=256)
    agentRunId: str | None = None
    parentRunId: str | None = None
    ancestorRunIds: list[str] | None = None

    # llm_call
    promptTokens: int | None = Field(default=None, ge=0)
    completionTokens: int | None = Field(default=None, ge=0)
    totalTokens: int | None = Field(default=None, ge=0)
    promptCachedTokens: int | None = Field(default=None, ge=0)
    promptCacheWriteTokens: int | None = Field(default=None, ge=0)
    durationMs: float | None = Field(default=None, ge=0)
    success: bool | None = None
    streamingEnabled: bool | None = None
    toolUseCount: int | None = Field(default=None, ge=0)
    callType: str | None = None
    attemptNumber: int | None = None
    errorType: str | None = None
    errorMessage: str | None = None
    nestedInteractionId: str | None = None

    # tool_call
    toolName: str | None = None
    toolUseId: str | None = None
    toolType: str | None = None
    iteration: int | None = None
    parameters: dict[str, Any] | None = None
    parametersSizeBytes: int | None = Field(default=None, ge=0)
    resultSizeBytes: int | None = Field(default=None, ge=0)
    spawnedChildWorkflow: Any = None

    # agent_run_completed
    totalIterations: int | None = None
    totalToolCalls: int | None = None
    totalLlmCalls: int | None = None
    tokenUsage: TokenCounts | None = None

    @model_validator(mode="after")
    def _type_fields(self) -> AgentEvent:
        missing = [name for name in _REQUIRED.get(self.eventType, ()) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{self.eventType} event is missing {', '.join(missing)}")
        return self


class IngestEventsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[AgentEvent] = Field(min_length=1, max_length=10_000)


class IngestEventsResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    ingested: int
