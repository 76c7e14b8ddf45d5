"""The service's error body, shared by the client (to read it) and the local service (to write it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ErrorBody(BaseModel):
    """`{"error": "<status text>", "status": <int>, "message": "<human text>", "details": ...}`."""

    model_config = ConfigDict(extra="allow")

    error: str
    status: int
    message: str | None = None
    details: str | None = None
