"""`notify_endpoints`: POST the finished run to each URL, from a few workers of its own.

Webhooks never hold what serves requests, and no owner (the principal who started the run) can
crowd out another: each owner's deliveries wait in a queue of its own, bounded at
`NOTIFY_OWNER_QUEUE_MAX` (the oldest are kept; new ones beyond it are dropped, for that owner only,
with one warning naming the owner and the run, never a URL), and `NOTIFY_WORKERS` asyncio tasks
(no worker threads) serve the owners with waiting deliveries in turn, one delivery each. Each
attempt, from resolving the host to closing the connection (TLS included), runs under one deadline
(`NOTIFY_TIMEOUT_SECONDS` by default); past it the connection is dropped without a TLS goodbye,
so a stalled target holds a worker no longer than that. A target's host is resolved at send time
and refused when any of its addresses is loopback, private, link-local, multicast or otherwise not
globally routable, also as the IPv4 inside an IPv6 one (mapped, 6to4, Teredo, NAT64,
IPv4-compatible); loopback is allowed when `allow_loopback` is set, for local development. The
connection goes to the address that was checked, so a second DNS answer cannot slip in, and
redirects are not followed (a 3xx answer is final). Literal internal addresses, in any form
(`127.1`, `0x7f000001`, `[::ffff:127.0.0.1]`), are already refused when the run is created.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import socket
import ssl
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from mcp_agents.local.config import (
    NOTIFY_ATTEMPTS,
    NOTIFY_BACKOFF_SECONDS,
    NOTIFY_OWNER_QUEUE_MAX,
    NOTIFY_TIMEOUT_SECONDS,
    NOTIFY_WORKERS,
)
from mcp_agents.local.errors import ServiceError

log = logging.getLogger(__name__)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL = 2048
ALLOW_HINT = "set MCP_AGENTS_LOCAL_ALLOW_LOOPBACK_WEBHOOKS=true (or --allow-loopback-webhooks) for loopback webhooks"


class WebhookRefused(Exception):
    """The target is not a public address: never retried."""


# IPv6 ranges that reach the IPv4 address in their last 32 bits: NAT64 (RFC 6052) and the deprecated
# IPv4-compatible addresses; a NAT64 gateway forwards to private IPv4 networks as readily as to public ones
_LAST_32_EMBED_IPV4 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: local use only, never a public target


def refusal(address: IPAddress, allow_loopback: bool) -> str | None:
    """Why a webhook may not go to `address`, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and not (address.is_loopback or address.is_unspecified) and any(
                address in network for network in _LAST_32_EMBED_IPV4):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
        if embedded is not None:
            return refusal(embedded, allow_loopback)
        if address in _LOCAL_NAT64:
            return f"{address} is a local-use NAT64 address; webhooks go to public addresses only"
    if address.is_loopback:
        return None if allow_loopback else f"{address} is a loopback address ({ALLOW_HINT})"
    if address.is_multicast or address.is_unspecified or not address.is_global:
        return f"{address} is a private, link-local or reserved address; webhooks go to public addresses only"
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address a host names literally, in any form a resolver accepts (`127.1`, `0x7f000001`, `::1`)."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # the short, octal and hex IPv4 forms
    except OSError:
        return None


def parse_url(url: str) -> SplitResult:
    """The parts of a webhook URL: http(s), a host, printable ASCII; ValueError otherwise."""
    if len(url) > MAX_URL or not url.isascii() or any(ord(char) <= 32 or ord(char) == 127 for char in url):
        raise ValueError(f"{url[:80]!r} is not a URL of printable ASCII up to {MAX_URL} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url[:80]!r} is not an http(s) URL with a host")
    _ = parts.port  # ValueError when out of range
    return parts


@dataclass(frozen=True)
class Delivery:
    """One notification to send: the run as JSON, to one URL."""

    url: str
    body: bytes  # shared by every URL of one run
    run_id: str


class OwnerQueues:
    """One bounded FIFO per owner, taken from in turn (round-robin over the owners with deliveries waiting)."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self._waiting: dict[str, deque[Delivery]] = {}
        self._turns: deque[str] = deque()  # owners with deliveries waiting, next to be served first
        self._count = asyncio.Semaphore(0)  # deliveries waiting, all owners together

    def put(self, owner: str, deliveries: list[Delivery]) -> int:
        """Queue what fits in `owner`'s queue; the number of deliveries dropped."""
        queue = self._waiting.get(owner)
        if queue is None:
            queue = self._waiting[owner] = deque()
            self._turns.append(owner)
        taken = deliveries[:max(self.bound - len(queue), 0)]
        queue.extend(taken)
        for _ in taken:
            self._count.release()
        if not queue:
            del self._waiting[owner]
            self._turns.remove(owner)
        return len(deliveries) - len(taken)

    async def get(self) -> Delivery:
        await self._count.acquire()
        owner = self._turns.popleft()
        queue = self._waiting[owner]
        delivery = queue.popleft()
        if queue:
            self._turns.append(owner)  # its next delivery waits for every other owner's turn
        else:
            del self._waiting[owner]
        return delivery


