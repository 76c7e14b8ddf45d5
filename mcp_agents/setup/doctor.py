"""Check the set-up end to end and say what to fix: configuration, backend, credentials, token service,
API round trip, TLS trust, the local service, and the MCP clients configured on this machine.

One line per check (`ok`, `warn` or `fail`); the exit status is 1 when any check fails. Credentials
are never printed, only whether they are set.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import shutil
import ssl
import sys
import time
import tomllib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import anyio

from mcp_agents.settings import COMMAND, Settings
from mcp_agents.setup.clients import CLIENTS, SERVER_NAME, Platform, find_entry

Status = Literal["ok", "warn", "fail"]
DEFAULT_TIMEOUT = 15.0
TLS_HINT = ("if a corporate proxy inspects TLS, set SSL_CERT_FILE to a PEM bundle that includes its root CA "
            "(or SSL_CERT_DIR to a directory of them) and run again")


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name:<16} {self.detail}"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds allowed for each network check (default {DEFAULT_TIMEOUT:g})")


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.load()
    except ValueError as exc:
        print(Check("configuration", "fail", f"{exc}").line())
        return 1
    checks = [Check("configuration", "ok", "environment parsed")]
    checks += anyio.run(diagnose, settings, Platform.current(), args.timeout)
    for check in checks:
        print(check.line())
    failed = [check for check in checks if check.status == "fail"]
    print(f"\n{len(failed)} check(s) failed." if failed else "\nAll checks passed.", file=sys.stderr)
    return 1 if failed else 0


async def diagnose(settings: Settings, platform: Platform, check_seconds: float = DEFAULT_TIMEOUT) -> list[Check]:
    """Every check after the configuration one, in order; each network step gets `check_seconds`."""
    if settings.uses_local_service:
        checks = [Check("backend", "ok", f"embedded local service (no VERTESIA_API_KEY or VERTESIA_TOKEN), "
                                         f"data in {settings.data_dir}")]
        checks += await _local_checks(settings, check_seconds)
    else:
        checks = [Check("backend", "ok", f"Agent Runs API at {settings.api_url}")]
        checks += await _remote_checks(settings, check_seconds)
    return checks + client_checks(platform)


# --- remote ------------------------------------------------------------------------------------

async def _remote_checks(settings: Settings, check_seconds: float) -> list[Check]:
    from mcp_agents.client import AgentRunsClient

    checks = [credential_check(settings)]
    if checks[0].status == "fail":
        return checks
    tls_errors: list[str] = []
    async with AgentRunsClient.from_settings(settings, max_retries=0) as client:
        if settings.api_key:
            try:
                with anyio.fail_after(check_seconds):
                    await client.credentials.get()
                checks.append(Check("token service", "ok", f"{settings.sts_url} exchanged the API key for a token"))
            except Exception as exc:
                detail = _explain(exc, settings.sts_url, check_seconds, tls_errors)
                checks.append(Check("token service", "fail", detail))
                checks.append(Check("API", "warn", "not checked: no token (fix the token service first)"))
                return [*checks, tls_check(settings, tls_errors, connected=False)]
        try:
            with anyio.fail_after(check_seconds):
                runs = await client.runs.list(limit=1)
            seen = "a run is" if runs.items else "no run is"
            checks.append(Check("API", "ok", f"listed runs ({seen} visible to this credential)"))
        except Exception as exc:
            checks.append(Check("API", "fail", _explain(exc, settings.api_url, check_seconds, tls_errors)))
            return [*checks, tls_check(settings, tls_errors, connected=False)]
    return [*checks, tls_check(settings, tls_errors, connected=True)]


def credential_check(settings: Settings) -> Check:
    if settings.api_key:
        if not settings.api_key.startswith("sk-"):
            return Check("credentials", "warn", "VERTESIA_API_KEY is set but does not start with sk-; "
                                                "is it a JWT? then set VERTESIA_TOKEN instead")
        return Check("credentials", "ok", "VERTESIA_API_KEY is set (not shown)")
    expiry = _jwt_expiry(settings.token)
    if expiry is None:
        return Check("credentials", "warn", "VERTESIA_TOKEN is set but is not a JWT with an expiry")
    left = expiry - time.time()
    if left <= 0:
        return Check("credentials", "fail", "VERTESIA_TOKEN has expired: get a new one, or set VERTESIA_API_KEY "
                                            "so that tokens are renewed automatically")
    return Check("credentials", "ok", f"VERTESIA_TOKEN is set (not shown), valid for {left / 60:.0f} more min")


def tls_check(settings: Settings, tls_errors: list[str], *, connected: bool) -> Check:
    """Which certificates are trusted, and whether verification failed on the way."""
    if tls_errors:
        return Check("TLS trust", "fail", f"certificate verification failed ({tls_errors[0]}); {TLS_HINT}")
    cafile, capath = os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", "")
    if cafile and not Path(cafile).is_file():
        return Check("TLS trust", "fail", f"SSL_CERT_FILE={cafile} is not a file: point it at a PEM bundle")
    if capath and not Path(capath).is_dir():
        return Check("TLS trust", "fail", f"SSL_CERT_DIR={capath} is not a directory")
    plain = [url for url in (settings.api_url, settings.sts_url)
             if urlsplit(url).scheme == "http" and not _is_loopback(urlsplit(url).hostname or "")]
    if plain:
        return Check("TLS trust", "warn", f"{plain[0]} is plain HTTP: credentials cross the network unencrypted")
    if not any(urlsplit(url).scheme == "https" for url in (settings.api_url, settings.sts_url)):
        return Check("TLS trust", "ok", "plain HTTP on this machine (no TLS involved)")
    if not connected:
        return Check("TLS trust", "warn", "not checked: no connection was made")
    source = (f"SSL_CERT_FILE={cafile}" if cafile else f"SSL_CERT_DIR={capath}" if capath
              else "the system's trust store")
    return Check("TLS trust", "ok", f"certificates verified against {source}")


def _explain(exc: BaseException, url: str, timeout: float, tls_errors: list[str]) -> str:
    """What went wrong, in the words of the error (never a credential), plus what to do."""
    verification = _ssl_cause(exc)
    if verification is not None:
        tls_errors.append(verification)
        return f"{urlsplit(url).netloc}: TLS certificate verification failed; see TLS trust below"
    if isinstance(exc, TimeoutError):
        return f"no answer from {urlsplit(url).netloc} within {timeout:g} s: check the URL, proxy and network"
    return str(exc) or type(exc).__name__


def _ssl_cause(exc: BaseException) -> str | None:
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current.verify_message or "certificate verify failed"
        if isinstance(current, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(current):
            return str(current)[:200]
        pending += [current.__cause__, current.__context__]
    return None


def _jwt_expiry(token: str) -> float | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def _is_loopback(host: str) -> bool:
    return host in {"localhost", "127.0.0.1", "::1"} or host.startswith("127.")


# --- local -------------------------------------------------------------------------------------

async def _local_checks(settings: Settings, check_seconds: float) -> list[Check]:
    from mcp_agents.local.private import make_private_dir

    data_dir = settings.data_dir
    try:
        make_private_dir(data_dir)
        probe = data_dir / f".doctor-{uuid.uuid4().hex}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return [Check("data dir", "fail", f"cannot write to {data_dir} ({exc.strerror or exc}): set "
                                          "MCP_AGENTS_DATA_DIR to a writable directory")]
    checks = [Check("data dir", "ok", f"{data_dir} is writable")]
    try:
        with anyio.fail_after(check_seconds):
            elapsed = await local_round_trip(settings)
        checks.append(Check("local service", "ok", f"started on a loopback port, an Echo run answered "
                                                   f"in {elapsed * 1000:.0f} ms"))
    except Exception as exc:
        detail = (f"no answer within {check_seconds:g} s" if isinstance(exc, TimeoutError)
                  else f"{type(exc).__name__}: {exc}")
        checks.append(Check("local service", "fail", f"{detail}; run `mcp-agents local` to see its log, or set "
                                                     "MCP_AGENTS_DATA_DIR to a fresh directory"))
    return checks


async def local_round_trip(settings: Settings) -> float:
    """Start the embedded service on a free port, run Echo, and read its answer; the seconds it took."""
    from mcp_agents.client import AgentRunsClient
    from mcp_agents.local import LocalServiceConfig, run_local_service
    from mcp_agents.models.messages import MessageType

    nonce = f"doctor-{uuid.uuid4().hex[:12]}"
    config = LocalServiceConfig(data_dir=settings.data_dir, api_key=settings.local_api_key or None,
                                wire=settings.local_wire, **settings.local_limits())
    async with run_local_service(config) as service, AgentRunsClient(
            base_url=service.base_url, api_key=service.api_key, sts_url=service.sts_url, max_retries=0) as client:
        started = time.monotonic()
        run = await client.runs.create(interaction="Echo", data={"task": nonce}, interactive=False,
                                       tags=["mcp-agents-doctor"])
        async for message in client.messages.stream(run.id):
            if message.type == MessageType.ANSWER:
                if message.message != nonce:
                    raise RuntimeError(f"Echo answered {message.message[:80]!r} instead of the task")
                return time.monotonic() - started
    raise RuntimeError("the run ended without an answer")


# --- MCP clients -------------------------------------------------------------------------------

def client_checks(platform: Platform) -> list[Check]:
    """Where mcp-agents is configured on this machine (user files, and this directory's project files)."""
    found: list[str] = []
    checks: list[Check] = []
    for client in CLIENTS.values():
        for scope in client.scopes:
            path = client.path(scope, platform)
            if not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8")
                document = tomllib.loads(text) if client.format == "toml" else json.loads(text or "{}")
            except (OSError, ValueError) as exc:
                checks.append(Check("client config", "warn", f"{client.title}: cannot read {path} ({exc})"))
                continue
            entry = find_entry(document, client) if isinstance(document, dict) else None
            if entry is None:
                continue
            found.append(f"{client.title} ({path})")
            command = entry.get("command")
            if isinstance(command, str) and shutil.which(command) is None and not Path(command).is_file():
                checks.append(Check("client config", "warn", f"{client.title}: `{command}` is not on PATH: install "
                                    f"uv, or run `{COMMAND} install {client.name} --command local`"))
    if found:
        checks.insert(0, Check("client config", "ok", f"{SERVER_NAME} is configured in " + ", ".join(found)))
    else:
        checks.insert(0, Check("client config", "warn", f"no MCP client is configured yet: run `uvx {COMMAND} "
                                                        "install <client>` (" + ", ".join(CLIENTS) + ")"))
    return checks

