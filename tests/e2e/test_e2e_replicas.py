"""Replicas, proven: three stateless `mcp-agents serve --transport http` processes behind a round-robin proxy.

The replicas run with the Kubernetes manifests' own settings (the ConfigMap's environment, the Deployment's
arguments and its shared `MCP_AGENTS_REQUEST_STATE_KEY`), only bound to loopback and pointed at the test's
local service. Every request goes to the next replica in turn, so consecutive calls of one caller land on
different processes: the whole flow works in both eras, a 2026-07-28 question's retry is accepted by
another replica than the one that asked, and when the replica serving a wait dies, the caller's next
call (with its cursor) succeeds on another and loses nothing.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
import yaml
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitResult, InputRequiredResult

from mcp_agents.client import AgentRunsClient
from tests.e2e.clients import MODES, call, demo, start, wait_until_answered
from tests.e2e.processes import Service
from tests.support.processes import clean_env, stop
from tests.support.processes import start_http_server as start_server
from tests.support.progress import Progress
from tests.support.round_robin import RoundRobin
from tests.support.serve import serve_app

pytestmark = pytest.mark.anyio
K8S = Path(__file__).resolve().parents[2] / "manifests" / "k8s"
REPLICAS = 3
STEP_TIMEOUT = 40.0


def k8s_settings() -> tuple[dict[str, str], list[str]]:
    """The ConfigMap's environment and the Deployment's `serve` flags, as the manifests give them."""
    config = yaml.safe_load((K8S / "configmap.yaml").read_text())["data"]
    (container,) = yaml.safe_load((K8S / "deployment.yaml").read_text())["spec"]["template"]["spec"]["containers"]
    secret_env = {item["name"] for item in container["env"] if "secretKeyRef" in item.get("valueFrom", {})}
    assert "MCP_AGENTS_REQUEST_STATE_KEY" in secret_env, "replicas must share the request-state key"
    assert config["MCP_AGENTS_STATELESS"] == "true" and config["MCP_AGENTS_HTTP_AUTH"] == "required"
    args = list(container["args"])
    assert args[:3] == ["serve", "--transport", "http"]
    flags: list[str] = []
    rest = iter(args[3:])
    for flag in rest:
        value = next(rest)
        if flag != "--port":  # the test gives each replica a free port
            flags += [flag, "127.0.0.1" if flag == "--host" else value]
    return {str(k): str(v) for k, v in config.items()}, flags


@contextmanager
def replicas(service: Service, data: Path) -> Iterator[tuple[list[subprocess.Popen[bytes]], list[str]]]:
    """Three replicas with the manifests' settings and one shared request-state key; always stopped."""
    config, flags = k8s_settings()
    shared = secrets.token_urlsafe(32)
    processes: list[subprocess.Popen[bytes]] = []
    roots: list[str] = []
    try:
        for index in range(REPLICAS):
            env = clean_env(**{**config, "MCP_AGENTS_HOST": "127.0.0.1", "MCP_AGENTS_DATA_DIR": str(data / str(index)),
                               "MCP_AGENTS_LOG_LEVEL": "warning", "MCP_AGENTS_REQUEST_STATE_KEY": shared,
                               "VERTESIA_API_URL": service.base_url, "VERTESIA_STS_URL": service.sts_url,
                               "PYTHONUNBUFFERED": "1"})
            env.pop("MCP_AGENTS_PORT")
            process, root = start_server(env, "--stateless", *flags, log=data / f"replica-{index}.log")
            processes.append(process)
            roots.append(root)
        yield processes, roots
    finally:
        for process in processes:
            stop(process)


@asynccontextmanager
async def balanced(roots: list[str]) -> AsyncIterator[tuple[RoundRobin, str]]:
    proxy = RoundRobin(roots)
    try:
        async with serve_app(proxy) as url:
            yield proxy, url + "/mcp"
    finally:
        await proxy.aclose()


@asynccontextmanager
async def caller(url: str, mode: str, bearer: str, **options: Any) -> AsyncIterator[Client]:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {bearer}"},
                                  timeout=httpx2.Timeout(30, read=60)) as http, \
            Client(streamable_http_client(url, http_client=http), mode=mode, **options) as mcp:
        yield mcp


async def never_asked(context: Any, params: Any) -> ElicitResult:
    raise AssertionError("the retry carries the answer; nobody is asked twice")


