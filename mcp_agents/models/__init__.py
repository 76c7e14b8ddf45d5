"""The REST wire schema of the Agent Runs API, shared by `client/` and `local/` so they cannot drift.

The analytics names load on first use (`__getattr__` below): their fourteen report models take
tens of milliseconds to build, and most importers (the MCP server at startup) never need them.
"""

from typing import TYPE_CHECKING, Any

from mcp_agents.models.errors import ErrorBody
from mcp_agents.models.events import AgentEvent, IngestEventsRequest, IngestEventsResponse
from mcp_agents.models.interactions import AgentRunnerOptions, InteractionList, InteractionRef
from mcp_agents.models.messages import (
    MAIN_WORKSTREAM,
    AgentMessage,
    MessagesPage,
    MessageType,
    PostUpdateRequest,
    PostUpdateResponse,
    parse_type,
)
from mcp_agents.models.observability import ArtifactUrl, ChildrenList, ChildRun, Internals, RunDetails
from mcp_agents.models.runs import (
    ACTIVE_STATUSES,
    RUN_STATUSES,
    TERMINAL_STATUSES,
    AgentRun,
    CreateAgentRunRequest,
    EmailChannel,
    InteractiveChannel,
    RunList,
    SearchHit,
    SearchResult,
    SignalResult,
    TerminateResult,
)

if TYPE_CHECKING:
    from mcp_agents.models.analytics import REPORT_MODELS, REPORTS, AnalyticsFilter, AnalyticsQuery

_ANALYTICS_NAMES = frozenset({"REPORT_MODELS", "REPORTS", "AnalyticsFilter", "AnalyticsQuery"})


def __getattr__(name: str) -> Any:
    if name in _ANALYTICS_NAMES:
        from mcp_agents.models import analytics

        return getattr(analytics, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "ACTIVE_STATUSES",
    "MAIN_WORKSTREAM",
    "REPORTS",
    "REPORT_MODELS",
    "RUN_STATUSES",
    "TERMINAL_STATUSES",
    "AgentEvent",
    "AgentMessage",
    "AgentRun",
    "AgentRunnerOptions",
    "AnalyticsFilter",
    "AnalyticsQuery",
    "ArtifactUrl",
    "ChildRun",
    "ChildrenList",
    "CreateAgentRunRequest",
    "EmailChannel",
    "ErrorBody",
    "IngestEventsRequest",
    "IngestEventsResponse",
    "InteractionList",
    "InteractionRef",
    "InteractiveChannel",
    "Internals",
    "MessageType",
    "MessagesPage",
    "PostUpdateRequest",
    "PostUpdateResponse",
    "RunDetails",
    "RunList",
    "SearchHit",
    "SearchResult",
    "SignalResult",
    "TerminateResult",
    "parse_type",
]
