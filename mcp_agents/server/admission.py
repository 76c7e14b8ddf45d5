"""Who may hold what on a shared HTTP server: bearers checked with the service, sessions per credential.

A bearer that merely looks like a JWT or an `sk-` key proves nothing, and a session costs memory
and a slot under the server's session cap. So before a `/mcp` request reaches the transport (and
before any session exists), its bearer is checked with the Agent Runs service: an `sk-` key is
exchanged at the token service (the JWT it yields then serves the caller's calls), a JWT lists one
run. The verdict is cached under a SHA-256 of the bearer (never the bearer): accepted ones for
`ACCEPTED_SECONDS`, refused ones for `REFUSED_SECONDS`, at most `MAX_VERDICTS` of them, and checks
of one bearer in flight at once share one request. A refused bearer gets 401 and holds nothing.

Checks are queued per client address so that invented bearers cannot make another caller's first
check wait: at most `ADDRESS_CHECKS` in flight per address (an IPv6 /64 counts as one address; behind
a reverse proxy, the forwarded address when the proxy is trusted), the rest of that address waiting
in turn, and at most `MAX_CHECKS` in flight in all. A check waits at most `WAIT_SECONDS` for its turn
and lasts at most `CHECK_SECONDS`. An address with `ADDRESS_WAITING` checks waiting already, or a
check that waited too long, is answered 429 (its address) or 503 (the server) with `Retry-After`.
One address flooding the server with invented bearers thus holds `ADDRESS_CHECKS` checks and its own
queue; every other address's checks start at once, and a burst of genuine new callers from one
address (clients reconnecting after a deploy, behind one NAT) is served in turn, not refused.

Sessions are then bounded per credential (`SessionQuota`), so one credential cannot take the whole
session cap either.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Container
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import Enum

import anyio

from mcp_agents.client import AgentRunsError, AuthenticationError, PermissionDeniedError
from mcp_agents.server.deps import API_KEY_PREFIX, ServerDeps, credential_key, keep_view, new_view

logger = logging.getLogger(__name__)

ACCEPTED_SECONDS = 60.0
"""How long an accepted bearer is trusted without asking again. A revoked JWT works this long at most; a revoked
`sk-` key, as long as the JWT it was already exchanged for (the token service decides that lifetime)."""
REFUSED_SECONDS = 30.0
MAX_VERDICTS = 10_000
ADDRESS_CHECKS = 4
"""Checks in flight at once for one client address (bearers already checked or in check cost none)."""
ADDRESS_WAITING = 1_000
"""Checks of one address waiting for their turn; one more is answered 429."""
MAX_CHECKS = 256
"""Checks in flight at once, all addresses together: protects the service and the upstream pool."""
WAIT_SECONDS = 10.0
"""The longest a check waits for its turn (its address's, then the server's) before 429 or 503."""
CHECK_SECONDS = 10.0
"""The longest a check may take (retries included); a slower service makes it UNKNOWN (503, retry)."""
RETRY_AFTER_SECONDS = 2


class Verdict(Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNKNOWN = "unknown"  # the service could not be asked: answer 503, remember nothing
    THROTTLED = "throttled"  # this address has too many checks waiting: 429, ask nothing
    BUSY = "busy"  # the server's `MAX_CHECKS` stayed busy for `WAIT_SECONDS`: 503, ask nothing


@dataclass
class _Lane:
    """One address's turn at checks: `ADDRESS_CHECKS` at once, first come first served."""

    slots: anyio.Semaphore = field(default_factory=lambda: anyio.Semaphore(ADDRESS_CHECKS))
    users: int = 0


def address_key(address: str | None) -> str:
    """Whose checks count together: the client's IP address, or its /64 for IPv6 (one host's usual share)."""
    if not address:
        return ""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def bearer_digest(bearer: str) -> str:
    return hashlib.sha256(bearer.encode()).hexdigest()


class BearerCheck:
    """The service's verdict on a bearer, cached briefly under its hash."""

    def __init__(self, deps: Callable[[], ServerDeps]) -> None:
        self._deps = deps
        self._verdicts: OrderedDict[str, tuple[Verdict, float]] = OrderedDict()
        self._pending: dict[str, anyio.Event] = {}
        self._lanes: dict[str, _Lane] = {}
        """Checks in flight or waiting, per address key."""
        self._checks = anyio.Semaphore(MAX_CHECKS)
        self.asked = 0
        """How many times the service was asked (tests and diagnostics read it)."""

    async def verdict(self, bearer: str, address: str | None = None) -> Verdict:
        key = bearer_digest(bearer)
        while True:
            cached = self._cached(key)
            if cached is not None:
                return cached
            pending = self._pending.get(key)
            if pending is None:
                break
            await pending.wait()  # another request checks this bearer: share its answer
            if key not in self._verdicts:  # it could not tell (UNKNOWN): neither can we now
                return Verdict.UNKNOWN
        source = address_key(address)
        lane = self._lanes.setdefault(source, _Lane())
        if lane.users >= ADDRESS_CHECKS + ADDRESS_WAITING:
            return Verdict.THROTTLED
        lane.users += 1
        done = self._pending[key] = anyio.Event()
        try:
            return await self._checked(bearer, key, lane)
        finally:
            lane.users -= 1
            if not lane.users:
                del self._lanes[source]
            del self._pending[key]
            done.set()

    async def _checked(self, bearer: str, key: str, lane: _Lane) -> Verdict:
        """Wait for this address's turn, then the server's, then ask the service (each bounded)."""
        with anyio.move_on_after(WAIT_SECONDS) as waited:
            await lane.slots.acquire()
        if waited.cancelled_caught:
            return Verdict.THROTTLED
        try:
            with anyio.move_on_after(WAIT_SECONDS) as waited:
                await self._checks.acquire()
            if waited.cancelled_caught:
                return Verdict.BUSY
            try:
                verdict = Verdict.UNKNOWN
                with anyio.move_on_after(CHECK_SECONDS) as deadline:
                    verdict = await self._ask(bearer)
            finally:
                self._checks.release()
        finally:
            lane.slots.release()
        if deadline.cancelled_caught:
            logger.warning("the Agent Runs service did not check a caller's bearer within %g s", CHECK_SECONDS)
        if verdict is not Verdict.UNKNOWN:
            ttl = ACCEPTED_SECONDS if verdict is Verdict.ACCEPTED else REFUSED_SECONDS
            self._verdicts[key] = (verdict, time.monotonic() + ttl)
            while len(self._verdicts) > MAX_VERDICTS:
                self._verdicts.popitem(last=False)
        return verdict

    def _cached(self, key: str) -> Verdict | None:
        entry = self._verdicts.get(key)
        if entry is None:
            return None
        if entry[1] <= time.monotonic():
            del self._verdicts[key]
            return None
        self._verdicts.move_to_end(key)
        return entry[0]

    async def _ask(self, bearer: str) -> Verdict:
        deps = self._deps()
        # A caller seen before keeps its view: an `sk-` key is then not exchanged again while its JWT lasts.
        view = deps.views.get(credential_key(bearer)) or new_view(deps, bearer)
        self.asked += 1
        try:
            # A 403 is a genuine principal without this permission: accepted, its calls get their own 403s.
            with contextlib.suppress(PermissionDeniedError):
                if bearer.startswith(API_KEY_PREFIX):
                    await view.credentials.get()  # the token service checks the key; the JWT is kept below
                else:
                    await view.runs.list(limit=1)
        except AuthenticationError:
            return Verdict.REFUSED
        except AgentRunsError as exc:
            logger.warning("could not check a caller's bearer with the Agent Runs service: %s", type(exc).__name__)
            return Verdict.UNKNOWN
        keep_view(deps, bearer, view)
        return Verdict.ACCEPTED


class SessionQuota:
    """Sessions per credential. `alive` tells which session ids the transport still holds (a session
    ends by DELETE, idle timeout or crash, all inside the SDK), so ended ones stop counting."""

    def __init__(self, per_credential: int, alive: Callable[[], Container[str]]) -> None:
        self.per_credential = per_credential
        self._alive = alive
        self._sessions: dict[str, set[str]] = {}
        self._opening: dict[str, int] = {}

    def held(self, credential: str) -> int:
        """Sessions `credential` holds or is opening. Forgets every credential's ended sessions first: a
        credential that never comes back (a renewed JWT is a new one) must not stay behind."""
        alive = self._alive()
        self._sessions = {owner: live for owner, sessions in self._sessions.items()
                          if (live := {sid for sid in sessions if sid in alive})}
        return len(self._sessions.get(credential, ())) + self._opening.get(credential, 0)

    @asynccontextmanager
    async def opening(self, credential: str) -> AsyncIterator[Callable[[str | None], None] | None]:
        """Reserve room for one new session of `credential` while its opening request is answered. Yields
        None when the quota is full, else the function to call once the answer starts, with the session id
        the transport assigned (None if it opened none): the reservation then becomes that session."""
        if self.held(credential) >= self.per_credential:
            yield None
            return
        self._opening[credential] = self._opening.get(credential, 0) + 1
        reserved = True

        def settle(session_id: str | None) -> None:
            nonlocal reserved
            if session_id is not None:
                self._sessions.setdefault(credential, set()).add(session_id)
            if reserved:
                reserved = False
                left = self._opening[credential] - 1
                if left:
                    self._opening[credential] = left
                else:
                    del self._opening[credential]

        try:
            yield settle
        finally:
            settle(None)
