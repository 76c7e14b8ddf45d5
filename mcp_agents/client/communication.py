"""Communication with a running agent: signals and queries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mcp_agents.client._paths import segment
from mcp_agents.client._request import decode_json
from mcp_agents.client._resource import Resource
from mcp_agents.models import SignalResult
from mcp_agents.models.paths import QUERY, SIGNAL


class CommunicationResource(Resource):
    """`/agents/{id}/signal/{name}` and `/agents/{id}/query/{name}`."""

    async def send_signal(self, run_id: str, name: str, payload: Mapping[str, Any] | None = None) -> SignalResult:
        """Send a signal (`UserInput` with `{"message": ...}`, `Stop`, `FileUploaded`, ...)."""
        path = SIGNAL.format(run_id=segment(run_id, "run id"), name=segment(name, "signal name"))
        return await self._requester.model(SignalResult, "POST", path, json=dict(payload or {}))

    async def query(self, run_id: str, name: str) -> Any:
        """The raw JSON answer of a query (`ActiveWorkstreams`, `AgentPlan`, `AvailableTools`)."""
        path = QUERY.format(run_id=segment(run_id, "run id"), name=segment(name, "query name"))
        return decode_json(await self._requester.request("GET", path))
