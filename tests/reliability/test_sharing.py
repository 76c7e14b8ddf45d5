"""A shared HTTP deployment: one caller can neither hold the server's sessions with invented bearers,
take the upstream pool, receive another caller's cookies, nor use up everyone's subscriptions."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx2
import jwt
import pytest
import uvicorn
from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.server import MCPServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mcp_agents.client import AgentRunsClient, CallerBusyError, UpstreamLimits
from mcp_agents.local import RunningService
from mcp_agents.server.admission import ADDRESS_CHECKS, address_key
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.server.http import HttpConfigError, HttpOptions, build_http_app, serve_http
from mcp_agents.settings import Settings
from tests.local.helpers import KEYS, issue_token
from tests.reliability.helpers import FAST_RETRY, FAST_STREAM, STEP_TIMEOUT, data, text_of
from tests.server.serving_helpers import serve_with_lifespan
from tests.support.processes import free_port

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")]
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
POLITE_STREAM = dataclasses.replace(FAST_STREAM, poll_interval=1.0)  # 84 runs polled: once a second each
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}}


def team_settings(service: RunningService, port: int, **extra: Any) -> Settings:
    """`--auth required` with no credential of its own: every call uses its caller's bearer."""
    return Settings.load({"VERTESIA_API_URL": service.base_url, "VERTESIA_STS_URL": service.sts_url,
                          "MCP_AGENTS_PORT": str(port), **extra})


async def open_session(http: httpx2.AsyncClient, root: str, bearer: str) -> httpx2.Response:
    return await http.post(f"{root}/mcp", json=INITIALIZE, headers={**ACCEPT, "Authorization": f"Bearer {bearer}"})


