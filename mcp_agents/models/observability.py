"""Artifacts, internals, details and children: what a run exposes for inspection."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


class ArtifactUrl(_Response):
    """`GET /artifacts/{path}?url=1` (and the live service's `PUT` answer)."""

    url: str
    path: str | None = None


class Internals(_Response):
    id: str
    workflow_id: str | None = None
    first_workflow_run_id: str | None = None
    artifacts_path: str | None = None
    status: str | None = None
    interaction: str | None = None
    interactive: bool | None = None
    started_at: str | None = None
    started_by: str | None = None


class RunDetails(_Response):
    status: str | None = None
    started_at: str | None = None
    closed_at: str | None = None
    execution_duration: float | None = None
    run_id: str | None = None
    workflow_id: str | None = None
    type: str | None = None
    input: Any = None
    result: Any = None
    pendingActivities: list[Any] | None = None
    error: Any = None
    history: Any = Field(default=None, description="The seed's list of events, or the hosted WorkflowHistory "
                                                   "object (`{type: 'agent', agentTasks: [...]}`).")


class ChildRun(_Response):
    run_id: str | None = None
    workflow_id: str | None = None
    status: str | None = None
    started_at: str | None = None
    closed_at: str | None = None
    type: str | None = None


class ChildrenList(_Response):
    runs: list[ChildRun] = Field(default_factory=list)
    next_page_token: str | None = None
    has_more: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_array(cls, raw: Any) -> Any:
        return {"runs": raw} if isinstance(raw, list) else raw
