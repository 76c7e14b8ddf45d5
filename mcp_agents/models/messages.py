"""Agent messages: one model for the compact wire format, the legacy format and the seed's shape.

The live service sends compact messages (`t` an integer code), the seed documents `t` as a
name, and older producers send `{"type", "message", ...}`. All three normalize to
`AgentMessage`, whose `type` is always a readable `MessageType`. Unknown types read as UPDATE
(the raw value is kept in `raw_type`); unknown fields are kept as extras.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The latest time a service can write as an ISO 8601 date (9999-12-31T23:59:59.999Z), in epoch ms
MAX_MS = 253_402_300_799_999


class MessageType(StrEnum):
    SYSTEM = "SYSTEM"
    THOUGHT = "THOUGHT"
    PLAN = "PLAN"
    UPDATE = "UPDATE"
    COMPLETE = "COMPLETE"
    WARNING = "WARNING"
    ERROR = "ERROR"
    ANSWER = "ANSWER"
    QUESTION = "QUESTION"
    REQUEST_INPUT = "REQUEST_INPUT"
    IDLE = "IDLE"
    TERMINATED = "TERMINATED"
    STREAMING_CHUNK = "STREAMING_CHUNK"
    BATCH_PROGRESS = "BATCH_PROGRESS"
    RESTARTING = "RESTARTING"


# The integer codes of the live wire format: the index in this tuple is the code.
TYPE_CODES: tuple[MessageType, ...] = tuple(MessageType)
MAIN_WORKSTREAM = "main"
INPUT_TYPES = frozenset({MessageType.QUESTION, MessageType.REQUEST_INPUT})


def parse_type(value: object) -> MessageType | None:
    """The type for a wire value (code, name, lowercase name), or None when unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and float(value).is_integer() and 0 <= int(value) < len(TYPE_CODES):
        return TYPE_CODES[int(value)]
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return parse_type(int(text))
        try:
            return MessageType(text.upper())
        except ValueError:
            return None
    return None


def type_code(kind: MessageType) -> int:
    """The integer code of a type on the hosted wire (`t` of a compact message, `type` of `POST /updates`)."""
    return TYPE_CODES.index(kind)


_COMPACT = {"t": "type", "m": "message", "w": "workstream_id", "d": "details", "ts": "timestamp",
            "f": "final_chunk", "i": "activity_id", "wri": "workflow_run_id"}
_LEGACY = {"type": "type", "message": "message", "workstream_id": "workstream_id", "details": "details",
           "timestamp": "timestamp", "workflow_run_id": "workflow_run_id", "final_chunk": "final_chunk",
           "activity_id": "activity_id"}


class AgentMessage(BaseModel):
    """A message of a run's update stream, whatever format it came in."""

    model_config = ConfigDict(extra="allow")

    type: MessageType = MessageType.UPDATE
    message: str = ""
    workstream_id: str = MAIN_WORKSTREAM
    details: Any = None
    timestamp: int | None = Field(default=None, description="Epoch milliseconds (stored messages only).")
    final_chunk: bool = False
    activity_id: str | None = None
    workflow_run_id: str | None = None
    raw_type: Any = Field(default=None, description="The wire type when it was not a known one.")

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            raise ValueError("a message is a JSON object")
        if "t" in raw:
            mapping = _COMPACT
        elif "type" in raw and not isinstance(raw.get("type"), MessageType):
            mapping = _LEGACY
        else:
            return raw
        out: dict[str, Any] = {mapping.get(str(key), str(key)): value for key, value in raw.items()}
        kind = parse_type(out.get("type"))
        if kind is None:
            out["raw_type"] = out.get("type")
            kind = MessageType.UPDATE
        out["type"] = kind
        if out.get("message") is None:
            out["message"] = ""
        elif not isinstance(out["message"], str):
            out["message"] = str(out["message"])
        if not out.get("workstream_id"):
            out["workstream_id"] = MAIN_WORKSTREAM
        ts = out.get("timestamp")
        if isinstance(ts, float):
            out["timestamp"] = int(ts)
        elif isinstance(ts, str):
            out["timestamp"] = int(float(ts)) if ts.strip() else None
        out["final_chunk"] = bool(out.get("final_chunk"))
        return out

    @property
    def tool_name(self) -> str | None:
        """The tool a THOUGHT message calls, if it is a tool call."""
        if self.type is MessageType.THOUGHT and isinstance(self.details, dict):
            tool = self.details.get("tool")
            return tool if isinstance(tool, str) else None
        return None

    @property
    def child_run_id(self) -> str | None:
        """Set when the message is about a child run (it then never ends the parent's stream)."""
        if isinstance(self.details, dict):
            child = self.details.get("process_run_id")
            return child if isinstance(child, str) and child else None
        return None

    @property
    def ends_run(self) -> bool:
        """True for the run's own end-of-run message: COMPLETE on main, or TERMINATED."""
        if self.child_run_id:
            return False
        if self.type is MessageType.TERMINATED:
            return True
        return self.type is MessageType.COMPLETE and self.workstream_id == MAIN_WORKSTREAM

    @property
    def asks_for_input(self) -> bool:
        return self.type in INPUT_TYPES

    def identity(self) -> tuple[Any, ...]:
        """What tells two messages apart: time, type, workstream, text, details and activity id.

        Two tool-call THOUGHTs of one millisecond differ only in their details, so details count
        (canonical JSON: key order does not make two messages different).
        """
        details = None if self.details is None else json.dumps(self.details, sort_keys=True, separators=(",", ":"),
                                                               default=str)
        return (self.timestamp, self.type.value, self.workstream_id, self.message, details, self.activity_id)

    def to_wire(self) -> dict[str, Any]:
        """The seed's compact shape (`t` as a name), with extras kept."""
        out: dict[str, Any] = {"t": self.type.value}
        if self.message:
            out["m"] = self.message
        if self.workstream_id != MAIN_WORKSTREAM:
            out["w"] = self.workstream_id
        if self.details is not None:
            out["d"] = self.details
        if self.timestamp is not None:
            out["ts"] = self.timestamp
        if self.final_chunk:
            out["f"] = 1
        if self.activity_id:
            out["i"] = self.activity_id
        if self.workflow_run_id:
            out["wri"] = self.workflow_run_id
        if self.model_extra:
            out.update(self.model_extra)
        return out


class MessagesPage(BaseModel):
    """`GET /agents/{id}/updates`."""

    model_config = ConfigDict(extra="allow")

    messages: list[AgentMessage] = Field(default_factory=list)


class PostUpdateRequest(BaseModel):
    """`POST /agents/{id}/updates`: a message an agent publishes into its run's stream."""

    model_config = ConfigDict(extra="forbid")

    type: str | int = Field(default="UPDATE", description="Message type name or integer code.")
    message: str = Field(default="", max_length=1_000_000)
    details: Any = None
    workstream_id: str | None = Field(default=None, max_length=256)
    # a number, as the published schema has it; after epoch 0 (reads take messages after `since` >= 0)
    timestamp: int | float | None = Field(default=None, gt=0, le=MAX_MS,
                                          description="The producer's own stamp (epoch ms); several messages "
                                                      "may share one.")
    workflow_run_id: str | None = Field(default=None, description="Published, and ignored: a run has one "
                                                                  "workflow run at a time.")


class PostUpdateResponse(BaseModel):
    model_config = ConfigDict(extra="allow")

    success: bool = True
