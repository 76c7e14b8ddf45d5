"""The fourteen analytics reports (`POST /agents/analytics/...`), one method each plus `report(name)`.

Analytics POSTs only read, so they are retried like idempotent requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from mcp_agents.client._resource import Resource, build
from mcp_agents.client.errors import InvalidRequestError
from mcp_agents.models import REPORT_MODELS, REPORTS, AnalyticsQuery
from mcp_agents.models.analytics import (
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
from mcp_agents.models.paths import ANALYTICS

ReportT = TypeVar("ReportT", bound=BaseModel)
Query = AnalyticsQuery | Mapping[str, Any] | None


class AnalyticsResource(Resource):
    """`/agents/analytics/*`."""

    async def report(self, name: str, query: Query = None) -> BaseModel:
        """The report `name` (a key of `mcp_agents.models.REPORTS`) as its `REPORT_MODELS[name]` model."""
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

    async def _typed(self, name: str, model: type[ReportT], query: Query) -> ReportT:
        return cast(ReportT, await self.report(name, query))

    async def summary(self, query: Query = None) -> SummaryReport:
        return await self._typed("summary", SummaryReport, query)

    async def tokens(self, query: Query = None) -> TokensReport:
        return await self._typed("tokens", TokensReport, query)

    async def latency_llm(self, query: Query = None) -> LatencyReport:
        return await self._typed("latency_llm", LatencyReport, query)

    async def latency_tools(self, query: Query = None) -> LatencyReport:
        return await self._typed("latency_tools", LatencyReport, query)

    async def latency_agents(self, query: Query = None) -> LatencyReport:
        return await self._typed("latency_agents", LatencyReport, query)

    async def errors(self, query: Query = None) -> ErrorsReport:
        return await self._typed("errors", ErrorsReport, query)

    async def tools(self, query: Query = None) -> ToolsReport:
        return await self._typed("tools", ToolsReport, query)

    async def tool_parameters(self, query: Query = None) -> ToolParametersReport:
        return await self._typed("tool_parameters", ToolParametersReport, query)

    async def filter_options(self, query: Query = None) -> FilterOptionsReport:
        return await self._typed("filter_options", FilterOptionsReport, query)

    async def prompt_size(self, query: Query = None) -> PromptSizeReport:
        return await self._typed("prompt_size", PromptSizeReport, query)

    async def top_principals(self, query: Query = None) -> TopPrincipalsReport:
        return await self._typed("top_principals", TopPrincipalsReport, query)

    async def runs_by_agent(self, query: Query = None) -> RunsByAgentReport:
        return await self._typed("runs_by_agent", RunsByAgentReport, query)

    async def time_to_first_response(self, query: Query = None) -> TimeToFirstResponseReport:
        return await self._typed("time_to_first_response", TimeToFirstResponseReport, query)

    async def first_response_behavior(self, query: Query = None) -> FirstResponseBehaviorReport:
        return await self._typed("first_response_behavior", FirstResponseBehaviorReport, query)
