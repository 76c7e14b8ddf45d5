"""Every environment variable and flag of mcp-agents, in one place.

`OPTIONS` is the single table: the CLI builds its flags from it, `Settings.load` reads the
environment through it, and the README's configuration table is generated from it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from mcp_agents.local.config import (
    LIMIT_NAMES,
    LIMIT_RANGES,
    MAX_ARTIFACT_BYTES,
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_TOKEN_BODY_BYTES,
    LimitSettings,
    check_limit,
)
from mcp_agents.models.hosted import WIRES, Wire
from mcp_agents.models.paths import API_VERSION

# The names users type. PyPI's `mcp-agents` is another project: we publish `mcp-agent-runs`, whose console
# command has the same name (so `uvx mcp-agent-runs serve` needs no `--from`); `mcp-agents` stays a second
# command of an installed copy only. Every manifest, client entry and README install line derives from these.
DISTRIBUTION = "mcp-agent-runs"
COMMAND = DISTRIBUTION
COMMAND_ALIAS = "mcp-agents"
# MCP Registry name `<namespace>/<DISTRIBUTION>`: the namespace is whoever publishes (a release-time setting,
# `python -m mcp_agents.setup.generate --registry-namespace ...`); this is the project's own.
REGISTRY_NAMESPACE = "io.github.vertesia"

GLOBAL_API_URL = "https://api.vertesia.io/api/v1"
REGIONAL_API_URL = "https://api.{region}.vertesia.io/api/v1"
DEFAULT_STS_URL = "https://sts.vertesia.io"
REGIONS = ("us1", "eu1", "jp1")
TOOLSETS = ("runs", "artifacts", "reporting", "analytics")
DEFAULT_TOOLSETS = ("runs", "artifacts")
Transport = Literal["stdio", "http"]


def default_data_dir() -> Path:
    """The user's data directory (XDG on Linux and the BSDs, the platform's own elsewhere)."""
    if os.name == "nt":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif os.uname().sysname == "Darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "mcp-agents"


def _range(limit: str) -> str:
    low, high = LIMIT_RANGES[limit]
    return f" From {low:,} to {high:,}."


@dataclass(frozen=True)
class Option:
    name: str
    env: str | None
    flag: str | None
    default: str
    help: str
    secret: bool = False


OPTIONS: tuple[Option, ...] = (
    Option("api_key", "VERTESIA_API_KEY", None, "", "Secret API key (`sk-...`), exchanged at the token service "
           "for short-lived JWTs. With neither key nor token, the embedded local service is used.", secret=True),
    Option("token", "VERTESIA_TOKEN", None, "", "A JWT used as is (no exchange).", secret=True),
    Option("api_url", "VERTESIA_API_URL", "--api-url", GLOBAL_API_URL, "Base URL of the Agent Runs API."),
    Option("region", "VERTESIA_REGION", "--region", "", "Regional host: `us1`, `eu1` or `jp1` (ignored when "
           "`VERTESIA_API_URL` is set)."),
    Option("sts_url", "VERTESIA_STS_URL", "--sts-url", DEFAULT_STS_URL, "Token service that exchanges API keys."),
    Option("api_version", "MCP_AGENTS_API_VERSION", None, API_VERSION, "Value of the `x-api-version` header."),
    Option("timeout", "MCP_AGENTS_TIMEOUT", "--timeout", "30", "Seconds for one HTTP request to the API."),
    Option("toolsets", "MCP_AGENTS_TOOLSETS", "--toolsets", ",".join(DEFAULT_TOOLSETS),
           f"Comma-separated toolsets to expose ({', '.join(TOOLSETS)}), or `all`."),
    Option("read_only", "MCP_AGENTS_READ_ONLY", "--read-only", "false",
           "Expose only tools annotated read-only."),
    Option("allow_interactions", "MCP_AGENTS_ALLOW_INTERACTIONS", "--allow-interactions", "",
           "Comma-separated interactions that may be started (empty: any)."),
    Option("transport", "MCP_AGENTS_TRANSPORT", "--transport", "stdio", "`stdio` or `http` (streamable HTTP)."),
    Option("host", "MCP_AGENTS_HOST", "--host", "127.0.0.1", "Address the HTTP server binds."),
    Option("port", "MCP_AGENTS_PORT", "--port", "8765", "Port of the HTTP server (`mcp-agents serve`)."),
    Option("http_auth", "MCP_AGENTS_HTTP_AUTH", "--auth", "optional", "HTTP: `optional` uses a caller's "
           "`Authorization: Bearer` (JWT or `sk-` key) for its requests, else the server's own credential "
           "(loopback only); `required` refuses requests without one (needed for a non-loopback `--host`)."),
    Option("stateless", "MCP_AGENTS_STATELESS", "--stateless", "false", "HTTP: no sessions for 2025-11-25 "
           "clients (no elicitation or subscriptions for them); the 2026-07-28 era is always stateless."),
    Option("allowed_hosts", "MCP_AGENTS_ALLOWED_HOSTS", "--allowed-hosts", "", "HTTP: extra `Host` values "
           "accepted besides the bind address and localhost (comma-separated, `name:*` for any port)."),
    Option("allowed_origins", "MCP_AGENTS_ALLOWED_ORIGINS", "--allowed-origins", "", "HTTP: extra `Origin` "
           "values accepted (comma-separated, e.g. `https://app.example.com`)."),
    Option("forwarded_allow_ips", "MCP_AGENTS_FORWARDED_ALLOW_IPS", "--forwarded-allow-ips", "127.0.0.1,::1",
           "HTTP: addresses or CIDRs (comma-separated, `*` for any) of the reverse proxies whose `X-Forwarded-For` "
           "names the caller. Set it to your ingress proxy, or every caller behind it counts as one address for the "
           "per-address limits (new bearers checked at once)."),
    Option("request_state_key", "MCP_AGENTS_REQUEST_STATE_KEY", None, "", "HTTP: shared secret sealing the "
           "2026-07-28 `requestState` of question round trips, so that a retry may reach any replica: give every "
           "replica the same value (32+ random characters; shorter is refused, longer hashed with SHA-256). "
           "Comma-separated keys rotate: the first seals, all open. Default: a random key per process.",
           secret=True),
    Option("max_sessions", "MCP_AGENTS_MAX_SESSIONS", None, "1000", "HTTP: most 2025-11-25 sessions open at "
           "once, all callers together; one more is answered 503 until a session ends or expires."),
    Option("session_idle_timeout", "MCP_AGENTS_SESSION_IDLE_TIMEOUT", None, "600", "HTTP: seconds after which "
           "a session with no request in flight and no open stream is closed (its client then starts a new one)."),
    Option("caller_sessions", "MCP_AGENTS_CALLER_SESSIONS", None, "16", "HTTP: most sessions one credential "
           "may hold at once; one more is answered 429."),
    Option("upstream_connections", "MCP_AGENTS_UPSTREAM_CONNECTIONS", None, "3000", "Connections to the Agent "
           "Runs service shared by all callers; at most two thirds of them hold event streams (one per run a "
           "wait follows), the rest serve requests. Each caller's share is bounded by the two settings below."),
    Option("caller_requests", "MCP_AGENTS_CALLER_REQUESTS", None, "16", "Requests to the Agent Runs service one "
           "credential may have in flight; one more waits up to 30 s for a slot, then fails with a clear error."),
    Option("caller_streams", "MCP_AGENTS_CALLER_STREAMS", None, "16", "Event streams one credential may hold "
           "open; runs beyond them are followed by polling until a stream frees up."),
    Option("caller_subscriptions", "MCP_AGENTS_CALLER_SUBSCRIPTIONS", None, "64", "Runs one credential may "
           "have subscribed at once (resource subscriptions, both protocol eras)."),
    Option("max_subscriptions", "MCP_AGENTS_MAX_SUBSCRIPTIONS", None, "1024", "Runs followed for subscribers "
           "at once, all callers together."),
    Option("task_key", "MCP_AGENTS_TASK_KEY", None, "", "Shared secret sealing task ids (agent runs as MCP "
           "tasks), so that any replica, after any restart, answers `tasks/*`: give every replica the same value "
           "(32+ random characters). Comma-separated keys rotate: the first seals, all open. Default: "
           "`MCP_AGENTS_REQUEST_STATE_KEY`, else a random key kept in the data directory.", secret=True),
    Option("data_dir", "MCP_AGENTS_DATA_DIR", "--data-dir", "", "Data directory of the local service "
           "(default: `mcp-agents` under the user's data directory)."),
    Option("local_api_key", "MCP_AGENTS_LOCAL_API_KEY", "--api-key", "", "Development API key of the local "
           "service (default: generated on first start and kept in the data directory).", secret=True),
    Option("local_allow_loopback_webhooks", "MCP_AGENTS_LOCAL_ALLOW_LOOPBACK_WEBHOOKS", "--allow-loopback-webhooks",
           "false", "Local service: let `notify_endpoints` reach loopback addresses, for local development. "
           "Webhooks to private, link-local and other internal addresses are always refused."),
    Option("local_wire", "MCP_AGENTS_LOCAL_WIRE", "--wire", "seed", "Wire format of the embedded local service: "
           "`seed` (the API document's shapes) or `hosted` (the hosted service's: integer message types, list "
           "envelopes with cursors, gzip, signed uploads, requests checked against its published schema)."),
    Option("local_bursts", "MCP_AGENTS_LOCAL_BURSTS", "--bursts", "false", "Local service: stamp messages as "
           "the hosted service's producers do, several in one millisecond (parallel tool calls, a question and "
           "the IDLE after it), to test clients against same-millisecond bursts."),
    Option("local_max_body_bytes", *LIMIT_NAMES["max_body_bytes"], str(MAX_BODY_BYTES), "Local service: largest "
           "JSON request body, refused with 413 while it streams in; also the largest JSON value stored (a "
           "run's data or result, message details, a query answer)." + _range("max_body_bytes")),
    Option("local_max_token_body_bytes", *LIMIT_NAMES["max_token_body_bytes"], str(MAX_TOKEN_BODY_BYTES),
           "Local service: largest body of `POST /token/issue` (no credential needed, so small)."
           + _range("max_token_body_bytes")),
    Option("local_max_artifact_bytes", *LIMIT_NAMES["max_artifact_bytes"], str(MAX_ARTIFACT_BYTES), "Local "
           "service: largest artifact upload (held in memory while it arrives), refused with 413 while it streams "
           "in." + _range("max_artifact_bytes")),
    Option("local_max_json_depth", *LIMIT_NAMES["max_json_depth"], str(MAX_JSON_DEPTH), "Local service: "
           "deepest nesting of any JSON written (request bodies, what runs write); deeper is refused with 400."
           + _range("max_json_depth")),
    Option("log_level", "MCP_AGENTS_LOG_LEVEL", "--log-level", "warning", "Log level on stderr."),
)
OPTION_BY_NAME = {option.name: option for option in OPTIONS}


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _csv(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    api_key: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    api_url: str = GLOBAL_API_URL
    region: str = ""
    sts_url: str = DEFAULT_STS_URL
    api_version: str = API_VERSION
    timeout: float = 30.0
    toolsets: tuple[str, ...] = DEFAULT_TOOLSETS
    read_only: bool = False
    allow_interactions: tuple[str, ...] = ()
    transport: Transport = "stdio"
    host: str = "127.0.0.1"
    port: int = 8765
    data_dir: Path = field(default_factory=default_data_dir)
    local_api_key: str = field(default="", repr=False)
    local_allow_loopback_webhooks: bool = False
    local_wire: Wire = "seed"
    local_bursts: bool = False
    local_max_body_bytes: int = MAX_BODY_BYTES
    local_max_token_body_bytes: int = MAX_TOKEN_BODY_BYTES
    local_max_artifact_bytes: int = MAX_ARTIFACT_BYTES
    local_max_json_depth: int = MAX_JSON_DEPTH
    log_level: str = "warning"
    upstream_connections: int = 3000
    caller_requests: int = 16
    caller_streams: int = 16
    caller_subscriptions: int = 64
    max_subscriptions: int = 1024
    task_key: str = field(default="", repr=False)

    def local_limits(self) -> LimitSettings:
        """The local service's limits, as `LocalServiceConfig` takes them."""
        return LimitSettings(max_body_bytes=self.local_max_body_bytes,
                             max_token_body_bytes=self.local_max_token_body_bytes,
                             max_artifact_bytes=self.local_max_artifact_bytes, max_json_depth=self.local_max_json_depth)

    @property
    def uses_local_service(self) -> bool:
        """No credential for a remote service: run the embedded local one."""
        return not (self.api_key or self.token)

    @classmethod
    def load(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from the environment, then from explicit overrides (CLI flags); bad values raise ValueError."""
        env = os.environ if environ is None else environ
        raw: dict[str, str] = {}
        for option in OPTIONS:
            value = env.get(option.env, "") if option.env else ""
            raw[option.name] = value.strip() if value and value.strip() else option.default
        explicit_url = bool(option_env(env, "api_url")) or overrides.get("api_url") is not None
        for name, value in overrides.items():
            if value is not None:
                raw[name] = value if isinstance(value, str) else _to_text(value)
        return cls._parse(raw, explicit_url)

    @classmethod
    def _parse(cls, raw: dict[str, str], explicit_url: bool) -> Settings:
        region = raw["region"].lower()
        if region and region not in REGIONS:
            raise ValueError(f"VERTESIA_REGION must be one of {', '.join(REGIONS)}, not {raw['region']!r}")
        api_url = raw["api_url"].rstrip("/")
        if region and not explicit_url:
            api_url = REGIONAL_API_URL.format(region=region)
        toolsets = _csv(raw["toolsets"].lower())
        if "all" in toolsets:
            toolsets = TOOLSETS
        unknown = [name for name in toolsets if name not in TOOLSETS]
        if unknown:
            raise ValueError(f"unknown toolset {', '.join(unknown)}; choose from {', '.join(TOOLSETS)} or all")
        transport = raw["transport"].lower()
        if transport not in ("stdio", "http"):
            raise ValueError(f"--transport must be stdio or http, not {raw['transport']!r}")
        try:
            timeout, port = float(raw["timeout"]), int(raw["port"])
        except ValueError as exc:
            raise ValueError(f"timeout and port must be numbers: {exc}") from None
        if not 0 < timeout <= 600:
            raise ValueError("timeout must be between 0 and 600 seconds")
        if not 0 <= port <= 65535:
            raise ValueError("port must be between 0 and 65535")
        limits = {name: positive_int(raw, name) for name in LIMITS}
        if limits["caller_subscriptions"] > limits["max_subscriptions"]:
            raise ValueError("MCP_AGENTS_CALLER_SUBSCRIPTIONS cannot exceed MCP_AGENTS_MAX_SUBSCRIPTIONS")
        wire = raw["local_wire"].lower()
        if wire not in WIRES:
            raise ValueError(f"MCP_AGENTS_LOCAL_WIRE must be one of {', '.join(WIRES)}, not {raw['local_wire']!r}")
        return cls(
            api_key=raw["api_key"], token=raw["token"], api_url=api_url, region=region,
            sts_url=raw["sts_url"].rstrip("/"), api_version=raw["api_version"], timeout=timeout,
            toolsets=toolsets, read_only=_flag(raw["read_only"]),
            allow_interactions=_csv(raw["allow_interactions"]), transport=transport,  # type: ignore[arg-type]
            host=raw["host"], port=port,
            data_dir=Path(raw["data_dir"]).expanduser() if raw["data_dir"] else default_data_dir(),
            local_api_key=raw["local_api_key"],
            local_allow_loopback_webhooks=_flag(raw["local_allow_loopback_webhooks"]), local_wire=wire,
            local_bursts=_flag(raw["local_bursts"]), log_level=raw["log_level"].lower(), task_key=raw["task_key"],
            **limits, **{f"local_{name}": check_limit(name, raw[f"local_{name}"]) for name in LIMIT_NAMES},
        )

    def describe(self) -> dict[str, str]:
        """Every setting as text, credentials masked: safe to log or print."""
        out: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            option = OPTION_BY_NAME.get(item.name)
            if option is not None and option.secret:
                out[item.name] = "(set)" if value else "(not set)"
            else:
                out[item.name] = _to_text(value)
        return out


LIMITS = ("upstream_connections", "caller_requests", "caller_streams", "caller_subscriptions", "max_subscriptions")


def positive_int(raw: Mapping[str, str], name: str) -> int:
    """The setting `name` as a whole number >= 1, or a ValueError that names its variable."""
    option = OPTION_BY_NAME[name]
    try:
        value = int(raw[name])
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{option.env} must be a whole number >= 1, not {raw[name]!r}")
    return value


def option_env(env: Mapping[str, str], name: str) -> str:
    option = OPTION_BY_NAME[name]
    return env.get(option.env, "").strip() if option.env else ""


def _to_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ",".join(str(item) for item in value)
    return str(value)
