"""Resource subscriptions in both protocol eras: a subscribed run is followed and each change announced.

Handshake era (2025-11-25): `resources/subscribe` / `resources/unsubscribe` handlers (MCPServer has
no public hook, so they go on the low-level server) record the session; updates go out with
`session.send_resource_updated`. Modern era (2026-07-28): `subscriptions/listen` streams are fed
by the server's `SubscriptionBus`; a thin wrapper around the SDK's listen handler tells the watcher
which runs the stream wants for as long as it is open.

One follow task per (credential, run) streams the run's messages (`client.messages.stream`) in the
lifespan's task group and announces `agent-run://{id}/messages` for each new message and
`agent-run://{id}` when the status or the artifacts change. Follows are reference-counted and
stopped when the last subscriber goes. A follow whose run ended stays, dormant, while it is subscribed: when
`restart_agent_run` restarts the run (`RunWatcher.restarted`), `agent-run://{id}` is announced and the follow goes
on from the cursor of the last message it announced, so no message is lost or announced twice. (A restart made
elsewhere, by another replica or the web app, is noticed by the next subscribe to the run.) Their number is bounded
per credential (`MCP_AGENTS_CALLER_SUBSCRIPTIONS`), so one caller's subscriptions never refuse another's, and in
all (`MCP_AGENTS_MAX_SUBSCRIPTIONS`, a much higher ceiling that protects the server). Updates are
delivered only to subscribers using the credential the follow runs with, so a caller never hears
about a run through someone else's access.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup
from mcp.server import MCPServer, ServerRequestContext
from mcp.server.session import ServerSession
from mcp.server.subscriptions import ResourceUpdated, ServerEvent
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, EmptyResult, SubscribeRequestParams, UnsubscribeRequestParams

from mcp_agents.client import AgentRunsError, NotFoundError
from mcp_agents.models import AgentMessage, MessageType
from mcp_agents.models.cursor import Position
from mcp_agents.server.deps import ServerDeps, caller_bearer, client_with, credential_key, lifespan_deps
from mcp_agents.server.uris import artifact_uri, messages_uri, parse_run_uri, run_uri
from mcp_agents.settings import Settings

if TYPE_CHECKING:
    from mcp_agents.client import AgentRunsClient

logger = logging.getLogger(__name__)

MAX_URIS_PER_SESSION = 256  # bounds a session's memory; the runs followed are bounded per caller
STATUS_CHECK_INTERVAL = 1.0  # seconds between status/artifact checks while messages flow
# Messages after which the run's status or artifacts are likely to have changed: check at once.
_CHECK_NOW = frozenset({
    MessageType.ANSWER, MessageType.COMPLETE, MessageType.TERMINATED, MessageType.ERROR, MessageType.IDLE,
    MessageType.RESTARTING, MessageType.QUESTION, MessageType.REQUEST_INPUT,
})

FollowKey = tuple[str, str]  # (credential key, run id)


@dataclass(frozen=True)
class RunUpdated(ResourceUpdated):
    """A `ResourceUpdated` only for listen streams opened with the credential that observed it."""

    credential: str = ""


class CredentialBus:
    """An in-process `SubscriptionBus` that remembers which credential opened each listen stream.

    `subscribe` runs inside the listen request, where the caller's bearer is known; `RunUpdated`
    events then reach only the streams of the same credential. Other events reach every stream.
    """

    def __init__(self) -> None:
        self._listeners: dict[object, tuple[str, Callable[[ServerEvent], None]]] = {}

    async def publish(self, event: ServerEvent) -> None:
        only = event.credential if isinstance(event, RunUpdated) else None
        for credential, listener in list(self._listeners.values()):
            if only is not None and credential != only:
                continue
            try:
                listener(event)
            except Exception:  # fan-out boundary: one bad listener must not starve the others
                logger.exception("subscription listener raised; continuing")
        await anyio.lowlevel.checkpoint()

    def subscribe(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        token = object()
        self._listeners[token] = (credential_key(caller_bearer()), listener)

        def unsubscribe() -> None:
            self._listeners.pop(token, None)

        return unsubscribe


@dataclass
class _SessionSubscription:
    session: ServerSession
    credential: str
    uris: set[str]


class RunWatcher:
    """Follows subscribed runs and announces their changes to both eras' subscribers."""

    def __init__(self, bus: CredentialBus, task_group: TaskGroup, *, per_caller: int = Settings.caller_subscriptions,
                 total: int = Settings.max_subscriptions) -> None:
        self._bus = bus
        self._tg = task_group
        self.per_caller = per_caller
        self.total = total
        self._per_credential: Counter[str] = Counter()
        self._refs: dict[FollowKey, int] = {}
        self._scopes: dict[FollowKey, anyio.CancelScope] = {}
        self._followers: dict[FollowKey, _Follower] = {}
        """Every subscribed follow, running or dormant (its run ended): a restart revives the dormant ones."""
        self._starting: dict[FollowKey, anyio.Event] = {}
        self._sessions: dict[int, _SessionSubscription] = {}

    @classmethod
    @asynccontextmanager
    async def running(cls, bus: CredentialBus, *, per_caller: int = Settings.caller_subscriptions,
                      total: int = Settings.max_subscriptions) -> AsyncIterator[RunWatcher]:
        """A watcher whose follow tasks live (and die) with the server's lifespan."""
        async with anyio.create_task_group() as tg:
            watcher = cls(bus, tg, per_caller=per_caller, total=total)
            try:
                yield watcher
            finally:
                tg.cancel_scope.cancel()

    @property
    def followed(self) -> int:
        """How many runs are being followed right now (for tests and diagnostics)."""
        return len(self._scopes)

    # --- reference counting -------------------------------------------------------------------
    async def acquire(self, client: AgentRunsClient, credential: str, run_id: str) -> None:
        """Follow `run_id` with `client` until every `acquire` has been matched by a `release`.

        A new follow reads the run's state before returning, so that every change after the
        subscription is acknowledged is announced. Raises `AgentRunsError` when the run cannot be read.
        """
        key = (credential, run_id)
        if key not in self._refs:
            if self._per_credential[credential] >= self.per_caller:
                raise MCPError(INVALID_PARAMS, f"you are subscribed to {self.per_caller} runs, the most one caller "
                                               "may follow at once; unsubscribe from finished runs first")
            if len(self._refs) >= self.total:
                raise MCPError(INVALID_PARAMS, f"the server follows {self.total} runs for its callers, its ceiling; "
                                               "retry later or unsubscribe from finished runs")
            self._per_credential[credential] += 1
        self._refs[key] = self._refs.get(key, 0) + 1
        try:
            while (starting := self._starting.get(key)) is not None:
                await starting.wait()  # another acquire reads the baseline: share its follow, or retry if it failed
            if key not in self._scopes and key in self._refs:
                await self._start(client, key)
        except BaseException:
            self.release(credential, run_id)
            raise

    async def _start(self, client: AgentRunsClient, key: FollowKey) -> None:
        """Read the baseline, then start the follow; concurrent acquires of `key` wait for the outcome."""
        scope = anyio.CancelScope()
        self._scopes[key] = scope  # a release meanwhile cancels it (the follow then ends at once)
        starting = self._starting[key] = anyio.Event()
        follower = _Follower(self, client, *key)
        try:
            await follower.baseline()
        except BaseException:
            if self._scopes.get(key) is scope:
                del self._scopes[key]
            raise
        finally:
            del self._starting[key]
            starting.set()
        self._followers[key] = follower
        self._tg.start_soon(self._follow, follower, key, scope)

    def release(self, credential: str, run_id: str) -> None:
        key = (credential, run_id)
        left = self._refs.get(key, 0) - 1
        if left > 0:
            self._refs[key] = left
            return
        if self._refs.pop(key, None) is not None:
            self._per_credential[credential] -= 1
            if self._per_credential[credential] <= 0:
                del self._per_credential[credential]
            self._followers.pop(key, None)
        scope = self._scopes.pop(key, None)
        if scope is not None:
            scope.cancel()

    # --- handshake era ------------------------------------------------------------------------
    async def subscribe_session(self, session: ServerSession, credential: str, uri: str,
                                client: AgentRunsClient) -> None:
        resource = parse_run_uri(uri)
        if resource is None:
            raise MCPError(INVALID_PARAMS, f"cannot subscribe to {uri!r}: only agent-run:// URIs can be subscribed")
        key = _connection_key(session)
        entry = self._sessions.get(key)
        if entry is None:
            entry = _SessionSubscription(session, credential, set())
            self._sessions[key] = entry
            _on_connection_close(session, lambda: self.drop_session(session))
        if uri in entry.uris:
            return
        if len(entry.uris) >= MAX_URIS_PER_SESSION:
            raise MCPError(INVALID_PARAMS, f"at most {MAX_URIS_PER_SESSION} subscribed URIs per session")
        entry.uris.add(uri)
        try:
            await self.acquire(client, credential, resource.run_id)
        except BaseException:
            entry.uris.discard(uri)
            raise

    def unsubscribe_session(self, session: ServerSession, uri: str) -> None:
        entry = self._sessions.get(_connection_key(session))
        resource = parse_run_uri(uri)
        if entry is None or resource is None or uri not in entry.uris:
            return
        entry.uris.discard(uri)
        self.release(entry.credential, resource.run_id)
        # The entry stays, empty, until the connection closes: its teardown is registered once per connection.

    def drop_session(self, session: ServerSession) -> None:
        """Release everything a closed connection subscribed to."""
        entry = self._sessions.pop(_connection_key(session), None)
        if entry is None:
            return
        for uri in entry.uris:
            resource = parse_run_uri(uri)
            if resource is not None:
                self.release(entry.credential, resource.run_id)

    # --- following ----------------------------------------------------------------------------
    def restarted(self, run_id: str) -> None:
        """`run_id` was restarted: follow it again where a follow had ended, and announce the restart.

        A follow still running (it has not seen the run end yet) goes on once it has. Each follow reads the run
        with its own credential before announcing (a subscriber who can no longer read it hears nothing), then
        goes on from the last message it announced."""
        for key, follower in [(key, f) for key, f in self._followers.items() if key[1] == run_id]:
            follower.restarted = True
            if key in self._scopes:
                follower.again = True
            else:
                scope = self._scopes[key] = anyio.CancelScope()
                self._tg.start_soon(self._follow, follower, key, scope)

    async def _follow(self, follower: _Follower, key: FollowKey, scope: anyio.CancelScope) -> None:
        run_id = key[1]
        try:
            with scope:
                follower.again = True
                while follower.again:  # a restart while the follow was ending: go on from where it stands
                    follower.again = False
                    await follower.run()
        except AgentRunsError as exc:
            logger.info("stopped following run %s: %s", run_id, exc)
        except Exception:  # a follow task must never take the server's task group down
            logger.exception("following run %s failed", run_id)
        finally:
            if self._scopes.get(key) is scope:
                del self._scopes[key]

    async def announce(self, credential: str, uris: list[str]) -> None:
        """Tell every subscriber of `uris` (with this credential) that they changed."""
        for uri in uris:
            await self._bus.publish(RunUpdated(uri=uri, credential=credential))
        for entry in list(self._sessions.values()):
            if entry.credential != credential:
                continue
            for uri in uris:
                if uri in entry.uris:
                    await entry.session.send_resource_updated(uri)


class _Follower:
    """One run's follow: the message stream, plus status and artifact checks."""

    def __init__(self, watcher: RunWatcher, client: AgentRunsClient, credential: str, run_id: str) -> None:
        self.watcher, self.client, self.credential, self.run_id = watcher, client, credential, run_id
        self.status = ""
        self.artifacts: set[str] = set()
        self.last_check = -math.inf
        self.position = Position()
        """The last message announced: a follow (first or after a restart) goes on from its cursor."""
        self.resumed = False
        self.again = False
        """Set by a restart while the follow runs: once the stream ends, follow the run again."""
        self.restarted = False
        """The run was restarted since the follow last read it: announce that first."""

    async def baseline(self) -> None:
        """The state that changes are measured from: status, artifacts, last message."""
        run = await self.client.runs.retrieve(self.run_id)
        self.status = run.status
        self.artifacts = set(await self.client.artifacts.list(self.run_id))
        self.position.take(await self.client.messages.retrieve(self.run_id))
        self.last_check = anyio.current_time()

    async def run(self) -> None:
        # The stream goes on from the last announced message's cursor: every later message (one of its
        # millisecond included) is announced, none twice. The first follow has just read the history itself;
        # a later one (after a restart) reads what was stored meanwhile (the restart's own messages).
        if self.restarted:
            self.restarted = False
            self.status = (await self.client.runs.retrieve(self.run_id)).status
            await self.watcher.announce(self.credential, [run_uri(self.run_id)])
        stream = self.client.messages.stream(self.run_id, since=self.position.cursor, read_history=self.resumed)
        self.resumed = True
        async for message in stream:
            self.position.accept(message)
            await self.watcher.announce(self.credential, [messages_uri(self.run_id)])
            if self._should_check(message):
                await self._check()
        await self._check()

    def _should_check(self, message: AgentMessage) -> bool:
        return message.type in _CHECK_NOW or anyio.current_time() - self.last_check >= STATUS_CHECK_INTERVAL

    async def _check(self) -> None:
        self.last_check = anyio.current_time()
        changed: list[str] = []
        run = await self.client.runs.retrieve(self.run_id)
        try:
            artifacts = set(await self.client.artifacts.list(self.run_id))
        except NotFoundError:
            artifacts = set(self.artifacts)
        new = sorted(artifacts - self.artifacts)
        if run.status != self.status or new:
            changed.append(run_uri(self.run_id))
        changed.extend(artifact_uri(self.run_id, path) for path in new)
        self.status, self.artifacts = run.status, artifacts
        if changed:
            await self.watcher.announce(self.credential, changed)


def _connection_of(session: ServerSession) -> object:
    # `ctx.session` is a per-request proxy; subscriptions belong to the client's connection, which
    # the SDK gives tools (`Context.connection`) but keeps private on the session of low-level
    # handlers. Entries hold the session, hence the connection, so its id is never reused meanwhile.
    return getattr(session, "_connection", session)


def _connection_key(session: ServerSession) -> int:
    return id(_connection_of(session))


def _on_connection_close(session: ServerSession, callback: Callable[[], None]) -> None:
    # Per-connection teardown releases the connection's follows; without it they end with their run.
    stack = getattr(_connection_of(session), "exit_stack", None)
    if stack is not None:
        stack.callback(callback)


def _watching(ctx: ServerRequestContext[Any, Any]) -> tuple[ServerDeps, RunWatcher]:
    deps = lifespan_deps(ctx.lifespan_context)
    if deps.watcher is None:
        raise RuntimeError("mcp-agents server used without its lifespan")
    return deps, deps.watcher


def register_subscriptions(server: MCPServer[ServerDeps]) -> None:
    """The handshake era's subscribe/unsubscribe handlers and the modern era's listen wrapper."""
    lowlevel = server._lowlevel_server  # no public hook for these in MCPServer 2.3 (see the SDK guide)

    async def on_subscribe(ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams) -> EmptyResult:
        deps, watcher = _watching(ctx)
        uri = str(params.uri)
        resource = parse_run_uri(uri)
        if resource is None:
            raise MCPError(INVALID_PARAMS, f"cannot subscribe to {uri!r}: only agent-run:// URIs can be subscribed")
        bearer = caller_bearer()
        try:
            await watcher.subscribe_session(ctx.session, credential_key(bearer), uri, client_with(deps, bearer))
        except NotFoundError:
            raise MCPError(INVALID_PARAMS, f"no run {resource.run_id!r} (or it is not visible to you)",
                           data={"uri": uri}) from None
        except AgentRunsError as exc:
            raise MCPError(INVALID_PARAMS, f"cannot subscribe to {uri}: {exc}", data={"uri": uri}) from None
        return EmptyResult()

    async def on_unsubscribe(ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams) -> EmptyResult:
        _, watcher = _watching(ctx)
        watcher.unsubscribe_session(ctx.session, str(params.uri))
        return EmptyResult()

    lowlevel.add_request_handler("resources/subscribe", SubscribeRequestParams, on_subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, on_unsubscribe)

    listen = lowlevel.get_request_handler("subscriptions/listen")
    if listen is None:
        return
    inner = listen.handler

    async def on_listen(ctx: ServerRequestContext[Any, Any], params: Any) -> Any:
        deps, watcher = _watching(ctx)
        bearer = caller_bearer()
        credential, client = credential_key(bearer), client_with(deps, bearer)
        run_ids = {r.run_id for uri in params.notifications.resource_subscriptions or ()
                   if (r := parse_run_uri(uri)) is not None}
        acquired: list[str] = []
        try:
            for run_id in sorted(run_ids):
                try:
                    await watcher.acquire(client, credential, run_id)
                except AgentRunsError as exc:  # an unreadable run never fires, like any unknown URI
                    logger.info("listen: not following run %s: %s", run_id, exc)
                    continue
                acquired.append(run_id)
            return await inner(ctx, params)
        finally:
            for run_id in acquired:
                watcher.release(credential, run_id)

    lowlevel.add_request_handler("subscriptions/listen", listen.params_type, on_listen)
