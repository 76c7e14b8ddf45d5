"""Parsing what the service sends: messages in every format, run lists in both shapes."""

from __future__ import annotations

import pytest

from mcp_agents.models import AgentMessage, ChildrenList, MessageType, RunList


@pytest.mark.parametrize(("raw", "expected"), [(3, "UPDATE"), ("3", "UPDATE"), ("UPDATE", "UPDATE"),
                                               ("answer", "ANSWER"), (4, "COMPLETE"), (14, "RESTARTING"),
                                               (99, "UPDATE"), ("PROGRESS", "UPDATE"), (True, "UPDATE")])
def test_compact_type_codes(raw: object, expected: str) -> None:
    message = AgentMessage.model_validate({"t": raw, "m": "x", "ts": 5})
    assert message.type is MessageType(expected)
    assert message.raw_type == (None if expected != "UPDATE" or raw in (3, "3", "UPDATE") else raw)


def test_compact_fields_and_extras_are_kept() -> None:
    message = AgentMessage.model_validate({"t": 1, "m": "thinking", "w": "ws2", "d": {"tool": "search"},
                                           "ts": 1713349800000, "f": 1, "i": "act-1", "wri": "wr-1", "zz": 7})
    assert (message.type, message.workstream_id, message.timestamp, message.final_chunk) == (
        MessageType.THOUGHT, "ws2", 1713349800000, True)
    assert (message.activity_id, message.workflow_run_id, message.tool_name) == ("act-1", "wr-1", "search")
    assert message.model_extra == {"zz": 7}
    assert message.to_wire()["zz"] == 7


def test_legacy_format() -> None:
    message = AgentMessage.model_validate({"type": "complete", "message": "done", "details": {"a": 1},
                                           "workstream_id": None, "timestamp": "1713349800000",
                                           "workflow_run_id": "wr"})
    assert message.type is MessageType.COMPLETE and message.workstream_id == "main"
    assert message.timestamp == 1713349800000 and message.ends_run


def test_end_of_run_rules() -> None:
    def ends(raw: dict[str, object]) -> bool:
        return AgentMessage.model_validate(raw).ends_run

    assert ends({"t": 4}) and ends({"t": "TERMINATED", "w": "ws"})
    assert not ends({"t": 4, "w": "ws1"})
    assert not ends({"t": 4, "d": {"process_run_id": "child"}})
    assert not ends({"t": 3})


def test_identity_distinguishes_equal_timestamps() -> None:
    a = AgentMessage.model_validate({"t": 3, "m": "a", "ts": 10})
    b = AgentMessage.model_validate({"t": 3, "m": "b", "ts": 10})
    assert a.identity() != b.identity()
    assert a.identity() == AgentMessage.model_validate({"type": "update", "message": "a", "timestamp": 10}
                                                         ).identity()


def test_run_list_shapes() -> None:
    runs = [{"id": "a", "status": "running"}, {"id": "b", "status": "completed", "extra": 1}]
    seed = RunList.model_validate(runs)
    live = RunList.model_validate({"items": runs, "total_count": 2, "next_cursor": "c2"})
    assert [r.id for r in seed.items] == [r.id for r in live.items] == ["a", "b"]
    assert (live.total_count, live.next_cursor) == (2, "c2")
    assert seed.items[1].is_terminal and seed.items[1].model_extra == {"extra": 1}
    assert ChildrenList.model_validate([{"run_id": "c"}]).runs[0].run_id == "c"


def test_model_and_environment_overrides_go_under_config() -> None:
    from mcp_agents.models import AgentRun, CreateAgentRunRequest
    from mcp_agents.models.runs import RunConfig

    request = CreateAgentRunRequest(interaction="Echo", model="m", environment="e")  # the seed's spelling
    wire = {"interaction": "Echo", "config": {"environment": "e", "model": "m"}}
    assert request.model_dump(exclude_none=True) == wire
    assert (request.model, request.environment) == ("m", "e")
    override = CreateAgentRunRequest.model_validate({"interaction": "Echo", "config": RunConfig(model="a"),
                                                     "model": "b"})
    assert override.model == "b"
    with pytest.raises(ValueError, match="modle"):
        CreateAgentRunRequest.model_validate({"interaction": "Echo", "config": {"modle": "m"}})
    hosted = AgentRun.model_validate({"id": "r", "config": {"environment": "e", "model": "m"}})
    assert (hosted.environment, hosted.model) == ("e", "m")
