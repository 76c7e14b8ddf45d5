"""What a local service is started with, and what a started one tells its caller."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from mcp_agents.models.hosted import Wire

# Tunables of the service, in one place.
DEFAULT_HEARTBEAT_SECONDS = 15.0
DEFAULT_TOKEN_TTL_SECONDS = 3600
LIST_DEFAULT_LIMIT = 50
LIST_MAX_LIMIT = 200
WRITE_BATCH_MAX = 512  # jobs committed together by the single writer
READERS_MAX = 4  # read connections (and worker threads reading) at once; each holds its own page cache
LAST_TS_CACHE_MAX = 10_000  # runs whose last message timestamp the writer keeps in memory
SIGNAL_QUEUE_MAX = 1000  # signals a run has not read yet; beyond, a 429
SUBSCRIBER_QUEUE_MAX = 50_000  # a slower SSE client is dropped (it resumes with `since`)
SUBSCRIBER_QUEUE_BYTES_MAX = 64 * 1024 * 1024  # ...also when its waiting frames hold this much
NOTIFY_ATTEMPTS = 3
NOTIFY_TIMEOUT_SECONDS = 5.0  # one attempt as a whole: resolve, connect, TLS, send, read the status line, close
NOTIFY_WORKERS = 4  # webhook deliveries in flight at once (asyncio tasks, no threads), shared by all owners
NOTIFY_OWNER_QUEUE_MAX = 1000  # deliveries one owner (who started the run) may have waiting; beyond, its own dropped
NOTIFY_BACKOFF_SECONDS = 0.5
SIGNED_URL_TTL_SECONDS = 3600
SHUTDOWN_TIMEOUT_SECONDS = 5.0
STARTUP_TIMEOUT_SECONDS = 120.0  # opening a big database may first migrate it (seconds per million events)
# Limits on what enters the service (see `limits.py`): settings of `LocalServiceConfig`, with their defaults
# and the range each may be set to. The depth stays well below what the JSON and pydantic encoders can nest (254).
MAX_BODY_BYTES = 8 * 1024 * 1024  # a JSON body, and any JSON value stored (a batch of 10,000 telemetry events fits)
MAX_TOKEN_BODY_BYTES = 16 * 1024  # `POST /token/issue`: unauthenticated, so small
MAX_ARTIFACT_BYTES = 100 * 1024 * 1024
MAX_JSON_DEPTH = 64
LIMIT_RANGES: dict[str, tuple[int, int]] = {
    "max_body_bytes": (1024, 1024**3),
    "max_token_body_bytes": (256, 1024**2),
    "max_artifact_bytes": (1, 4 * 1024**3),
    "max_json_depth": (1, 128),
}


class LimitSettings(TypedDict):
    """The limits of `LocalServiceConfig`, as `Settings.local_limits` gives them."""

    max_body_bytes: int
    max_token_body_bytes: int
    max_artifact_bytes: int
    max_json_depth: int


LIMIT_NAMES = {name: (f"MCP_AGENTS_LOCAL_{name.upper()}", "--" + name.replace("_", "-")) for name in LIMIT_RANGES}


def check_limit(name: str, value: object) -> int:
    """`value` as the limit `name` (a whole number in its range), or a ValueError naming its variable and flag."""
    low, high = LIMIT_RANGES[name]
    env, flag = LIMIT_NAMES[name]
    try:
        number = int(str(value).strip())
    except ValueError:
        number = low - 1
    if isinstance(value, bool) or not low <= number <= high:
        raise ValueError(f"{env} ({flag}) must be a whole number from {low:,} to {high:,}, not {value!r}")
    return number


@dataclass(frozen=True)
class LocalServiceConfig:
    """How to start the local Agent Runs service (see `run_local_service`)."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0  # 0 = a free port
    api_key: str | None = field(default=None, repr=False)  # None = load or generate one in data_dir
    keys_file: Path | None = None  # extra principals (default: <data_dir>/keys.json if present)
    interactions: Sequence[str] = ()  # extra "module:attribute" interaction sources to load
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS
    token_ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS
    allow_loopback_webhooks: bool = False  # local development: let notify_endpoints reach 127.0.0.0/8 and ::1
    wire: Wire = "seed"  # "hosted": the hosted service's wire format and strict validation (see local/wire.py)
    bursts: bool = False  # producer-stamped timestamps: messages posted together share a millisecond
    max_body_bytes: int = MAX_BODY_BYTES  # a JSON request body, and any JSON value stored; beyond, 413 or 400
    max_token_body_bytes: int = MAX_TOKEN_BODY_BYTES  # the body of `POST /token/issue` (unauthenticated)
    max_artifact_bytes: int = MAX_ARTIFACT_BYTES  # one artifact upload
    max_json_depth: int = MAX_JSON_DEPTH  # nesting of any JSON value written (a request body, what a run writes)
    webhook_timeout_seconds: float = NOTIFY_TIMEOUT_SECONDS  # one webhook attempt, from resolve to close

    def __post_init__(self) -> None:
        for name in LIMIT_RANGES:
            check_limit(name, getattr(self, name))
        if not 0 < self.webhook_timeout_seconds <= 300:
            raise ValueError(f"webhook_timeout_seconds must be above 0 and at most 300, not "
                             f"{self.webhook_timeout_seconds!r}")


@dataclass(frozen=True)
class RunningService:
    """A started service: where to reach it and the development key to get a token with."""

    base_url: str  # "http://127.0.0.1:PORT/api/v1"
    sts_url: str  # "http://127.0.0.1:PORT"
    api_key: str = field(repr=False)
    data_dir: Path
    port: int


def bind_listener(config: LocalServiceConfig) -> socket.socket:
    """The service's listening socket, bound to `config.host` and `config.port` (0: a free port)."""
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only when the listener says TCP;
    # without it Nagle + delayed ACK add ~40 ms to every response.
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((config.host, config.port))
    except OSError:
        sock.close()
        raise
    return sock
