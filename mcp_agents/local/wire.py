"""The two wire formats of the local service: the seed document's shapes and the hosted service's.

Handlers build the seed shape (what is stored); `WireFormat` turns it into what the configured
wire sends. Hosted: compact messages with integer `t` and no `wri`, runs as the published
`AgentRun` (overrides under `config`, `run_kind`/`run_type`, `interactionRef`), child workflows
as `WorkflowRun`, and nothing a published schema with `additionalProperties: false` refuses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mcp_agents.local.records import iso
from mcp_agents.models.hosted import Wire
from mcp_agents.models.messages import MAIN_WORKSTREAM, MessageType, parse_type, type_code

_MESSAGE_KEYS = ("t", "m", "w", "d", "f", "ts", "i")
_RUN_KEYS = ("id", "account", "project", "interaction", "interaction_name", "data", "interactive", "tool_names",
             "collection_id", "status", "started_at", "completed_at", "started_by", "title", "topic", "tags",
             "categories", "properties", "visibility", "created_at", "updated_at", "forked_from")
_CHILD_KEYS = ("run_id", "workflow_id", "status", "started_at", "closed_at", "type")


def hosted_message(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message as the hosted `CompactMessage`: integer type, only the published keys."""
    out = {key: message[key] for key in _MESSAGE_KEYS if key in message}
    out["t"] = type_code(parse_type(message.get("t")) or MessageType.UPDATE)  # unknown types read as UPDATE
    if "d" in out and not isinstance(out["d"], dict | None):  # details posted through the seed wire may be any JSON
        out["d"] = {"observation": out["d"]}
    return out


def hosted_run(run: dict[str, Any]) -> dict[str, Any]:
    """A seed-shaped run as the published `AgentRun` (an autonomous conversation run)."""
    out = {key: run[key] for key in _RUN_KEYS if run.get(key) is not None}
    config = {name: run[name] for name in ("environment", "model") if run.get(name)}
    if config:
        out["config"] = config
    if run.get("parent_id"):
        out["parent_run_id"] = run["parent_id"]
    version = str(run.get("interaction_version") or "")
    out.update({
        "run_kind": "agent", "run_type": "autonomous", "source_type": "api", "workflow_id": f"AgentRun:{run['id']}",
        "interactionRef": {"id": run["interaction"], "name": run.get("interaction_name") or run["interaction"],
                           "endpoint": run["interaction"], "status": "published",
                           "version": int(version) if version.isdigit() else 1, "tags": [],
                           "updated_at": run["created_at"]},
    })
    return out


def hosted_child(child: dict[str, Any]) -> dict[str, Any]:
    """A child run as the published `WorkflowRun` (its agent run id is in `workflow_id`: `AgentRun:<id>`)."""
    out = {key: child.get(key) for key in _CHILD_KEYS}
    out["run_id"] = child["workflow_run_id"]
    out["interaction_name"] = child["interaction"]
    return out


def hosted_hit(hit: dict[str, Any]) -> dict[str, Any]:
    """A search hit as the published `AgentRunSearchHit` (no visibility; the run's kind and type)."""
    out = {key: value for key, value in hit.items() if key != "visibility" and value is not None}
    out.update({"run_kind": "agent", "run_type": "autonomous"})
    return out


def hosted_history(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A run's history as the published `WorkflowHistory` of agent tasks: one task per tool call."""
    tasks = []
    for message in messages:
        details = message.get("d")
        if parse_type(message.get("t")) is not MessageType.THOUGHT or not isinstance(details, dict):
            continue
        tool = details.get("tool")
        if not isinstance(tool, str):
            continue
        status = details.get("tool_status")
        at = iso(int(message["ts"]))
        task: dict[str, Any] = {
            "taskType": "tool_call", "toolName": tool, "scheduled_at": at, "started_at": at,
            "completed_at": at if status != "running" else None,
            "status": status if status in ("running", "completed", "error", "warning") else "completed",
            "workstreamId": message.get("w", MAIN_WORKSTREAM)}
        tasks.append(task)
    return {"type": "agent", "agentTasks": tasks}


@dataclass(frozen=True)
class WireFormat:
    """What the service sends: `seed` (the default) or `hosted`."""

    name: Wire = "seed"

    @property
    def hosted(self) -> bool:
        return self.name == "hosted"

    def message(self, message: dict[str, Any]) -> dict[str, Any]:
        return hosted_message(message) if self.hosted else message

    def messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [hosted_message(item) for item in messages] if self.hosted else messages

    def run(self, run: dict[str, Any]) -> dict[str, Any]:
        return hosted_run(run) if self.hosted else run

    def encode(self, message: dict[str, Any]) -> str:
        return json.dumps(self.message(message), separators=(",", ":"))