def made_up_bearers(count: int) -> list[str]:
    """Keys and JWTs of the right shape that the service never issued (JWTs signed with a foreign key)."""
    keys = [f"sk-made-up-{index:05d}-0123456789" for index in range(count // 2)]
    tokens = [jwt.encode({"sub": f"user:ghost{index}", "exp": 4_000_000_000}, "not-the-service-key" * 2,
                         algorithm="HS256") for index in range(count - len(keys))]
    return keys + tokens


async def test_made_up_bearers_get_401_and_hold_no_session(multi_service: RunningService) -> None:
    """With room for only 4 sessions, 60 invented bearers (each tried twice) open none of them: a real
    caller still gets in, and each invented bearer was checked with the service once. (They all come from
    one address, so they wait for that address's few checks in turn.)"""
    port = free_port()
    settings = team_settings(multi_service, port)
    options = HttpOptions(auth="required", max_sessions=4)
    app = build_http_app(build_server(settings, http=options), settings, options)
    async with serve_with_lifespan(app, port) as root, httpx2.AsyncClient(timeout=STEP_TIMEOUT) as http:
        bearers = made_up_bearers(60)
        statuses: list[int] = []

        async def intrude(bearer: str) -> None:
            for _ in range(2):
                with anyio.fail_after(STEP_TIMEOUT):
                    statuses.append((await open_session(http, root, bearer)).status_code)

        async with anyio.create_task_group() as group:
            for bearer in bearers:
                group.start_soon(intrude, bearer)
        assert statuses == [401] * 120
        for index in range(4):  # every one of the 4 sessions is still free for genuine callers
            opened = await open_session(http, root, KEYS["alice"] if index % 2 else KEYS["bob"])
            assert opened.status_code == 200 and opened.headers["mcp-session-id"]
        full = await open_session(http, root, KEYS["alice"])
        assert full.status_code == 503  # the cap itself still holds
    check = app.routes[-1].app.check  # type: ignore[attr-defined]
    assert check.asked == 60 + 2  # one check per distinct bearer: refusals and acceptances are cached


async def test_one_credential_holds_at_most_its_share_of_sessions(multi_service: RunningService) -> None:
    port = free_port()
    settings = team_settings(multi_service, port)
    options = HttpOptions(auth="required", caller_sessions=3)
    app = build_http_app(build_server(settings, http=options), settings, options)
    alice_jwt = await issue_token(multi_service, KEYS["alice"])
    async with serve_with_lifespan(app, port) as root, httpx2.AsyncClient(timeout=STEP_TIMEOUT) as http:
        held = [await open_session(http, root, KEYS["alice"]) for _ in range(3)]
        assert [r.status_code for r in held] == [200] * 3, [r.text for r in held]
        refused = await open_session(http, root, KEYS["alice"])
        assert refused.status_code == 429 and "MCP_AGENTS_CALLER_SESSIONS" in refused.text
        assert (await open_session(http, root, alice_jwt)).status_code == 200  # another credential of hers
        assert (await open_session(http, root, KEYS["bob"])).status_code == 200
        ended = await http.delete(f"{root}/mcp", headers={**ACCEPT, "Authorization": f"Bearer {KEYS['alice']}",
                                                          "mcp-session-id": held[0].headers["mcp-session-id"]})
        assert ended.status_code < 300
        assert (await open_session(http, root, KEYS["alice"])).status_code == 200  # a closed one frees room
        bearer = {"Authorization": f"Bearer {KEYS['alice']}"}  # her quota is full again
        async with httpx2.AsyncClient(headers=bearer, timeout=30) as alices, \
                Client(streamable_http_client(f"{root}/mcp", http_client=alices)) as mcp:
            assert not (await mcp.call_tool("list_agent_runs", {})).is_error  # 2026-07-28 calls hold no session



async def test_session_bookkeeping_forgets_credentials_whose_sessions_ended(multi_service: RunningService) -> None:
    """Every JWT is a credential of its own (a caller's token is renewed hourly): once its sessions end, the
    per-credential session count must not keep an entry for it, or a long-lived server grows without bound."""
    port = free_port()
    settings = team_settings(multi_service, port)
    options = HttpOptions(auth="required")
    app = build_http_app(build_server(settings, http=options), settings, options)
    tokens = [await issue_token(multi_service, KEYS["alice"]) for _ in range(6)]
    async with serve_with_lifespan(app, port) as root, httpx2.AsyncClient(timeout=STEP_TIMEOUT) as http:
        for token in tokens:  # each renewed token opens a session, which then ends
            opened = await open_session(http, root, token)
            assert opened.status_code == 200
            ended = await http.delete(f"{root}/mcp", headers={**ACCEPT, "Authorization": f"Bearer {token}",
                                                              "mcp-session-id": opened.headers["mcp-session-id"]})
            assert ended.status_code < 300
        assert (await open_session(http, root, KEYS["bob"])).status_code == 200
    quota = app.routes[-1].app._sessions  # type: ignore[attr-defined]
    assert len(quota._sessions) == 1  # bob's live session only; the ended tokens' entries are gone

@asynccontextmanager
async def cookie_upstream() -> AsyncIterator[tuple[str, list[tuple[str, str | None]]]]:
    """A real upstream that sets a session cookie on every answer and records the cookies it receives."""
    seen: list[tuple[str, str | None]] = []

    async def runs(request: Request) -> JSONResponse:
        who = hashlib.sha256(request.headers.get("authorization", "").encode()).hexdigest()[:8]
        seen.append((who, request.headers.get("cookie")))
        response = JSONResponse({"items": [], "total_count": 0, "next_cursor": None})
        response.set_cookie("upstream_session", f"for-{who}", path="/")
        return response

    async with serving_runs(runs) as url:
        yield url, seen


@asynccontextmanager
async def serving_runs(endpoint: Callable[[Request], Awaitable[JSONResponse]]) -> AsyncIterator[str]:
    """A real upstream on a free loopback port answering `GET /api/v1/agents` with `endpoint`; its API URL."""
    port = free_port()
    config = uvicorn.Config(Starlette(routes=[Route("/api/v1/agents", endpoint)]), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(STEP_TIMEOUT):
            while not server.started:  # noqa: ASYNC110 - uvicorn has a flag, no event
                await anyio.sleep(0.01)
        try:
            yield f"http://127.0.0.1:{port}/api/v1"
        finally:
            server.should_exit = True
            group.cancel_scope.cancel()


class HoldingUpstream:
    """A real upstream standing in for a slow Agent Runs service: it answers the genuine bearer's run listing at
    once and holds every other request (a check of an invented bearer) until `release`; `held` counts those."""

    def __init__(self, genuine: str) -> None:
        self.genuine = genuine
        self.held = 0
        self.release = anyio.Event()
        self.changed = anyio.Event()

    async def runs(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") == f"Bearer {self.genuine}":
            return JSONResponse({"items": [], "total_count": 0, "next_cursor": None})
        self.held += 1
        self.changed.set()
        await self.release.wait()
        return JSONResponse({"error": "Unauthorized", "status": 401, "message": "invalid token"}, status_code=401)

    async def until_held(self, count: int) -> None:
        with anyio.fail_after(STEP_TIMEOUT):
            while self.held < count:
                self.changed = anyio.Event()
                await self.changed.wait()

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        try:
            async with serving_runs(self.runs) as url:
                yield url
        finally:
            self.release.set()


async def test_invented_bearers_from_one_address_cannot_hold_up_a_genuine_callers_first_check() -> None:
    """40 invented bearers from 127.0.0.2 are being checked against a service that does not answer them; a
    genuine caller's first request (from 127.0.0.1) is admitted meanwhile. The flood holds its address's few
    checks, the rest of it waits its turn behind them, and each is answered once the service answers."""
    genuine = jwt.encode({"sub": "user:genuine", "exp": 4_000_000_000}, "the-upstream-stand-in-key" * 2,
                         algorithm="HS256")
    upstream = HoldingUpstream(genuine)
    port = free_port()
    async with upstream.serving() as url:
        settings = Settings.load({"VERTESIA_API_URL": url, "VERTESIA_STS_URL": url.removesuffix("/api/v1"),
                                  "MCP_AGENTS_PORT": str(port)})
        options = HttpOptions(auth="required")
        app = build_http_app(build_server(settings, http=options), settings, options)
        flood_transport = httpx2.AsyncHTTPTransport(local_address="127.0.0.2", limits=httpx2.Limits(max_connections=50))
        async with serve_with_lifespan(app, port) as root, \
                httpx2.AsyncClient(transport=flood_transport, timeout=STEP_TIMEOUT) as flood, \
                httpx2.AsyncClient(timeout=STEP_TIMEOUT) as http:
            answers: list[httpx2.Response] = []

            async def intrude(bearer: str) -> None:
                answers.append(await open_session(flood, root, bearer))

            async with anyio.create_task_group() as group:
                for bearer in made_up_bearers(80)[40:]:  # the invented JWTs: each is a check of the stand-in
                    group.start_soon(intrude, bearer)
                await upstream.until_held(ADDRESS_CHECKS)
                with anyio.fail_after(STEP_TIMEOUT):
                    opened = await open_session(http, root, genuine)
                assert opened.status_code == 200 and opened.headers["mcp-session-id"]
                assert not answers and upstream.held == ADDRESS_CHECKS  # the rest of the flood waits its turn
                upstream.release.set()  # the service answers at last: every invented bearer ends in 401
            assert [answer.status_code for answer in answers] == [401] * 40
            assert upstream.held == 40


@pytest.mark.parametrize("trusted", [True, False], ids=["proxy-trusted", "proxy-not-trusted"])
async def test_behind_a_trusted_proxy_each_caller_has_its_own_checks(trusted: bool) -> None:
    """`mcp-agents serve` behind a reverse proxy (here 127.0.0.1, forwarding with X-Forwarded-For): when the
    proxy is trusted (`MCP_AGENTS_FORWARDED_ALLOW_IPS`, the default trusts loopback) a flood from one caller
    leaves another caller's first check free; when it is not, every caller waits in the proxy address's turn."""
    genuine = jwt.encode({"sub": "user:genuine", "exp": 4_000_000_000}, "the-upstream-stand-in-key" * 2,
                         algorithm="HS256")
    upstream = HoldingUpstream(genuine)
    port = free_port()
    async with upstream.serving() as url:
        settings = Settings.load({"VERTESIA_API_URL": url, "VERTESIA_STS_URL": url.removesuffix("/api/v1"),
                                  "MCP_AGENTS_PORT": str(port), "MCP_AGENTS_TRANSPORT": "http"})
        environ = {"MCP_AGENTS_HTTP_AUTH": "required"} | ({} if trusted else
                                                          {"MCP_AGENTS_FORWARDED_ALLOW_IPS": "10.0.0.0/8"})
        options = HttpOptions.load(environ)
        root = f"http://127.0.0.1:{port}"
        async with anyio.create_task_group() as group, httpx2.AsyncClient(timeout=STEP_TIMEOUT) as http:
            group.start_soon(serve_http, build_server(settings, http=options), settings, options)
            with anyio.fail_after(STEP_TIMEOUT):
                while True:
                    try:
                        await http.get(f"{root}/healthz")
                        break
                    except httpx2.TransportError:
                        await anyio.sleep(0.02)
            answers: list[httpx2.Response] = []

            async def intrude(bearer: str) -> None:
                answers.append(await http.post(f"{root}/mcp", json=INITIALIZE, headers={
                    **ACCEPT, "Authorization": f"Bearer {bearer}", "X-Forwarded-For": "203.0.113.7"}))

            for bearer in made_up_bearers(2 * ADDRESS_CHECKS)[ADDRESS_CHECKS:]:  # invented JWTs, held upstream
                group.start_soon(intrude, bearer)
            await upstream.until_held(ADDRESS_CHECKS)
            genuine_request = {**ACCEPT, "Authorization": f"Bearer {genuine}", "X-Forwarded-For": "198.51.100.1"}
            if trusted:  # its own address: checked at once, while the flood is held
                with anyio.fail_after(STEP_TIMEOUT):
                    opened = await http.post(f"{root}/mcp", json=INITIALIZE, headers=genuine_request)
                assert opened.status_code == 200 and opened.headers["mcp-session-id"]
                assert not answers
                upstream.release.set()
            else:  # the proxy's address: it waits its turn behind the flood's checks
                result: list[httpx2.Response] = []

                async def genuine_caller() -> None:
                    result.append(await http.post(f"{root}/mcp", json=INITIALIZE, headers=genuine_request))

                group.start_soon(genuine_caller)
                await anyio.sleep(0.5)  # room for it to be (wrongly) admitted ahead of the flood
                assert not result and upstream.held == ADDRESS_CHECKS
                upstream.release.set()
                with anyio.fail_after(STEP_TIMEOUT):
                    while not result:  # noqa: ASYNC110 - bounded
                        await anyio.sleep(0.01)
                assert result[0].status_code == 200
            with anyio.fail_after(STEP_TIMEOUT):
                while len(answers) < ADDRESS_CHECKS:  # noqa: ASYNC110 - bounded
                    await anyio.sleep(0.01)
            assert {answer.status_code for answer in answers} == {401}
            group.cancel_scope.cancel()


def test_a_proxy_address_that_is_not_one_is_refused_clearly() -> None:
    with pytest.raises(HttpConfigError, match="MCP_AGENTS_FORWARDED_ALLOW_IPS: 'ingress' is neither"):
        HttpOptions.load({"MCP_AGENTS_FORWARDED_ALLOW_IPS": "10.0.0.0/8, ingress"})
    assert HttpOptions.load({}, forwarded_allow_ips="*").forwarded_allow_ips == ("*",)


def test_checks_count_per_client_address_an_ipv6_host_by_its_64() -> None:
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff:1") != address_key("2001:db8:0:1::1")
    assert address_key("::ffff:10.0.0.1") == address_key("10.0.0.1") == "10.0.0.1"
    assert address_key("127.0.0.1") != address_key("127.0.0.2")


async def test_a_cookie_set_for_one_credential_never_reaches_another() -> None:
    async with cookie_upstream() as (url, seen), \
            AgentRunsClient(base_url=url, token="alice.token.x", retry_policy=FAST_RETRY) as alice:
        bob = alice.with_credentials(token="bob.token.y")  # a view sharing alice's pool, as callers do
        await alice.runs.list()
        await bob.runs.list()
        await alice.runs.list()
    assert len(seen) == 3
    assert [cookie for _, cookie in seen] == [None, None, None]  # nothing kept, for nobody


async def test_a_caller_following_100_runs_leaves_room_for_another(multi_service: RunningService) -> None:
    """Alice waits on 100 live runs; meanwhile Bob's get_agent_run answers, before her wait ends. Alice
    holds at most her stream share; her other runs are followed by polling, and all are reported."""
    port = free_port()
    settings = Settings(port=port)
    alice_key, bob_key = KEYS["alice"], KEYS["bob"]
    async with AgentRunsClient(base_url=multi_service.base_url, sts_url=multi_service.sts_url,
                               retry_policy=FAST_RETRY, stream_policy=POLITE_STREAM, timeout=10) as base:
        alice_api, bob_api = base.with_credentials(api_key=alice_key), base.with_credentials(api_key=bob_key)
        runs = []
        for _ in range(100):
            runs.append(await alice_api.runs.create(interaction="Demo", data={"task": "long", "steps": 200,
                                                                               "step_delay_ms": 2000}))
        bobs_run = await bob_api.runs.create(interaction="Echo", data={"task": "hi"}, interactive=False)
        server = build_server(settings, deps=ServerDeps(settings, base))
        app = build_http_app(server, settings, HttpOptions())
        progress = anyio.Event()
        alice_done = anyio.Event()
        waited: dict[str, Any] = {}

        async def on_progress(value: float, total: float | None, message: str | None) -> None:
            progress.set()

        try:
            async with serve_with_lifespan(app, port) as root, \
                    httpx2.AsyncClient(headers={"Authorization": f"Bearer {alice_key}"}, timeout=120) as alices, \
                    httpx2.AsyncClient(headers={"Authorization": f"Bearer {bob_key}"}, timeout=30) as bobs, \
                    Client(streamable_http_client(f"{root}/mcp", http_client=alices)) as alice, \
                    Client(streamable_http_client(f"{root}/mcp", http_client=bobs)) as bob:

                async def alice_waits() -> None:
                    result = await alice.call_tool("wait_for_agent_runs", {
                        "run_ids": [run.id for run in runs], "timeout_seconds": 20}, progress_callback=on_progress)
                    waited.update(data(result))
                    alice_done.set()

                async with anyio.create_task_group() as group:
                    group.start_soon(alice_waits)
                    with anyio.fail_after(STEP_TIMEOUT * 2):
                        await progress.wait()
                    slots = base._pool.slots.for_credential(alice_api.credentials.fingerprint)
                    with anyio.fail_after(STEP_TIMEOUT * 2):  # Alice's streams reach her share, no more
                        while slots.stream_free:  # noqa: ASYNC110 - a semaphore has no event to wait on
                            await anyio.sleep(0.05)
                    got = await bob.call_tool("get_agent_run", {"run_id": bobs_run.id})
                    assert not got.is_error, text_of(got)
                    assert not alice_done.is_set()  # Bob did not have to wait for Alice's wait to end
                    with anyio.fail_after(60):
                        await alice_done.wait()
        finally:
            for run in runs:
                await alice_api.runs.terminate(run.id)
    reported = waited["runs"]
    assert len(reported) == 100 and waited["timed_out"]
    assert all(run["status"] == "running" and not run.get("error") for run in reported)
    assert all(run["messages"]["count"] > 0 for run in reported)  # streamed or polled, every run was followed


async def test_a_caller_over_its_request_share_gets_a_clear_error_not_a_hang(
        local_service: RunningService) -> None:
    limits = UpstreamLimits(caller_requests=2, queue_seconds=0.5)
    async with AgentRunsClient(base_url=local_service.base_url, sts_url=local_service.sts_url,
                               api_key=local_service.api_key, retry_policy=FAST_RETRY, limits=limits) as client:
        await client.runs.list()  # exchanges the key first
        slots = client._requester.slots
        async with slots.request(), slots.request():  # both of this credential's slots are in use
            with anyio.fail_after(STEP_TIMEOUT), pytest.raises(CallerBusyError, match="MCP_AGENTS_CALLER_REQUESTS"):
                await client.runs.list()
            other = client.with_credentials(api_key=local_service.api_key + "-other")  # its own share
            assert other._requester.slots is not slots
        assert (await client.runs.list()).items is not None  # freed again


def _subscribe_server(service: RunningService, port: int) -> tuple[MCPServer[ServerDeps], Settings]:
    settings = team_settings(service, port)
    return build_server(settings, http=HttpOptions(auth="required")), settings


@pytest.mark.parametrize("era", ["legacy", "modern"])
async def test_one_callers_subscriptions_never_refuse_anothers(multi_service: RunningService, era: str) -> None:
    """Alice subscribes to her per-caller maximum (64) and is refused the 65th; Bob still subscribes."""
    port = free_port()
    server, settings = _subscribe_server(multi_service, port)
    options = HttpOptions(auth="required")
    app = build_http_app(server, settings, options)
    async with AgentRunsClient(base_url=multi_service.base_url, sts_url=multi_service.sts_url,
                               api_key=KEYS["alice"]) as alice_api:
        alice_runs = [await alice_api.runs.create(interaction="Echo", data={"task": "x"}, interactive=True)
                      for _ in range(settings.caller_subscriptions + 1)]
        bob_run = await alice_api.with_credentials(api_key=KEYS["bob"]).runs.create(
            interaction="Echo", data={"task": "y"}, interactive=True)
        try:
            async with serve_with_lifespan(app, port) as root, \
                    httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEYS['alice']}"}, timeout=60) as ah, \
                    httpx2.AsyncClient(headers={"Authorization": f"Bearer {KEYS['bob']}"}, timeout=60) as bh, \
                    Client(streamable_http_client(f"{root}/mcp", http_client=ah), mode=_mode(era)) as alice, \
                    Client(streamable_http_client(f"{root}/mcp", http_client=bh), mode=_mode(era)) as bob:
                uris = [f"agent-run://{run.id}" for run in alice_runs]
                if era == "legacy":
                    for uri in uris[:-1]:
                        await alice.subscribe_resource(uri)
                    with pytest.raises(MCPError, match="unsubscribe"):
                        await alice.subscribe_resource(uris[-1])
                    await bob.subscribe_resource(f"agent-run://{bob_run.id}")
                    await bob.unsubscribe_resource(f"agent-run://{bob_run.id}")
                else:
                    async with alice.listen(resource_subscriptions=uris[:-1]):
                        with pytest.raises(MCPError, match="unsubscribe"):
                            async with alice.listen(resource_subscriptions=uris[-1:]):
                                pass
                        async with bob.listen(resource_subscriptions=[f"agent-run://{bob_run.id}"]):
                            pass
        finally:
            for run in [*alice_runs]:
                await alice_api.runs.terminate(run.id)


def _mode(era: str) -> Any:
    return "legacy" if era == "legacy" else "auto"


def test_the_limits_are_settings_with_clear_refusals() -> None:
    settings = Settings.load({"MCP_AGENTS_CALLER_STREAMS": "4", "MCP_AGENTS_UPSTREAM_CONNECTIONS": "30"})
    assert (settings.caller_streams, settings.upstream_connections, settings.caller_requests) == (4, 30, 16)
    for name, value in (("MCP_AGENTS_CALLER_REQUESTS", "0"), ("MCP_AGENTS_CALLER_STREAMS", "many"),
                        ("MCP_AGENTS_MAX_SUBSCRIPTIONS", "10")):  # below the per-caller 64
        with pytest.raises(ValueError, match="MCP_AGENTS_"):
            Settings.load({name: value})
    options = HttpOptions.load({"MCP_AGENTS_CALLER_SESSIONS": "2", "MCP_AGENTS_SESSION_IDLE_TIMEOUT": "90"})
    assert (options.caller_sessions, options.session_idle_timeout, options.max_sessions) == (2, 90.0, 1000)
    with pytest.raises(ValueError, match="MCP_AGENTS_MAX_SESSIONS"):
        HttpOptions.load({"MCP_AGENTS_MAX_SESSIONS": "0"})
