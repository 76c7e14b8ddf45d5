"""Add mcp-agents to an MCP client's configuration (or print the entry with --print).

The file is merged, never replaced: other servers and keys stay. A changed file is backed up first
(`<file>.bak-<timestamp>`); running again with the same inputs changes nothing and makes no backup.
The API key comes from VERTESIA_API_KEY or, on a terminal, a hidden prompt; it is never printed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcp_agents.settings import DISTRIBUTION
from mcp_agents.setup import tomledit
from mcp_agents.setup.clients import (
    CLIENTS,
    SECRET_ENV,
    SERVER_NAME,
    Client,
    Launch,
    Platform,
    Scope,
    build_entry,
    masked,
    merge,
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("client", choices=sorted(CLIENTS), help="the MCP client to configure")
    parser.add_argument("--scope", choices=("user", "project"), default=None,
                        help="user-wide or this project's configuration (default: user where the client has one)")
    parser.add_argument("--path", type=Path, default=None, help="write this file instead of the client's usual one")
    parser.add_argument("--print", dest="print_only", action="store_true",
                        help="print the server entry in the client's format (secrets masked) instead of writing it")
    parser.add_argument("--command", dest="launch", choices=("uvx", "local"), default="uvx",
                        help="uvx: run the published package with uv (default); local: this Python's installation")
    parser.add_argument("--no-prompt", action="store_true", help="never ask for the API key")


@dataclass(frozen=True)
class Outcome:
    path: Path
    changed: bool
    backup: Path | None
    text: str
    has_secret: bool


def run(args: argparse.Namespace) -> int:
    client = CLIENTS[args.client]
    scope: Scope = args.scope or client.default_scope
    platform = Platform.current()
    try:
        path = args.path or client.path(scope, platform)
    except ValueError as exc:
        print(f"mcp-agents install: {exc}", file=sys.stderr)
        return 2
    launch = Launch.local() if args.launch == "local" else Launch.uvx()
    if args.launch == "local" and _is_temporary_interpreter(launch.command):
        print("mcp-agents install: warning: this Python lives in uv's cache (uvx), which may be cleaned; "
              f"use --command uvx, or install {DISTRIBUTION} with pipx or in a virtualenv first", file=sys.stderr)
    secret = None
    if client.scopes[scope] == "literal":
        secret = read_secret(platform.environ, prompt=not args.no_prompt and not args.print_only)
    try:
        outcome = install(client, scope, path, launch, secret=secret, environ=platform.environ,
                          write=not args.print_only)
    except (ValueError, OSError) as exc:
        print(f"mcp-agents install: cannot update {path}: {exc}", file=sys.stderr)
        return 1
    if args.print_only:
        sys.stdout.write(outcome.text)
        print(f"# {client.title} ({scope}): {path}", file=sys.stderr)
        return 0
    if not outcome.changed:
        print(f"{client.title}: {path} already has the {SERVER_NAME} server; nothing changed.", file=sys.stderr)
    else:
        backup = f" (backup: {outcome.backup})" if outcome.backup else ""
        print(f"{client.title}: wrote the {SERVER_NAME} server to {path}{backup}.", file=sys.stderr)
    print(_credential_note(client, scope, outcome.has_secret), file=sys.stderr)
    return 0


def _is_temporary_interpreter(executable: str) -> bool:
    parts = Path(executable).parts
    return any(part.startswith("archive-v") for part in parts) or ("uv" in parts and "cache" in str(executable))


def read_secret(environ: Mapping[str, str], *, prompt: bool) -> str | None:
    """The API key from the environment, else from a hidden prompt when a person is at a terminal."""
    secret = environ.get(SECRET_ENV, "").strip()
    if secret:
        return secret
    if not prompt or not sys.stdin.isatty():
        return None
    try:
        typed = getpass.getpass(f"{SECRET_ENV} (Enter for the embedded local service): ").strip()
    except (EOFError, KeyboardInterrupt):
        return None
    return typed or None


def install(client: Client, scope: Scope, path: Path, launch: Launch, *, secret: str | None,
            environ: Mapping[str, str], write: bool = True) -> Outcome:
    """Merge our entry into `path` (backup first, atomic replace); with write=False, only render the entry."""
    entry = build_entry(client, scope, launch, secret=secret, environ=environ)
    secrets = (secret,) if secret else ()
    if not write:  # only our entry: the user's file may hold other servers' secrets
        return Outcome(path, False, None, _mask_text(client, render(client, "", entry), secrets), bool(secret))
    if path.is_symlink():  # a managed dotfile: update the file it points to, keep the link
        path = path.resolve()
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    new = render(client, old, entry)
    if new == old:
        return Outcome(path, False, None, new, bool(secret))
    backup = _backup(path) if old else None
    _write_atomic(path, new, private=bool(secret))
    return Outcome(path, True, backup, new, bool(secret))


def render(client: Client, old_text: str, entry: Mapping[str, Any]) -> str:
    """The whole new file text for `client`, given its current text."""
    if client.format == "toml":
        try:
            tomllib.loads(old_text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"the file is not valid TOML ({exc})") from None
        return tomledit.set_table(old_text, [client.servers_key, SERVER_NAME], entry)
    document = load_json(old_text)
    return json.dumps(merge(document, client, entry), indent=2, ensure_ascii=False) + "\n"


def load_json(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"the file is not valid JSON ({exc}); fix or move it, then run again") from None
    if not isinstance(document, dict):
        raise ValueError("the file does not hold a JSON object")
    return document


def _mask_text(client: Client, text: str, secrets: tuple[str, ...]) -> str:
    if not secrets:
        return text
    if client.format == "toml":
        for secret in secrets:
            text = text.replace(tomledit.value(secret), tomledit.value("********"))
        return text
    return json.dumps(masked(json.loads(text), secrets), indent=2, ensure_ascii=False) + "\n"


def _backup(path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    backup = path.with_name(f"{path.name}.bak-{stamp}")
    counter = 1
    while backup.exists():
        backup = path.with_name(f"{path.name}.bak-{stamp}-{counter}")
        counter += 1
    backup.write_bytes(path.read_bytes())
    os.chmod(backup, path.stat().st_mode & 0o777)
    return backup


def _write_atomic(path: Path, text: str, *, private: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    if private:
        mode &= 0o600  # the file now holds a credential: owner only
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _credential_note(client: Client, scope: Scope, has_secret: bool) -> str:
    style = client.scopes[scope]
    if style == "input":
        return f"{client.title} asks for {SECRET_ENV} when it first starts the server (empty: local service)."
    if style == "reference":
        return (f"The file refers to {SECRET_ENV} in the environment {client.title} runs in; without it the "
                "server uses the embedded local service.")
    if has_secret:
        return f"The key from {SECRET_ENV} was written to the file (owner-only permissions); it is not shown."
    return (f"No {SECRET_ENV} given: the server will use the embedded local service. Set {SECRET_ENV} and run "
            "this again to use the Agent Runs service.")
