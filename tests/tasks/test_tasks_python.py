"""Agent runs as tasks (2026-07-28 extension) through a Python requester built from `ClientExtension`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError

from mcp_agents.client import AgentRunsClient
from mcp_agents.local import LocalServiceConfig, RunningService, run_local_service
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.server.tasks import TaskKeys
from mcp_agents.server.tools.results import RunsUpdate
from mcp_agents.settings import Settings
from tests.server.serving_helpers import STEP_TIMEOUT, api_client, fast_demo
from tests.tasks.requester import TasksRequester, cancel_task, get_task, settle, settle_until, update_task

KEY = "a task key shared by every replica of this test"


def server(client: AgentRunsClient, key: str = KEY) -> Any:
    settings = Settings(task_key=key)
    return build_server(settings, deps=ServerDeps(settings, client))


async def teal(key: str, request: dict[str, Any]) -> dict[str, Any]:
    assert request["method"] == "elicitation/create" and "Which colour?" in request["params"]["message"]
    return {"action": "accept", "content": {"answer": "teal"}}


async def test_a_demo_run_delegated_as_a_task_asks_through_tasks_update_and_ends_with_the_tools_result(
        local_service: RunningService) -> None:
    async with api_client(local_service) as client:
        requester = TasksRequester(teal)
        with anyio.fail_after(STEP_TIMEOUT * 2):
            async with Client(server(client), extensions=[requester]) as mcp:
                result = await mcp.call_tool("start_agent_run", {"interaction": "Demo",
                                                                 "data": fast_demo(ask="Which colour?")})
        assert not result.is_error
        update = RunsUpdate.model_validate(result.structured_content)  # the tool's own outputSchema
        (run,) = update.runs
        assert run.answer and "You said: teal" in run.answer and run.question is None
        assert "You said: teal" in result.content[0].text  # type: ignore[union-attr]
        (task_id,) = requester.task_ids

        # The turn is part of the task: what the run does afterwards (restarted, or sent more input) does not
        # reopen it. Interactive runs that go IDLE at the end of a turn take input; completed ones restart.
        before = len(await client.messages.retrieve(run.run_id))
        if (await client.runs.retrieve(run.run_id)).is_terminal:
            await client.runs.restart(run.run_id)
        else:
            await client.communication.send_signal(run.run_id, "UserInput", {"message": "and now?"})
        with anyio.fail_after(STEP_TIMEOUT):
            while len(await client.messages.retrieve(run.run_id)) == before:  # noqa: ASYNC110
                await anyio.sleep(0.05)
        async with Client(server(client), extensions=[TasksRequester()]) as other:
            again = await get_task(other.session, task_id)
        assert again["status"] == "completed" and again["result"]["structuredContent"] == result.structured_content


async def test_a_task_without_a_question_and_a_client_without_tasks_get_the_same_result_shape(
        local_service: RunningService) -> None:
    async with api_client(local_service) as client:
        with anyio.fail_after(STEP_TIMEOUT * 2):
            async with Client(server(client), extensions=[TasksRequester()]) as mcp:
                as_task = await mcp.call_tool("start_agent_run", {"interaction": "Demo", "data": fast_demo(),
                                                                  "interactive": False})
            async with Client(server(client)) as plain:
                handle = await plain.call_tool("start_agent_run", {"interaction": "Demo", "data": fast_demo(),
                                                                   "interactive": False})
        assert RunsUpdate.model_validate(as_task.structured_content).runs[0].done
        assert RunsUpdate.model_validate(handle.structured_content).runs[0].status == "running"  # no task: at once


async def test_a_failed_run_is_a_completed_task_whose_result_is_an_error(local_service: RunningService) -> None:
    async with api_client(local_service) as client:
        with anyio.fail_after(STEP_TIMEOUT * 2):
            async with Client(server(client), extensions=[TasksRequester()]) as mcp:
                result = await mcp.call_tool("start_agent_run", {"interaction": "Demo",
                                                                 "data": fast_demo(fail="disk full")})
        assert result.is_error
        (run,) = RunsUpdate.model_validate(result.structured_content).runs
        assert run.status == "failed" and run.error and "disk full" in run.error


async def test_cancel_terminates_the_run_and_a_second_cancel_is_acknowledged_without_effect(
        local_service: RunningService) -> None:
    async with api_client(local_service) as client:
        with anyio.fail_after(STEP_TIMEOUT * 2):
            async with Client(server(client), extensions=[TasksRequester()]) as mcp:
                handle = await mcp.session.call_tool("start_agent_run", {
                    "interaction": "Demo", "data": {"task": "slow", "steps": 50, "step_delay_ms": 200}},
                    allow_claimed=True)
                task_id = handle.task_id  # type: ignore[union-attr]
                assert handle.status == "working"  # type: ignore[union-attr]
                assert (await cancel_task(mcp.session, task_id))["resultType"] == "complete"
                task = await settle(mcp.session, task_id)
                assert task["status"] == "cancelled" and "result" not in task
                assert (await cancel_task(mcp.session, task_id))["resultType"] == "complete"
        run_id = TaskKeys.from_secret(KEY).open(task_id).run_id  # type: ignore[union-attr]
        assert (await client.runs.retrieve(run_id)).status == "cancelled"


async def test_decline_leaves_the_question_to_the_model_and_duplicate_updates_are_harmless(
        local_service: RunningService) -> None:
    async with api_client(local_service) as client:
        with anyio.fail_after(STEP_TIMEOUT * 2):
            async with Client(server(client), extensions=[TasksRequester()]) as mcp:
                handle = await mcp.session.call_tool("start_agent_run", {
                    "interaction": "Demo", "data": fast_demo(ask="Which colour?")}, allow_claimed=True)
                task_id = handle.task_id  # type: ignore[union-attr]
                task = await settle_until(mcp.session, task_id, "input_required")
                (key,) = task["inputRequests"]
                assert (await get_task(mcp.session, task_id))["inputRequests"].keys() == {key}  # stable key
                await update_task(mcp.session, task_id, {"not-pending": {"action": "accept", "content": {}}})
                assert (await get_task(mcp.session, task_id))["status"] == "input_required"  # ignored
                declined = {key: {"action": "decline"}}
                await update_task(mcp.session, task_id, declined)
                await update_task(mcp.session, task_id, declined)
                task = await get_task(mcp.session, task_id)
        assert task["status"] == "completed"
        (run,) = task["result"]["structuredContent"]["runs"]
        assert run["question"] == "Which colour?" and "did not answer" in run["note"]
        assert "send_agent_input" in task["result"]["structuredContent"]["next_step"]
        assert (await client.runs.retrieve(run["run_id"])).status == "running"  # the run still waits


async def test_send_agent_input_answers_as_a_task_of_the_next_turn(local_service: RunningService) -> None:
    async with api_client(local_service) as client:
        run = await client.runs.create(interaction="Demo", data=fast_demo(ask="Which colour?"), interactive=True)
        with anyio.fail_after(STEP_TIMEOUT * 2):
            while not any(m.type.value == "QUESTION" for m in await client.messages.retrieve(run.id)):  # noqa: ASYNC110
                await anyio.sleep(0.05)
            async with Client(server(client), extensions=[TasksRequester()]) as mcp:
                result = await mcp.call_tool("send_agent_input", {"run_id": run.id, "message": "green"})
        (update,) = RunsUpdate.model_validate(result.structured_content).runs
        assert update.answer and "You said: green" in update.answer
        assert update.messages.by_type.get("QUESTION") is None  # only the new turn's messages


async def test_forged_ids_and_clients_without_the_extension_are_refused(local_service: RunningService) -> None:
    async with api_client(local_service) as client:
        async with Client(server(client), extensions=[TasksRequester()]) as mcp:
            handle = await mcp.session.call_tool("start_agent_run", {"interaction": "Demo", "data": fast_demo(),
                                                                     "interactive": False}, allow_claimed=True)
            task_id = handle.task_id  # type: ignore[union-attr]
            for forged in (task_id[:-2] + "AA", "t1.e30.AAAA", "nonsense"):
                with pytest.raises(MCPError) as caught:
                    await get_task(mcp.session, forged)
                assert caught.value.error.code == -32602 and caught.value.error.message == "unknown task id"
        async with Client(server(client, key="another deployment's key, not ours")) as stranger:
            with pytest.raises(MCPError) as caught:
                await get_task(stranger.session, task_id)
            assert caught.value.error.code == -32021


async def test_duplicate_updates_through_two_replicas_deliver_the_answer_once(tmp_path: Path) -> None:
    config = LocalServiceConfig(data_dir=tmp_path, interactions=["tests.tasks.conformance_fixture:INTERACTIONS"])
    async with run_local_service(config) as service, api_client(service) as client:
        with anyio.fail_after(STEP_TIMEOUT * 2):
            async with Client(server(client), extensions=[TasksRequester()]) as first, \
                    Client(server(client), extensions=[TasksRequester()]) as second:
                handle = await first.session.call_tool("start_agent_run", {
                    "interaction": "Fixture", "data": {"job": "count"}}, allow_claimed=True)
                task_id = handle.task_id  # type: ignore[union-attr]
                task = await settle_until(first.session, task_id, "input_required")
                (key,) = task["inputRequests"]
                answer = {key: {"action": "accept", "content": {"answer": "teal"}}}
                async with anyio.create_task_group() as group:  # a retry racing the original, on two replicas
                    for session in (first.session, second.session, first.session):
                        group.start_soon(update_task, session, task_id, answer)
                task = await settle(second.session, task_id)
        (run,) = task["result"]["structuredContent"]["runs"]
        assert run["answer"] == "replies: 1"


async def test_a_read_only_server_reads_tasks_but_neither_answers_nor_cancels(local_service: RunningService) -> None:
    async with api_client(local_service) as client:
        async with Client(server(client), extensions=[TasksRequester()]) as mcp:
            handle = await mcp.session.call_tool("start_agent_run", {"interaction": "Demo", "data": fast_demo(
                ask="Which colour?")}, allow_claimed=True)
        task_id = handle.task_id  # type: ignore[union-attr]
        settings = Settings(task_key=KEY, read_only=True)
        read_only = build_server(settings, deps=ServerDeps(settings, client))
        async with Client(read_only, extensions=[TasksRequester()]) as mcp:
            assert (await get_task(mcp.session, task_id))["taskId"] == task_id
            for write in (cancel_task(mcp.session, task_id), update_task(mcp.session, task_id, {})):
                with pytest.raises(MCPError, match="read-only"):
                    await write
        assert (await client.runs.retrieve(TaskKeys.from_secret(KEY).open(task_id).run_id)).status == "running"  # type: ignore[union-attr]



async def test_a_task_answering_a_declined_question_is_read_from_its_own_turn_right_after_the_declined_one(
        local_service: RunningService) -> None:
    # Task reads are cached briefly per run and reused by the tasks of later turns. That earlier read still holds
    # the previous turn (its question, the decline): the answer's task must not end with them.
    async with api_client(local_service) as client:
        with anyio.fail_after(STEP_TIMEOUT * 2):
            async with Client(server(client), extensions=[TasksRequester()]) as mcp:
                asked = await mcp.session.call_tool("start_agent_run", {
                    "interaction": "Demo", "data": fast_demo(ask="Which colour?")}, allow_claimed=True)
                asked_id = asked.task_id  # type: ignore[union-attr]
                (key,) = (await settle_until(mcp.session, asked_id, "input_required"))["inputRequests"]
                await update_task(mcp.session, asked_id, {key: {"action": "decline"}})
                assert (await get_task(mcp.session, asked_id))["status"] == "completed"  # left to the model
                run_id = TaskKeys.from_secret(KEY).open(asked_id).run_id  # type: ignore[union-attr]
                answer = await mcp.session.call_tool("send_agent_input", {"run_id": run_id, "message": "green"},
                                                     allow_claimed=True)
                asked_again: list[str] = []

                async def record(key: str, request: dict[str, Any]) -> dict[str, Any]:
                    asked_again.append(request["params"]["message"])
                    return {"action": "accept", "content": {"answer": "teal"}}

                task = await settle(mcp.session, answer.task_id, record)  # type: ignore[union-attr]
        assert asked_again == []  # the question answered by this very input is not asked again
        (run,) = task["result"]["structuredContent"]["runs"]
        assert run.get("question") is None and "You said: green" in run["answer"]
        assert run["messages"]["by_type"].get("QUESTION") is None  # only the answer's turn


@pytest.mark.parametrize(("tool", "arguments", "afterwards"), [
    ("send_agent_input", {"message": "teal"}, {"working", "completed"}),
    ("cancel_agent_run", {}, {"cancelled"}),
])
async def test_a_task_is_read_afresh_after_the_server_itself_wrote_to_its_run(
        local_service: RunningService, tool: str, arguments: dict[str, Any], afterwards: set[str]) -> None:
    """A task's reads are reused for its poll interval, by every reader. A poll right after the server itself sent
    the run an input or a cancel (through a tool, not `tasks/*`) must not be answered with the read from before."""
    async with api_client(local_service) as client:
        with anyio.fail_after(STEP_TIMEOUT * 2):
            async with Client(server(client), extensions=[TasksRequester()]) as mcp:
                asked = await mcp.session.call_tool("start_agent_run", {
                    "interaction": "Demo", "data": fast_demo(ask="Which colour?")}, allow_claimed=True)
                task_id = asked.task_id  # type: ignore[union-attr]
                await settle_until(mcp.session, task_id, "input_required")  # this read is now the cached one
                run_id = TaskKeys.from_secret(KEY).open(task_id).run_id  # type: ignore[union-attr]
                sent = await mcp.session.call_tool(tool, {"run_id": run_id, **arguments}, allow_claimed=True)
                assert not getattr(sent, "is_error", False)
                assert (await get_task(mcp.session, task_id))["status"] in afterwards
        if not (await client.runs.retrieve(run_id)).is_terminal:
            await client.runs.terminate(run_id)
