"""Task requesters from npm against real servers: ext-tasks (2026-07-28) and the 1.x SDK (2025-11-25).

Three `mcp-agents serve` replicas share the task key behind a round-robin proxy (no affinity), so a
task created on one replica is polled, answered and cancelled through the others; the last test
kills a replica while a task waits for its answer, and the task goes on through the other two.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.e2e.processes import Service
from tests.support.processes import clean_env, start_http_server, stop
from tests.tasks.node_runner import run_node
from tests.tasks.round_robin import RoundRobin

TASK_KEY = "replicas-share-this-task-key-0123456789abcdef"
STATE_KEY = "replicas-share-this-request-state-key-0123456789"
TASK_METHODS = ("tasks/get", "tasks/update", "tasks/cancel")


@pytest.fixture(scope="module")
def replicas(service: Service) -> Iterator[list[tuple[subprocess.Popen[bytes], str]]]:
    started: list[tuple[subprocess.Popen[bytes], str]] = []
    try:
        for _ in range(3):
            started.append(start_http_server(service.env(MCP_AGENTS_TASK_KEY=TASK_KEY,
                                                         MCP_AGENTS_REQUEST_STATE_KEY=STATE_KEY)))
        yield started
    finally:
        for process, _ in started:
            stop(process)


def replica_urls(replicas: list[tuple[subprocess.Popen[bytes], str]]) -> list[str]:
    return [root for _, root in replicas]


async def test_ext_tasks_delegates_a_demo_run_across_replicas_and_answers_its_question(
        replicas: list[tuple[subprocess.Popen[bytes], str]]) -> None:
    proxy = RoundRobin(replica_urls(replicas))
    async with proxy.serving() as url:
        out = await run_node("ext_tasks.mjs", "question", env=clean_env(MCP_URL=f"{url}/mcp"))
    assert out["kind"] == "task" and out["status"] == "completed" and not out["isError"]
    assert out["statuses"] == ["working", "input_required", "completed"]
    (asked,) = out["asked"]
    assert asked["key"].startswith("question-") and "Which colour?" in asked["message"]
    (run,) = out["structured"]["runs"]
    assert "You said: teal" in run["answer"]
    assert "You said: teal" in out["text"]
    creator = next(index for index, method in proxy.served if method == "tools/call")
    for method in ("tasks/get", "tasks/update"):
        assert proxy.replicas_for(method) - {creator}, proxy.served  # no affinity: other replicas answered


async def test_ext_tasks_sees_a_failed_run_as_a_completed_task_with_an_error_result(
        replicas: list[tuple[subprocess.Popen[bytes], str]]) -> None:
    async with RoundRobin(replica_urls(replicas)).serving() as url:
        out = await run_node("ext_tasks.mjs", "fail", env=clean_env(MCP_URL=f"{url}/mcp"))
    assert out["status"] == "completed" and out["isError"]
    assert out["structured"]["runs"][0]["error"] == "disk full"


async def test_ext_tasks_cancels_through_another_replica(
        replicas: list[tuple[subprocess.Popen[bytes], str]]) -> None:
    proxy = RoundRobin(replica_urls(replicas))
    async with proxy.serving() as url:
        out = await run_node("ext_tasks.mjs", "cancel", env=clean_env(MCP_URL=f"{url}/mcp"))
    assert out["status"] == "cancelled"
    creator = next(index for index, method in proxy.served if method == "tools/call")
    assert proxy.replicas_for("tasks/cancel") - {creator}, proxy.served


async def test_ext_tasks_over_stdio_detached_and_resumed_from_another_process(service: Service) -> None:
    """Each run is a client process with its own stdio server; the two servers share only the task key."""
    env = service.env(MCP_AGENTS_TASK_KEY=TASK_KEY,
                      MCP_COMMAND=json.dumps([sys.executable, "-m", "mcp_agents", "serve"]))
    detached = await run_node("ext_tasks.mjs", "detach", env=env)
    assert detached["kind"] == "task" and detached["status"] == "input_required"
    resumed = await run_node("ext_tasks.mjs", "resume", json.dumps(detached["reference"]), env=env)
    (asked,) = resumed["asked"]  # answered through tasks/update by the second process
    assert "Which colour?" in asked["message"]
    assert resumed["status"] == "completed" and "You said: teal" in resumed["structured"]["runs"][0]["answer"]


async def test_sdk_v1_tasks_in_2025_11_25_answer_the_question_during_tasks_result(
        service: Service, replicas: list[tuple[subprocess.Popen[bytes], str]]) -> None:
    """The 2025-11-25 generation keeps a session per replica, so this client talks to one replica."""
    out = await run_node("sdk_v1.mjs", "question", env=clean_env(MCP_URL=f"{replicas[0][1]}/mcp"))
    assert out["protocolVersion"] == "2025-11-25" and out["capabilities"]["requests"] == {"tools": {"call": {}}}
    assert out["taskSupport"] == {"start_agent_run": "optional", "send_agent_input": "optional"}
    assert out["seen"][0] == "created:working" and "input_required" in out["seen"]
    (asked,) = out["asked"]
    assert "Which colour?" in asked
    assert "You said: teal" in out["result"]["structuredContent"]["runs"][0]["answer"]
    assert out["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"] == out["taskId"]
    assert out["task"]["status"] == "completed" and out["task"]["ttl"] > 0

    cancelled = await run_node("sdk_v1.mjs", "cancel", env=clean_env(MCP_URL=f"{replicas[1][1]}/mcp"))
    assert cancelled["cancelled"]["status"] == "cancelled" and cancelled["task"]["status"] == "cancelled"

    stdio = service.env(MCP_AGENTS_TASK_KEY=TASK_KEY,
                        MCP_COMMAND=json.dumps([sys.executable, "-m", "mcp_agents", "serve"]))
    over_stdio = await run_node("sdk_v1.mjs", "question", env=stdio)
    assert "You said: teal" in over_stdio["result"]["structuredContent"]["runs"][0]["answer"]


async def test_a_replica_killed_mid_task_and_the_task_goes_on(
        replicas: list[tuple[subprocess.Popen[bytes], str]]) -> None:
    """Last in this module: it kills one of the shared replicas."""
    proxy = RoundRobin(replica_urls(replicas))
    async with proxy.serving() as url:
        env = clean_env(MCP_URL=f"{url}/mcp")
        detached = await run_node("ext_tasks.mjs", "detach", env=env)
        assert detached["status"] == "input_required"
        creator = next(index for index, method in proxy.served if method == "tools/call")
        stop(replicas[creator][0])
        resumed = await run_node("ext_tasks.mjs", "resume", json.dumps(detached["reference"]), env=env)
    assert resumed["status"] == "completed" and "You said: teal" in resumed["structured"]["runs"][0]["answer"]
    served_after = {index for index, method in proxy.served[-6:] if method in TASK_METHODS}
    assert creator not in served_after and served_after
