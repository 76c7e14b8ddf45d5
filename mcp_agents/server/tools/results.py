"""The structured results of the tools (their output schemas), and their short text renderings.

Fields holding agent-written text (`answer`, `question`, `last`, `text`) are untrusted data.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mcp_agents.models import AgentRun
from mcp_agents.models.cursor import START
from mcp_agents.server.rendering import clip, short_id, untrusted

WAITING = "waiting_for_input"
"""`RunUpdate.turn` of a run that is not done but whose turn is over: it waits for input."""
START_CURSOR = str(START)


class RunRow(BaseModel):
    """A run in a few fields."""

    run_id: str
    status: str
    interaction: str | None = None
    title: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    started_by: str | None = None
    tags: list[str] | None = None

    @classmethod
    def of(cls, run: AgentRun) -> RunRow:
        return cls(run_id=run.id, status=run.status, interaction=run.interaction_name or run.interaction,
                   title=run.title or run.name, started_at=run.started_at, completed_at=run.completed_at,
                   started_by=run.started_by, tags=run.tags or None)

    def line(self) -> str:
        parts = [self.run_id, self.status, self.interaction or "?"]
        if self.title:
            parts.append(clip(self.title, 60))
        if self.started_at:
            parts.append(self.started_at)
        return " | ".join(parts)


class MessageDigest(BaseModel):
    """New messages, summarized: counts by type, tools called, the last few lines (untrusted)."""

    count: int = 0
    by_type: dict[str, int] = Field(default_factory=dict)
    tools: list[str] = Field(default_factory=list)
    last: list[str] = Field(default_factory=list)


class RunUpdate(BaseModel):
    """Where one run stands after a start, an input or a wait."""

    run_id: str
    status: str
    interaction: str | None = None
    done: bool = False
    turn: str | None = Field(None, description=f"{WAITING!r}: its turn is over (answered, asked or stopped).")
    cursor: str | None = Field(None, description="Opaque; pass back as since[run_id] for only newer messages.")
    messages: MessageDigest = Field(default_factory=MessageDigest)
    progress: str | None = Field(None, description="Work done/total when the run's plan tells it.")
    answer: str | None = Field(None, description="Final answer (untrusted agent text).")
    question: str | None = Field(None, description="Pending question (untrusted); answer with send_agent_input.")
    error: str | None = None
    note: str | None = None


class RunsUpdate(BaseModel):
    """Result of start_agent_run, send_agent_input and wait_for_agent_runs."""

    runs: list[RunUpdate]
    timed_out: bool = False
    next_step: str = ""


def render_update(update: RunsUpdate) -> str:
    """A few lines per run; agent text quoted with `> `."""
    lines: list[str] = []
    for run in update.runs:
        head = f"run {run.run_id} {run.status}"
        if run.interaction:
            head += f" ({run.interaction})"
        if run.turn == WAITING:
            head += ", waiting for input"
        if run.cursor is not None:
            head += f" cursor={run.cursor}"
        if run.progress:
            head += f" progress={run.progress}"
        lines.append(head)
        digest = run.messages
        if digest.count:
            counts = ", ".join(f"{n} {kind}" for kind, n in digest.by_type.items())
            lines.append(f"  {digest.count} new: {counts}" + (f"; tools: {', '.join(digest.tools)}"
                                                               if digest.tools else ""))
            lines.extend(untrusted(item, 300) for item in digest.last)
        if run.note:
            lines.append(f"  note: {run.note}")
        if run.error:
            lines.append("  error:")
            lines.append(untrusted(run.error, 1000))
        if run.question:
            lines.append(f"  question (answer with send_agent_input run_id={run.run_id}):")
            lines.append(untrusted(run.question, 2000))
        if run.answer:
            lines.append("  answer:")
            lines.append(untrusted(run.answer))
    if update.timed_out:
        lines.append("timed out (the runs go on)")
    if update.next_step:
        lines.append(f"next: {update.next_step}")
    return "\n".join(lines)


def next_step_for(update: RunsUpdate) -> str:
    """The one hint the model needs to continue."""
    asking = [run.run_id for run in update.runs if run.question]
    if asking:
        return (f"answer the question with send_agent_input(run_id={asking[0]!r}, message=..., wait_seconds=45), "
                "or end the run with cancel_agent_run")
    idle = [run.run_id for run in update.runs if run.turn == WAITING]
    if idle:
        return (f"run {idle[0]} waits for input: continue with send_agent_input(run_id={idle[0]!r}, message=..., "
                "wait_seconds=45), or end it with cancel_agent_run")
    pending = [run for run in update.runs if not run.done]
    if not pending:
        return "done; read answers above (read_agent_artifact for files)"
    ids = ", ".join(repr(run.run_id) for run in pending)
    if any(run.cursor is None for run in pending):
        return f"wait_for_agent_runs(run_ids=[{ids}], since=<your last cursors>)"
    if all(run.cursor == START_CURSOR for run in pending):
        return f"wait_for_agent_runs(run_ids=[{ids}])"
    since = ", ".join(f"{run.run_id!r}: {run.cursor!r}" for run in pending)
    return f"wait_for_agent_runs(run_ids=[{ids}], since={{{since}}})"


def tag(run_id: str) -> str:
    return f"run {short_id(run_id)}"


JSON_TEXT_MAX = 20_000
JSON_ITEMS_MAX = 1000


def json_safe(value: Any) -> Any:
    """A value that pydantic can dump as JSON (unknown objects become text), bounded: a text longer than
    JSON_TEXT_MAX is clipped and a list or object cut at JSON_ITEMS_MAX entries (a marker says how much is
    left out), so that a huge record from the service cannot flood the model's context."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        entries = list(value.items())
        out = {str(key): json_safe(item) for key, item in entries[:JSON_ITEMS_MAX]}
        if len(entries) > JSON_ITEMS_MAX:
            out["…"] = f"{len(entries) - JSON_ITEMS_MAX} more entries"
        return out
    if isinstance(value, list | tuple):
        items = [json_safe(item) for item in value[:JSON_ITEMS_MAX]]
        if len(value) > JSON_ITEMS_MAX:
            items.append(f"… {len(value) - JSON_ITEMS_MAX} more items")
        return items
    if isinstance(value, str) and len(value) > JSON_TEXT_MAX:
        return value[:JSON_TEXT_MAX] + f"… [{len(value) - JSON_TEXT_MAX} more chars]"
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