@pytest.mark.parametrize("mode", MODES)
async def test_the_whole_flow_through_three_replicas(service: Service, tmp_path: Path, mode: str) -> None:
    with replicas(service, tmp_path) as (_, roots):
        async with balanced(roots) as (proxy, url), caller(url, mode, service.api_key) as mcp:
            # start, then wait with live progress: fan-out over three runs
            run_ids = [await start(mcp, data=demo(steps=3, step_delay_ms=20)) for _ in range(3)]
            progress = Progress()
            runs = await wait_until_answered(mcp, run_ids, progress_callback=progress)
            assert all(run["status"] == "completed" and run["answer"].startswith("Done: e2e") for run in runs.values())
            assert progress.lines  # relayed live, whichever replica held the wait
            assert len(set(proxy.landed("tools/call"))) == REPLICAS  # every replica served this caller

            # cancel
            long_run = await start(mcp, data=demo(steps=500, step_delay_ms=50))
            cancelled = await call(mcp, "cancel_agent_run", {"run_id": long_run, "reason": "replicas test"})
            assert cancelled["runs"][0]["status"] == "cancelled"
            assert "cancelled" in str(await call(mcp, "get_agent_run", {"run_id": long_run}))

            # a question
            asking = await start(mcp, data=demo(ask="Which colour?"), interactive=True)
            if mode == "legacy":  # no input-required round trip in this era: the wait returns the question
                question = None
                for _ in range(5):
                    waited = (await call(mcp, "wait_for_agent_runs", {"run_ids": [asking], "timeout_seconds": 30}))
                    question = waited["runs"][0].get("question")
                    if question:
                        break
                assert question and "Which colour?" in question
                await call(mcp, "send_agent_input", {"run_id": asking, "message": "teal"})
                answered = await wait_until_answered(mcp, [asking])
                assert "You said: teal" in answered[asking]["answer"]
                return
        async with balanced(roots) as (proxy, url), \
                caller(url, mode, service.api_key, elicitation_callback=never_asked) as mcp:
            arguments = {"run_ids": [asking], "timeout_seconds": 30}
            with anyio.fail_after(STEP_TIMEOUT):
                asked = await mcp.session.call_tool("wait_for_agent_runs", arguments, allow_input_required=True)
            assert isinstance(asked, InputRequiredResult) and asked.request_state
            (key,) = asked.input_requests or {}
            with anyio.fail_after(STEP_TIMEOUT):
                result = await mcp.session.call_tool(
                    "wait_for_agent_runs", arguments, allow_input_required=True, request_state=asked.request_state,
                    input_responses={key: ElicitResult(action="accept", content={"answer": "teal"})})
            first, retry = proxy.landed("tools/call", "wait_for_agent_runs")[-2:]
            assert first != retry  # sealed by one replica, opened by another
            assert not isinstance(result, InputRequiredResult) and not result.is_error
            waited = (result.structured_content or {})["runs"][0]
            # an interactive run ends its answered turn (IDLE) and waits for more: the wait returns that turn
            assert waited.get("turn") == "waiting_for_input" and not waited["done"]
            assert "You said: teal" in waited["answer"] and not waited.get("question")


@pytest.mark.parametrize("mode", MODES)
async def test_a_replica_dies_mid_wait_and_the_next_call_loses_nothing(
        service: Service, tmp_path: Path, mode: str) -> None:
    with replicas(service, tmp_path) as (processes, roots):
        async with balanced(roots) as (proxy, url), caller(url, mode, service.api_key) as mcp, \
                AgentRunsClient(base_url=service.base_url, api_key=service.api_key, sts_url=service.sts_url) as api:
            run_id = await start(mcp, "Echo", data={"task": "replicas"}, interactive=True)
            first = await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 2})
            cursor = first["runs"][0]["cursor"]
            assert cursor

            live = Progress()
            broken: list[BaseException] = []

            async def wait_long() -> None:
                try:
                    await mcp.call_tool("wait_for_agent_runs", {"run_ids": [run_id], "since": {run_id: cursor},
                                                                "timeout_seconds": 50}, progress_callback=live)
                except Exception as exc:  # the replica holding it dies: the call ends one way or another
                    broken.append(exc)

            with anyio.fail_after(STEP_TIMEOUT):
                async with anyio.create_task_group() as group:
                    group.start_soon(wait_long)
                    await api.messages.post(run_id, message="before-the-crash")
                    while not any("before-the-crash" in line for line in live.lines):
                        await live.seen.wait()
                        live.seen = anyio.Event()
                    holder = proxy.landed("tools/call", "wait_for_agent_runs")[-1]
                    processes[holder].kill()
                    processes[holder].wait(timeout=10)
                    await api.messages.post(run_id, message="after-the-crash")
            progress = Progress()
            resumed = await call(mcp, "wait_for_agent_runs", {"run_ids": [run_id], "since": {run_id: cursor},
                                                              "timeout_seconds": 3}, progress_callback=progress)
            assert proxy.landed("tools/call", "wait_for_agent_runs")[-1] != holder
            relayed = "\n".join(progress.lines) + str(resumed)
            assert "before-the-crash" in relayed and "after-the-crash" in relayed
            assert resumed["runs"][0]["cursor"] > cursor
            await api.communication.send_signal(run_id, "Stop")