class Notifier:
    """The webhook workers of one service."""

    def __init__(self, allow_loopback: bool = False, timeout: float = NOTIFY_TIMEOUT_SECONDS) -> None:
        self.allow_loopback = allow_loopback
        self.timeout = timeout
        self._queues: OwnerQueues | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._tls: ssl.SSLContext | None = None

    def check(self, url: str) -> None:
        """400 for a URL that could never be delivered: bad syntax, or a literal internal address."""
        try:
            parts = parse_url(url)
        except ValueError as exc:
            raise ServiceError(400, f"notify_endpoints: {exc}") from None
        address = literal_address(parts.hostname or "")
        reason = refusal(address, self.allow_loopback) if address is not None else None
        if reason is not None:
            raise ServiceError(400, f"notify_endpoints: {url[:80]!r} refused: {reason}")

    def submit(self, owner: str, urls: list[str], run: dict[str, Any]) -> None:
        """Queue one delivery per URL in `owner`'s queue; returns at once."""
        if self._queues is None:
            self._queues = OwnerQueues(NOTIFY_OWNER_QUEUE_MAX)
            self._workers = [asyncio.create_task(self._work(self._queues), name=f"mcp-agents-webhook-{index}")
                             for index in range(NOTIFY_WORKERS)]
        body = json.dumps({"event": "agent_run.finished", "run": run}).encode()
        run_id = str(run.get("id"))
        dropped = self._queues.put(owner, [Delivery(url, body, run_id) for url in urls])
        if dropped:
            log.warning("webhook queue of %s full (%d deliveries waiting, its limit): dropped %d of the %d "
                        "notifications of run %s", owner, self._queues.bound, dropped, len(urls), run_id)

    async def stop(self) -> None:
        for task in self._workers:
            task.cancel()
        if self._workers:
            await asyncio.wait(self._workers)
        self._workers, self._queues = [], None

    async def _work(self, queues: OwnerQueues) -> None:
        while True:
            delivery = await queues.get()
            try:
                await self._deliver(delivery)
            except Exception:  # a worker outlives any one delivery
                log.exception("webhook delivery crashed for run %s", delivery.run_id)

    async def _deliver(self, delivery: Delivery) -> None:
        status: int | str = 0
        run_id = delivery.run_id
        for attempt in range(1, NOTIFY_ATTEMPTS + 1):
            try:
                status = await self._attempt(delivery.url, delivery.body)
                if status < 500:
                    log.info("webhook for run %s answered %d", run_id, status)
                    return
            except WebhookRefused as exc:
                log.warning("webhook for run %s refused: %s", run_id, exc)
                return
            except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
                status = type(exc).__name__
            if attempt < NOTIFY_ATTEMPTS:
                await asyncio.sleep(NOTIFY_BACKOFF_SECONDS * 2 ** (attempt - 1))
        log.warning("webhook failed after %d attempts (last: %s) for run %s", NOTIFY_ATTEMPTS, status, run_id)

    async def _attempt(self, url: str, body: bytes) -> int:
        """One POST under one deadline, from resolving the host to closing the connection; its status code.

        A stream's close waits for the peer: for the TLS goodbye (up to asyncio's 30 s shutdown timeout),
        or to flush a send buffer the peer does not read. Past the deadline the connection is aborted
        instead, so nothing of the attempt outlives it (an answer already read still counts)."""
        opened: list[asyncio.StreamWriter] = []
        status: int | None = None
        try:
            async with asyncio.timeout(self.timeout):
                status = await self._post(url, body, opened)
                for writer in opened:  # a goodbye, within what is left of the deadline
                    writer.close()
                    with contextlib.suppress(OSError, ssl.SSLError):
                        await writer.wait_closed()
        except TimeoutError:
            if status is None:
                raise
        finally:
            for writer in opened:
                writer.transport.abort()  # a no-op once the connection closed in time
        return status

    @staticmethod
    async def _connect(addresses: list[str], port: int, tls: ssl.SSLContext | None, host: str
                       ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the first checked address that accepts one (as a resolver-based client would)."""
        failure: OSError = OSError(f"{host} has no address")
        for address in addresses:
            try:
                return await asyncio.open_connection(address, port, ssl=tls, server_hostname=host if tls else None)
            except OSError as exc:
                failure = exc
        raise failure

    async def _post(self, url: str, body: bytes, opened: list[asyncio.StreamWriter]) -> int:
        """One POST to a checked address; the status code of the answer (redirects not followed). The
        connection is put in `opened` as soon as it exists, for `_attempt` to abort."""
        parts = parse_url(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        for text in addresses:
            reason = refusal(ipaddress.ip_address(text.split("%", 1)[0]), self.allow_loopback)
            if reason is not None:
                raise WebhookRefused(f"{host} resolves to {reason}")
        reader, writer = await self._connect(addresses, port, self._tls_context() if parts.scheme == "https"
                                             else None, host)
        opened.append(writer)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        authority = parts.netloc.rpartition("@")[2]
        writer.write(f"POST {target} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nUser-Agent: mcp-agents-local\r\nConnection: close\r\n"
                     "\r\n".encode() + body)
        await writer.drain()
        line = await reader.readline()
        fields = line.split(None, 2)
        if len(fields) < 2 or not fields[0].startswith(b"HTTP/") or not fields[1].isdigit():
            raise ValueError("not an HTTP answer")
        return int(fields[1])

    def _tls_context(self) -> ssl.SSLContext:
        """The system's trust store, loaded once (the first HTTPS webhook)."""
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls
