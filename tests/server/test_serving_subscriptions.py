"""Subscriptions in both eras: a subscribed run is followed and its changes are announced."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from mcp.server.auth.middleware.auth_context import auth_context_var
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.mcpserver import Context
from mcp.server.subscriptions import ResourceUpdated, ServerEvent
from mcp.types import ResourceUpdatedNotification

from mcp_agents.client import AgentRunsClient, RetryPolicy
from mcp_agents.local import RunningService
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps, credential_key, server_deps
from mcp_agents.server.http import HttpOptions, build_http_app
from mcp_agents.server.subscriptions import CredentialBus, RunUpdated, RunWatcher
from mcp_agents.settings import Settings
from tests.server.serving_helpers import (
    STEP_TIMEOUT,
    api_client,
    fast_demo,
    mcp_client,
    serve_with_lifespan,
    server_over,
)
from tests.support.fault_proxy import FaultProxy
from tests.support.processes import free_port

NO_RETRY = RetryPolicy(max_retries=0)


async def waiting_demo(client: AgentRunsClient) -> str:
    """A Demo run that has reached its question and waits for input."""
    run = await client.runs.create(interaction="Demo", data=fast_demo(ask="Go on?"), interactive=True)
    with anyio.fail_after(STEP_TIMEOUT):
        async for message in client.messages.stream(run.id):
            if message.asks_for_input:
                break
    return run.id


class Seen:
    """URIs announced so far; `until` waits (bounded) for a set of them."""

    def __init__(self) -> None:
        self.uris: list[str] = []
        self._changed = anyio.Event()

    def add(self, uri: str) -> None:
        self.uris.append(uri)
        self._changed.set()

    async def until(self, *wanted: str) -> None:
        with anyio.fail_after(STEP_TIMEOUT):
            while not set(wanted) <= set(self.uris):
                await self.changed()

    async def changed(self) -> None:
        """Wait for the next announcement (the caller bounds the wait)."""
        self._changed = anyio.Event()
        await self._changed.wait()


async def test_handshake_era_subscribe_announces_messages_and_status(local_service: RunningService) -> None:
    seen = Seen()

    async def on_message(message: Any) -> None:
        notification = getattr(message, "root", message)
        if isinstance(notification, ResourceUpdatedNotification):
            seen.add(str(notification.params.uri))

    async with api_client(local_service) as client, \
            mcp_client(client, "legacy", message_handler=on_message) as mcp:
        assert mcp.server_capabilities is not None and mcp.server_capabilities.resources is not None
        assert mcp.server_capabilities.resources.subscribe is True
        run_id = await waiting_demo(client)
        await mcp.subscribe_resource(f"agent-run://{run_id}")
        await mcp.subscribe_resource(f"agent-run://{run_id}/messages")
        await client.communication.send_signal(run_id, "UserInput", {"message": "yes"})
        await seen.until(f"agent-run://{run_id}/messages")
        await client.runs.terminate(run_id)  # an interactive run goes IDLE after its answer: end it
        await seen.until(f"agent-run://{run_id}")
        assert (await client.runs.retrieve(run_id)).status == "cancelled"
        await mcp.unsubscribe_resource(f"agent-run://{run_id}")


async def test_modern_era_listen_announces_messages_and_status(local_service: RunningService) -> None:
    seen = Seen()
    async with api_client(local_service) as client, mcp_client(client, "auto") as mcp:
        run_id = await waiting_demo(client)
        uris = [f"agent-run://{run_id}", f"agent-run://{run_id}/messages"]
        async with mcp.listen(resource_subscriptions=uris) as subscription:
            await client.communication.send_signal(run_id, "UserInput", {"message": "yes"})

            async def collect() -> None:
                async for event in subscription:
                    if isinstance(event, ResourceUpdated):
                        seen.add(event.uri)

            async with anyio.create_task_group() as group:
                group.start_soon(collect)
                await seen.until(uris[1])
                await client.runs.terminate(run_id)  # an interactive run goes IDLE after its answer: end it
                await seen.until(*uris)
                group.cancel_scope.cancel()


async def test_subscribing_to_an_unknown_run_is_refused(local_service: RunningService) -> None:
    async with api_client(local_service) as client, mcp_client(client, "legacy") as mcp:
        try:
            await mcp.subscribe_resource("agent-run://no-such-run")
        except Exception as exc:  # MCPError
            assert "no-such-run" in str(exc)
        else:  # pragma: no cover - the assertion below documents the failure
            raise AssertionError("subscribing to an unknown run succeeded")


async def test_follow_is_shared_and_stops_with_its_last_subscriber(local_service: RunningService) -> None:
    seen = Seen()
    bus = CredentialBus()
    bus.subscribe(lambda event: seen.add(event.uri) if isinstance(event, ResourceUpdated) else None)
    async with api_client(local_service) as client, RunWatcher.running(bus) as watcher:
        run = await client.runs.create(interaction="Echo", data={"task": "hello"}, interactive=True)
        await watcher.acquire(client, "", run.id)
        await watcher.acquire(client, "", run.id)
        assert watcher.followed == 1
        await client.communication.send_signal(run.id, "UserInput", {"message": "ping"})
        await seen.until(f"agent-run://{run.id}/messages")
        watcher.release("", run.id)
        assert watcher.followed == 1
        watcher.release("", run.id)
        assert watcher.followed == 0
        await client.runs.terminate(run.id, reason="test over")


async def test_run_updates_reach_only_streams_of_the_same_credential() -> None:
    bus = CredentialBus()
    got: dict[str, list[ServerEvent]] = {"alice": [], "bob": [], "server": []}
    bus.subscribe(got["server"].append)
    for name in ("alice", "bob"):
        user = AuthenticatedUser(AccessToken(token=f"sk-{name}-0123456789", client_id=name, scopes=[]))
        reset = auth_context_var.set(user)
        try:
            bus.subscribe(got[name].append)
        finally:
            auth_context_var.reset(reset)
    await bus.publish(RunUpdated(uri="agent-run://r1", credential=credential_key("sk-alice-0123456789")))
    await bus.publish(ResourceUpdated(uri="agent-run://shared"))
    assert [e.uri for e in got["alice"]] == ["agent-run://r1", "agent-run://shared"]  # type: ignore[union-attr]
    assert [e.uri for e in got["bob"]] == ["agent-run://shared"]  # type: ignore[union-attr]
    assert [e.uri for e in got["server"]] == ["agent-run://shared"]  # type: ignore[union-attr]


async def test_unsubscribing_and_closing_stop_the_follows(local_service: RunningService) -> None:
    port = free_port()
    settings = Settings(port=port)
    async with api_client(local_service) as client:
        server = build_server(settings, deps=ServerDeps(settings, client))

        @server.tool()
        def followed_runs(ctx: Context[ServerDeps]) -> int:  # a window on the watcher, for this test only
            watcher = server_deps(ctx).watcher
            assert watcher is not None
            return watcher.followed

        async def followed(mcp: Client) -> int:
            return int((await mcp.call_tool("followed_runs", {})).structured_content["result"])  # type: ignore[index]

        first = await client.runs.create(interaction="Echo", data={"task": "x"}, interactive=True)
        second = await client.runs.create(interaction="Echo", data={"task": "y"}, interactive=True)
        app = build_http_app(server, settings, HttpOptions())
        async with serve_with_lifespan(app, port) as root, Client(f"{root}/mcp", mode="legacy") as observer:
            async with Client(f"{root}/mcp", mode="legacy") as mcp:
                await mcp.subscribe_resource(f"agent-run://{first.id}")
                await mcp.subscribe_resource(f"agent-run://{first.id}/messages")
                await mcp.subscribe_resource(f"agent-run://{second.id}")
                assert await followed(observer) == 2
                await mcp.unsubscribe_resource(f"agent-run://{first.id}")
                assert await followed(observer) == 2  # its messages are still subscribed
                await mcp.unsubscribe_resource(f"agent-run://{first.id}/messages")
                assert await followed(observer) == 1
            with anyio.fail_after(STEP_TIMEOUT):  # the closed session released the rest
                while await followed(observer) != 0:  # noqa: ASYNC110 - polling the server, bounded
                    await anyio.sleep(0.01)
            async with Client(f"{root}/mcp") as modern, \
                    modern.listen(resource_subscriptions=[f"agent-run://{first.id}/messages"]):
                assert await followed(observer) == 1
            with anyio.fail_after(STEP_TIMEOUT):  # the ended listen stream released its follow
                while await followed(observer) != 0:  # noqa: ASYNC110 - polling the server, bounded
                    await anyio.sleep(0.01)


async def test_subscribing_again_and_again_on_one_connection_does_not_pile_up_its_teardown(
        local_service: RunningService) -> None:
    """A client that subscribes to each run it starts and unsubscribes when it is done, on one long-lived
    connection: the connection's teardown (which releases its follows) is registered once, not per cycle."""
    port = free_port()
    settings = Settings(port=port)
    async with api_client(local_service) as client:
        server = build_server(settings, deps=ServerDeps(settings, client))

        @server.tool()
        def teardown_callbacks(ctx: Context[ServerDeps]) -> int:  # a window on the connection, for this test only
            return len(ctx.session._connection.exit_stack._exit_callbacks)  # type: ignore[attr-defined]

        async def callbacks(mcp: Client) -> int:
            return int((await mcp.call_tool("teardown_callbacks", {})).structured_content["result"])  # type: ignore[index]

        run = await client.runs.create(interaction="Echo", data={"task": "x"}, interactive=True)
        app = build_http_app(server, settings, HttpOptions())
        async with serve_with_lifespan(app, port) as root, Client(f"{root}/mcp", mode="legacy") as mcp:
            before = await callbacks(mcp)
            for _ in range(5):
                await mcp.subscribe_resource(f"agent-run://{run.id}")
                await mcp.unsubscribe_resource(f"agent-run://{run.id}")
            assert await callbacks(mcp) <= before + 1


async def test_subscribing_twice_at_once_while_the_first_read_of_the_run_fails_still_follows_it(
        local_service: RunningService) -> None:
    """Two subscriptions to one run arrive together (the run and its messages); the read that starts the
    follow fails once (a real proxy answers 503s). The subscription that did not fail must be followed:
    it may not be acknowledged and then left without a follow, or announce nothing for the rest of its life."""
    seen = Seen()

    async def on_message(message: Any) -> None:
        notification = getattr(message, "root", message)
        if isinstance(notification, ResourceUpdatedNotification):
            seen.add(str(notification.params.uri))

    async with api_client(local_service) as direct, FaultProxy(local_service.sts_url) as proxy, \
            AgentRunsClient(base_url=proxy.url + "/api/v1", api_key=local_service.api_key,
                            sts_url=local_service.sts_url, retry_policy=NO_RETRY) as client, \
            mcp_client(client, "legacy", message_handler=on_message) as mcp:
        run_id = await waiting_demo(direct)
        uris = [f"agent-run://{run_id}", f"agent-run://{run_id}/messages"]
        proxy.set_delay(0.3)  # both subscriptions are in flight while the first read is
        proxy.fail_next(1, status=503, path_contains=f"/agents/{run_id}")
        outcomes: dict[str, bool] = {}

        async def subscribe(uri: str) -> None:
            try:
                await mcp.subscribe_resource(uri)
                outcomes[uri] = True
            except MCPError:
                outcomes[uri] = False

        with anyio.fail_after(STEP_TIMEOUT):
            async with anyio.create_task_group() as group:
                for uri in uris:
                    group.start_soon(subscribe, uri)
        proxy.reset()
        assert any(outcomes.values()), outcomes
        await direct.communication.send_signal(run_id, "UserInput", {"message": "yes"})
        await seen.until(f"agent-run://{run_id}/messages")  # a follow announces the new messages
        await direct.runs.terminate(run_id)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_a_subscription_follows_its_run_across_restart_agent_run(local_service: RunningService,
                                                                       mode: str) -> None:
    """Subscribed to a run whose follow ended with it (terminated), a client restarts it through
    `restart_agent_run`: it hears that the run changed, then every message of the new workflow once, in both
    eras (`agent-run://{id}/messages` is announced once per new message: none lost, none repeated)."""
    seen = Seen()

    async def on_message(message: Any) -> None:
        notification = getattr(message, "root", message)
        if isinstance(notification, ResourceUpdatedNotification):
            seen.add(str(notification.params.uri))

    async with api_client(local_service) as client, AsyncExitStack() as stack:
        server = server_over(client)

        @server.tool()
        def followed_runs(ctx: Context[ServerDeps]) -> int:  # a window on the watcher, for this test only
            watcher = server_deps(ctx).watcher
            assert watcher is not None
            return watcher.followed

        mcp = await stack.enter_async_context(
            Client(server, mode=mode, **({"message_handler": on_message} if mode == "legacy" else {})))
        run_id = await waiting_demo(client)
        run_uri, messages_uri = f"agent-run://{run_id}", f"agent-run://{run_id}/messages"
        if mode == "legacy":
            await mcp.subscribe_resource(run_uri)
            await mcp.subscribe_resource(messages_uri)
        else:
            subscription = await stack.enter_async_context(mcp.listen(resource_subscriptions=[run_uri, messages_uri]))

            async def collect() -> None:
                async for event in subscription:
                    if isinstance(event, ResourceUpdated):
                        seen.add(event.uri)

            group = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(group.cancel_scope.cancel)
            group.start_soon(collect)
        await client.runs.terminate(run_id, reason="stopped before the restart")
        await seen.until(run_uri)  # the run ended: its follow ends too
        ended = len(await client.messages.retrieve(run_id))
        mark = len(seen.uris)

        restarted = await mcp.call_tool("restart_agent_run", {"run_id": run_id})
        assert not restarted.is_error, restarted.content
        with anyio.fail_after(STEP_TIMEOUT):  # the restart itself is announced
            while run_uri not in seen.uris[mark:]:
                await seen.changed()
        await client.communication.send_signal(run_id, "UserInput", {"message": "after the restart"})
        with anyio.fail_after(STEP_TIMEOUT):  # the restarted run's answer ends its turn: IDLE is stored
            while (await client.messages.retrieve(run_id))[-1].type.value != "IDLE":  # noqa: ASYNC110 - bounded
                await anyio.sleep(0.02)
        await client.runs.terminate(run_id, reason="test over")
        new = len(await client.messages.retrieve(run_id)) - ended  # RESTARTING ... the answer, IDLE, TERMINATED
        assert new >= 4

        def announced() -> int:
            return seen.uris[mark:].count(messages_uri)

        async def following() -> bool:
            return bool((await mcp.call_tool("followed_runs", {})).structured_content["result"])  # type: ignore[index]

        with anyio.fail_after(STEP_TIMEOUT):  # every message announced, and the follow over: nothing more will come
            while announced() < new or await following():  # noqa: ASYNC110 - polling the server, bounded
                await anyio.sleep(0.02)
        assert announced() == new, seen.uris[mark:]
