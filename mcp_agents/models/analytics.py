"""Agent analytics: the query body and the answers of the fourteen `/agents/analytics/*` reports.

Shapes follow `live-service-notes.md`; wire names (camelCase) are kept as field names.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Resolution = Literal["minute", "hour", "day", "week", "month"]
GroupBy = Literal["model", "environment", "tool", "toolType", "agent", "errorType"]

# report name -> path under /agents/analytics; the order is the seed's.
REPORTS: dict[str, str] = {
    "summary": "summary",
    "tokens": "tokens",
    "latency_llm": "latency/llm",
    "latency_tools": "latency/tools",
    "latency_agents": "latency/agents",
    "errors": "errors",
    "tools": "tools",
    "tool_parameters": "tools/parameters",
    "filter_options": "filter-options",
    "prompt_size": "prompt-size",
    "top_principals": "top-principals",
    "runs_by_agent": "runs-by-agent",
    "time_to_first_response": "time-to-first-response",
    "first_response_behavior": "first-response-behavior",
}


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class AnalyticsFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agents: list[str] | None = None
    environments: list[str] | None = None
    models: list[str] | None = None
    tools: list[str] | None = None
    toolTypes: list[str] | None = None
    success: bool | None = None
    runIds: list[str] | None = None
    agentRunIds: list[str] | None = None
    principals: list[str] | None = None


class AnalyticsQuery(BaseModel):
    """The common body; `from`/`to` are epoch milliseconds or ISO dates."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: int | str | None = Field(default=None, alias="from")
    to: int | str | None = None
    filter: AnalyticsFilter | None = None
    resolution: Resolution | None = None
    resolutionStep: int | None = Field(default=None, ge=1, le=1000)
    groupBy: GroupBy | None = None
    limit: int | None = Field(default=None, ge=1, le=1000)
    toolName: str | None = Field(default=None, max_length=256)

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True)


class TokenUsage(_Open):
    inputTokens: int = 0
    outputTokens: int = 0
    totalTokens: int = 0
    cachedInputTokens: int | None = None
    cacheWriteInputTokens: int | None = None
    avgTokensPerCall: float | None = None


class Duration(_Open):
    avgMs: float | None = None
    minMs: float | None = None
    maxMs: float | None = None
    medianMs: float | None = None
    p95Ms: float | None = None
    p99Ms: float | None = None


class TimeRange(_Open):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    from_: str | None = Field(default=None, alias="from")
    to: str | None = None


class SummaryBody(_Open):
    timeRange: TimeRange | None = None
    totalRuns: int = 0
    successfulRuns: int = 0
    failedRuns: int = 0
    ongoingRuns: int = 0
    successRate: float | None = None
    tokenUsage: TokenUsage | None = None
    nestedInteractionTokens: TokenUsage | None = None
    avgRunDurationMs: float | None = None
    p95RunDurationMs: float | None = None
    nonInteractiveRunCount: int | None = None
    totalLlmCalls: int | None = None
    totalToolCalls: int | None = None
    uniqueModels: int | None = None
    uniqueTools: int | None = None


class SummaryReport(_Open):
    summary: SummaryBody


class TokensReport(_Open):
    summary: TokenUsage
    byDimension: list[dict[str, Any]] | None = None
    timeSeries: list[dict[str, Any]] | None = None


class LatencySummary(Duration):
    count: int = 0
    successRate: float | None = None


class LatencyReport(_Open):
    summary: LatencySummary
    byDimension: list[dict[str, Any]] | None = None
    timeSeries: list[dict[str, Any]] | None = None


class ErrorsSummary(_Open):
    totalCount: int = 0
    successCount: int = 0
    errorCount: int = 0
    errorRate: float = 0.0
    llmErrorCount: int = 0
    toolErrorCount: int = 0


class ErrorsReport(_Open):
    summary: ErrorsSummary
    byErrorType: list[dict[str, Any]] | None = None
    byDimension: list[dict[str, Any]] | None = None
    timeSeries: list[dict[str, Any]] | None = None


class ToolUsage(_Open):
    toolName: str
    toolType: str | None = None
    invocationCount: int = 0
    successRate: float | None = None
    duration: Duration | None = None
    avgInputSizeBytes: float | None = None
    avgOutputSizeBytes: float | None = None


class ToolsReport(_Open):
    totalInvocations: int = 0
    tools: list[ToolUsage] = Field(default_factory=list)


class ToolParametersReport(_Open):
    analytics: dict[str, Any]


class FilterOptionsReport(_Open):
    agents: list[dict[str, Any]] = Field(default_factory=list)
    environmentModels: list[dict[str, Any]] = Field(default_factory=list)
    principals: list[dict[str, Any]] = Field(default_factory=list)


class PromptSizeReport(_Open):
    summary: dict[str, Any]
    byAgent: list[dict[str, Any]] = Field(default_factory=list)


class TopPrincipalsReport(_Open):
    principals: list[dict[str, Any]] = Field(default_factory=list)
    totalRuns: int = 0


class RunsByAgentReport(_Open):
    agents: list[dict[str, Any]] = Field(default_factory=list)
    totalRuns: int = 0


class TimeToFirstResponseReport(_Open):
    summary: dict[str, Any]
    timeSeries: list[dict[str, Any]] | None = None


class FirstResponseBehaviorReport(_Open):
    summary: dict[str, Any]
    timeSeries: list[dict[str, Any]] | None = None


REPORT_MODELS: dict[str, type[BaseModel]] = {
    "summary": SummaryReport,
    "tokens": TokensReport,
    "latency_llm": LatencyReport,
    "latency_tools": LatencyReport,
    "latency_agents": LatencyReport,
    "errors": ErrorsReport,
    "tools": ToolsReport,
    "tool_parameters": ToolParametersReport,
    "filter_options": FilterOptionsReport,
    "prompt_size": PromptSizeReport,
    "top_principals": TopPrincipalsReport,
    "runs_by_agent": RunsByAgentReport,
    "time_to_first_response": TimeToFirstResponseReport,
    "first_response_behavior": FirstResponseBehaviorReport,
}
