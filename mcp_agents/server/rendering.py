"""Short human text for tool results and progress lines, and the marking of agent-written text.

Agents write free text (answers, questions, updates) that reaches the calling model. That text
is data, never instructions: every rendering puts it behind the `> ` quote prefix that the tool
descriptions name as untrusted, strips control characters and bounds its length, so a run
cannot forge a line that looks like our own framing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from mcp_agents.models import AgentMessage, MessageType

PROGRESS_LINE_MAX = 200
QUOTE = "> "
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"\s+")


def short_id(run_id: str) -> str:
    """The run's last 6 characters: distinct among runs started together (ObjectIds share a prefix)."""
    return run_id[-6:] if len(run_id) > 6 else run_id


def clip(text: str, limit: int) -> str:
    """`text` on one line, at most `limit` characters (an ellipsis marks a cut)."""
    flat = _SPACES.sub(" ", _CONTROL.sub("", text)).strip()
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)] + "…"


def untrusted(text: str, limit: int = 4000) -> str:
    """Agent-written text as a quoted block: every line starts with `> `, bounded in length."""
    cleaned = _CONTROL.sub("", text).strip()
    if len(cleaned) > limit:
        cleaned = cleaned[:limit] + f"… [{len(text) - limit} more chars]"
    return "\n".join(QUOTE + line for line in cleaned.splitlines() or [""])


def message_gist(message: AgentMessage) -> str:
    """What a message is about in a few words: the tool a THOUGHT calls, else its text."""
    tool = message.tool_name
    if tool:
        status = message.details.get("tool_status") if isinstance(message.details, dict) else None
        return f"tool {tool}" + (f" ({status})" if isinstance(status, str) and status else "")
    if message.message:
        return message.message
    if message.type is MessageType.PLAN:
        steps = plan_steps(message.details)
        if steps is not None:
            return f"plan of {len(steps)} steps"
    return ""


def progress_line(run_id: str, message: AgentMessage) -> str:
    """`[run abc123] TYPE workstream: gist`, at most 200 characters."""
    head = f"[run {short_id(run_id)}] {message.type.value} {clip(message.workstream_id, 40)}: "
    return head + clip(message_gist(message), PROGRESS_LINE_MAX - len(head))


def plan_steps(details: Any) -> list[Any] | None:
    """The steps (or tasks) a PLAN's details announce, when it lists them."""
    if isinstance(details, Mapping):
        for key in ("steps", "tasks", "plan"):
            value = details.get(key)
            if isinstance(value, list):
                return value
    if isinstance(details, list):
        return details
    return None


_DONE = {"done", "completed", "complete", "finished", "skipped", "success"}


def work_units(message: AgentMessage) -> tuple[int, int] | None:
    """(done, total) when a PLAN (its steps) or a message's details (`total` and `current`/`completed`/...)
    tell how much work there is: BATCH_PROGRESS does, and so do some UPDATEs."""
    details = message.details
    if message.type is MessageType.PLAN:
        steps = plan_steps(details)
        if not steps:
            return None
        done = sum(1 for step in steps if isinstance(step, Mapping) and str(step.get("status", "")).lower() in _DONE)
        return done, len(steps)
    if isinstance(details, Mapping) and "total" in details:
        total = details.get("total")
        done = next((details[key] for key in ("completed", "done", "processed", "current") if key in details), 0)
        if isinstance(total, int | float) and total > 0 and isinstance(done, int | float):
            return int(min(done, total)), int(total)
    return None


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, limit: int = 50) -> str:
    """A compact pipe table (Markdown-compatible) of at most `limit` rows."""
    lines = [" | ".join(headers)]
    count = 0
    extra = 0
    for row in rows:
        if count >= limit:
            extra += 1
            continue
        lines.append(" | ".join(clip("" if cell is None else str(cell), 80) for cell in row))
        count += 1
    if extra:
        lines.append(f"… {extra} more rows")
    return "\n".join(lines)
