"""Telemetry ingestion (`POST /agents/{id}/events`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mcp_agents.client._paths import segment
from mcp_agents.client._resource import Resource, build
from mcp_agents.client.errors import InvalidRequestError
from mcp_agents.models import AgentEvent, IngestEventsResponse
from mcp_agents.models.paths import EVENTS


class TelemetryResource(Resource):
    """`/agents/{id}/events`."""

    async def ingest(self, run_id: str, events: Sequence[AgentEvent | Mapping[str, Any]]) -> IngestEventsResponse:
        """Send telemetry events; each is checked against the seed's event fields first."""
        path = EVENTS.format(run_id=segment(run_id, "run id"))
        if isinstance(events, str | bytes) or not events:
            raise InvalidRequestError("events must be a non-empty list of telemetry events")
        checked = [event if isinstance(event, AgentEvent) else build(AgentEvent, dict(event), f"event {index}")
                   for index, event in enumerate(events)]
        body = {"events": [event.model_dump(mode="json", exclude_none=True) for event in checked]}
        return await self._requester.model(IngestEventsResponse, "POST", path, json=body)
