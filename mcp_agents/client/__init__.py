"""A thin, typed, async client for the Agent Runs API (the only package that imports httpx2).

```python
async with AgentRunsClient(api_key="sk-...") as client:
    run = await client.runs.create(interaction="MyAgent", data={"task": "..."})
    async for message in client.messages.stream(run.id):
        print(message.type, message.message)
```
"""

from mcp_agents.client._client import AgentRunsClient
from mcp_agents.client._limits import UpstreamLimits
from mcp_agents.client._request import RetryPolicy
from mcp_agents.client._streaming import StreamPolicy
from mcp_agents.client.analytics import AnalyticsResource
from mcp_agents.client.artifacts import ArtifactContent, ArtifactsResource
from mcp_agents.client.communication import CommunicationResource
from mcp_agents.client.errors import (
    AgentRunsError,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CallerBusyError,
    ConfigurationError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
)
from mcp_agents.client.interactions import InteractionsResource
from mcp_agents.client.messages import MessagesResource
from mcp_agents.client.observability import ObservabilityResource
from mcp_agents.client.runs import RunsResource
from mcp_agents.client.telemetry import TelemetryResource

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AgentRunsClient",
    "AgentRunsError",
    "AnalyticsResource",
    "ArtifactContent",
    "ArtifactsResource",
    "AuthenticationError",
    "BadRequestError",
    "CallerBusyError",
    "CommunicationResource",
    "ConfigurationError",
    "ConflictError",
    "InteractionsResource",
    "InvalidRequestError",
    "MessagesResource",
    "NotFoundError",
    "ObservabilityResource",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "RunsResource",
    "ServerError",
    "StreamPolicy",
    "TelemetryResource",
    "UnprocessableEntityError",
    "UpstreamLimits",
]
