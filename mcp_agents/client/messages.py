"""A run's messages: stored history, posting an update, and following the live stream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from mcp_agents.client._paths import segment
from mcp_agents.client._request import Requester, decode_json, parse_model
from mcp_agents.client._resource import Resource, build
from mcp_agents.client._streaming import StreamPolicy, follow
from mcp_agents.client.errors import InvalidRequestError
from mcp_agents.models import AgentMessage, MessagesPage, MessageType, PostUpdateRequest, PostUpdateResponse, parse_type
from mcp_agents.models.cursor import Cursor, CursorError
from mcp_agents.models.messages import type_code
from mcp_agents.models.paths import UPDATES


class MessagesResource(Resource):
    """`/agents/{id}/updates` and `/agents/{id}/stream`."""

    def __init__(self, requester: Requester, stream_policy: StreamPolicy) -> None:
        super().__init__(requester)
        self._stream_policy = stream_policy

    async def retrieve(self, run_id: str, *, since: int = 0) -> list[AgentMessage]:
        """Stored messages with a timestamp after `since` (epoch ms), oldest first."""
        response = await self._requester.request("GET", UPDATES.format(run_id=segment(run_id, "run id")),
                                                 params={"since": since})
        body = decode_json(response)
        data = {"messages": body} if isinstance(body, list) else body or {}
        return parse_model(MessagesPage, data, response).messages

    async def post(self, run_id: str, *, message: str = "", type: str | int = "UPDATE", details: Any = None,
                   workstream_id: str | None = None, timestamp: int | None = None) -> PostUpdateResponse:
        """Publish a message into the run's stream; `type` is a name or code, sent as the integer code;
        `timestamp` (epoch ms) is the producer's own stamp."""
        kind = parse_type(type)
        if kind is None:
            raise InvalidRequestError(f"unknown message type {type!r}; use one of {', '.join(MessageType)}")
        body = build(PostUpdateRequest, {"type": type_code(kind), "message": message, "details": details,
                                         "workstream_id": workstream_id, "timestamp": timestamp}, "update")
        return await self._requester.model(PostUpdateResponse, "POST",
                                           UPDATES.format(run_id=segment(run_id, "run id")),
                                           json=body.model_dump(mode="json", exclude_none=True))

    def stream(self, run_id: str, *, since: Cursor | int | str | None = None,
               read_history: bool = True) -> AsyncIterator[AgentMessage]:
        """Each message of the run exactly once, in order, after `since` until the run ends.

        `since` is a `Cursor` (or its wire form); a plain integer means "after that millisecond".
        `read_history=False` is for a caller that has just read the stored messages itself (with
        `retrieve` and a `Position`) up to `since`: the stream then starts with the live part, saving
        that request. Checks the arguments at once; requests start on the first iteration.
        """
        try:
            cursor = Cursor.parse(since)
        except CursorError as exc:
            raise InvalidRequestError(f"since: {exc}") from None
        return follow(self._requester, run_id, cursor, self._stream_policy, read_history=read_history)
