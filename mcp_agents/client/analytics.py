"""The fourteen analytics reports (`POST /agents/analytics/...`), one method each plus `report(name)`.

Analytics POSTs only read, so they are retried like idempotent requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from pydantic import BaseModel

from mcp_agents.client._resource import Resource, build
from mcp_agents.client.errors import InvalidRequestError
from mcp_agents.models.paths import ANALYTICS

if TYPE_CHECKING:  # the report models load with the first report, not with the client (start-up time)
    from mcp_agents.models.analytics import (
        AnalyticsQuery,
        ErrorsReport,
        FilterOptionsReport,
        FirstResponseBehaviorReport,
        LatencyReport,
        PromptSizeReport,
        RunsByAgentReport,
        SummaryReport,
        TimeToFirstResponseReport,
        TokensReport,
        ToolParametersReport,
        ToolsReport,
        TopPrincipalsReport,
    )

Query: TypeAlias = "AnalyticsQuery | Mapping[str, Any] | None"


class AnalyticsResource(Resource):
    """`/agents/analytics/*`."""

    async def report(self, name: str, query: Query = None) -> BaseModel:
        """The report `name` (a key of `mcp_agents.models.REPORTS`) as its `REPORT_MODELS[name]` model."""
        from mcp_agents.models.analytics import REPORT_MODELS, REPORTS, AnalyticsQuery

        if name not in REPORTS:
            raise InvalidRequestError(f"unknown analytics report {name!r}; choose from {', '.join(REPORTS)}")
        if query is None:
            body = AnalyticsQuery()
        elif isinstance(query, AnalyticsQuery):
            body = query
        else:
            body = build(AnalyticsQuery, dict(query), "analytics query")
        if name == "tool_parameters" and not body.toolName:
            raise InvalidRequestError("the tool_parameters report needs toolName (the tool to analyze)")
        return await self._requester.model(REPORT_MODELS[name], "POST", ANALYTICS.format(report=REPORTS[name]),
                                           json=body.to_wire(), idempotent=True)

    async def summary(self, query: Query = None) -> SummaryReport:
        return cast("SummaryReport", await self.report("summary", query))

    async def tokens(self, query: Query = None) -> TokensReport:
        return cast("TokensReport", await self.report("tokens", query))

    async def latency_llm(self, query: Query = None) -> LatencyReport:
        return cast("LatencyReport", await self.report("latency_llm", query))

    async def latency_tools(self, query: Query = None) -> LatencyReport:
        return cast("LatencyReport", await self.report("latency_tools", query))

    async def latency_agents(self, query: Query = None) -> LatencyReport:
        return cast("LatencyReport", await self.report("latency_agents", query))

    async def errors(self, query: Query = None) -> ErrorsReport:
        return cast("ErrorsReport", await self.report("errors", query))

    async def tools(self, query: Query = None) -> ToolsReport:
        return cast("ToolsReport", await self.report("tools", query))

    async def tool_parameters(self, query: Query = None) -> ToolParametersReport:
        return cast("ToolParametersReport", await self.report("tool_parameters", query))

    async def filter_options(self, query: Query = None) -> FilterOptionsReport:
        return cast("FilterOptionsReport", await self.report("filter_options", query))

    async def prompt_size(self, query: Query = None) -> PromptSizeReport:
        return cast("PromptSizeReport", await self.report("prompt_size", query))

    async def top_principals(self, query: Query = None) -> TopPrincipalsReport:
        return cast("TopPrincipalsReport", await self.report("top_principals", query))

    async def runs_by_agent(self, query: Query = None) -> RunsByAgentReport:
        return cast("RunsByAgentReport", await self.report("runs_by_agent", query))

    async def time_to_first_response(self, query: Query = None) -> TimeToFirstResponseReport:
        return cast("TimeToFirstResponseReport", await self.report("time_to_first_response", query))

    async def first_response_behavior(self, query: Query = None) -> FirstResponseBehaviorReport:
        return cast("FirstResponseBehaviorReport", await self.report("first_response_behavior", query))
