"""The MCP clients we configure, in one table: where each keeps its configuration, in what shape,
and how a server entry for mcp-agents is built and merged into it.

Secrets follow the safest form each client supports in each scope: a file in a project (often
committed) only *refers* to `VERTESIA_API_KEY` in the environment; VS Code prompts for it and keeps
it in its secret storage; a user-scope file gets the key itself, and only when one was given.
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mcp_agents.settings import COMMAND

SERVER_NAME = "mcp-agents"
SECRET_ENV = "VERTESIA_API_KEY"
# Non-secret settings copied from the installer's environment into the entry when set there.
PASSTHROUGH_ENV = ("VERTESIA_REGION", "VERTESIA_API_URL", "VERTESIA_STS_URL")
VSCODE_INPUT_ID = "vertesia-api-key"
MASK = "********"

Scope = Literal["user", "project"]
SecretStyle = Literal["literal", "reference", "input"]
Format = Literal["json", "toml"]


@dataclass(frozen=True)
class Launch:
    """The command a client runs to start the server over stdio."""

    command: str
    args: tuple[str, ...]

    @classmethod
    def uvx(cls) -> Launch:
        """The published package, fetched and cached by uv: nothing to install first."""
        return cls("uvx", (COMMAND, "serve"))

    @classmethod
    def local(cls) -> Launch:
        """This interpreter's installation (a checkout, a virtualenv, an offline machine)."""
        return cls(sys.executable, ("-m", "mcp_agents", "serve"))


@dataclass(frozen=True)
class Platform:
    """What a config path depends on; tests pass their own to aim at a temporary directory."""

    home: Path
    cwd: Path
    system: Literal["linux", "darwin", "windows"]
    environ: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def current(cls) -> Platform:
        system: Literal["linux", "darwin", "windows"] = (
            "windows" if os.name == "nt" else "darwin" if sys.platform == "darwin" else "linux")
        return cls(Path.home(), Path.cwd(), system, dict(os.environ))

    def app_config(self) -> Path:
        """The per-user application configuration directory (where desktop apps keep settings)."""
        if self.system == "darwin":
            return self.home / "Library" / "Application Support"
        if self.system == "windows":
            return Path(self.environ.get("APPDATA") or self.home / "AppData" / "Roaming")
        return Path(self.environ.get("XDG_CONFIG_HOME") or self.home / ".config")


@dataclass(frozen=True)
class Client:
    """One MCP client: its config files per scope, their shape, and how it spells secrets."""

    name: str
    title: str
    format: Format
    servers_key: str
    scopes: Mapping[Scope, SecretStyle]
    sample: str
    """File name of the ready-made configuration under `manifests/clients/`."""
    reference: str = ""
    """How the client refers to an environment variable (`{name}` is replaced); empty: see `forward_key`."""
    forward_key: str = ""
    """Key listing variables to pass through from the client's environment; empty: it passes all of them."""
    entry_type: str | None = None
    """Value of the entry's `type` key, for clients that want the transport spelled out."""
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def default_scope(self) -> Scope:
        return "user" if "user" in self.scopes else "project"

    def path(self, scope: Scope, platform: Platform) -> Path:
        """The configuration file of this client in `scope`."""
        if scope not in self.scopes:
            raise ValueError(f"{self.name} has no {scope} configuration; use --scope "
                             f"{' or '.join(self.scopes)}")
        home, cwd = platform.home, platform.cwd
        match self.name, scope:
            case "claude-desktop", _:
                return platform.app_config() / "Claude" / "claude_desktop_config.json"
            case "claude-code", "user":
                return home / ".claude.json"
            case "claude-code", "project":
                return cwd / ".mcp.json"
            case "vscode", "user":
                return platform.app_config() / "Code" / "User" / "mcp.json"
            case "vscode", "project":
                return cwd / ".vscode" / "mcp.json"
            case "cursor", "user":
                return home / ".cursor" / "mcp.json"
            case "cursor", "project":
                return cwd / ".cursor" / "mcp.json"
            case "codex", "user":
                return Path(platform.environ.get("CODEX_HOME") or home / ".codex") / "config.toml"
            case "codex", "project":
                return cwd / ".codex" / "config.toml"
            case "gemini", "user":
                return home / ".gemini" / "settings.json"
            case "gemini", "project":
                return cwd / ".gemini" / "settings.json"
        raise AssertionError(f"no path for {self.name}/{scope}")  # pragma: no cover - the table is complete


CLIENTS: dict[str, Client] = {client.name: client for client in (
    Client("claude-desktop", "Claude Desktop", "json", "mcpServers", {"user": "literal"},
           sample="claude_desktop_config.json"),
    Client("claude-code", "Claude Code", "json", "mcpServers", {"user": "literal", "project": "reference"},
           sample="claude-code.mcp.json", reference="${{{name}:-}}", entry_type="stdio"),
    Client("vscode", "VS Code", "json", "servers", {"user": "input", "project": "input"},
           sample="vscode.mcp.json", entry_type="stdio"),
    Client("cursor", "Cursor", "json", "mcpServers", {"user": "literal", "project": "reference"},
           sample="cursor.mcp.json", reference="${{env:{name}}}"),
    Client("codex", "Codex", "toml", "mcp_servers", {"user": "literal", "project": "reference"},
           sample="codex.config.toml", forward_key="env_vars", extra={"startup_timeout_sec": 60}),
    Client("gemini", "Gemini CLI", "json", "mcpServers", {"user": "literal", "project": "reference"},
           sample="gemini.settings.json"),
)}


def build_entry(client: Client, scope: Scope, launch: Launch, *, secret: str | None,
                environ: Mapping[str, str]) -> dict[str, Any]:
    """The server entry for `client` in `scope` (what goes under its servers key)."""
    entry: dict[str, Any] = {}
    if client.entry_type:
        entry["type"] = client.entry_type
    entry["command"] = launch.command
    entry["args"] = list(launch.args)
    env = {name: environ[name].strip() for name in PASSTHROUGH_ENV if environ.get(name, "").strip()}
    style = client.scopes[scope]
    if style == "input":
        env[SECRET_ENV] = f"${{input:{VSCODE_INPUT_ID}}}"
    elif style == "reference" and client.reference:
        env[SECRET_ENV] = client.reference.format(name=SECRET_ENV)
    elif style == "reference" and client.forward_key:  # Codex forwards only the variables it is told to
        entry[client.forward_key] = [SECRET_ENV]
    elif secret:
        env[SECRET_ENV] = secret
    if env:
        entry["env"] = env
    entry.update(client.extra)
    return entry


def vscode_input() -> dict[str, Any]:
    return {"type": "promptString", "id": VSCODE_INPUT_ID, "password": True,
            "description": "Vertesia API key (sk-...); leave empty to use the embedded local service"}


def merge(document: Mapping[str, Any], client: Client, entry: Mapping[str, Any]) -> dict[str, Any]:
    """`document` with our entry set; every other server and key kept as it was."""
    merged = copy.deepcopy(dict(document))
    servers = merged.setdefault(client.servers_key, {})
    if not isinstance(servers, dict):
        raise ValueError(f"`{client.servers_key}` in the existing file is not an object; fix it by hand first")
    servers[SERVER_NAME] = copy.deepcopy(dict(entry))
    if client.name == "vscode":
        wanted = vscode_input()
        inputs = merged.setdefault("inputs", [])
        if not isinstance(inputs, list):
            raise ValueError("`inputs` in the existing file is not a list; fix it by hand first")
        for index, item in enumerate(inputs):
            if isinstance(item, dict) and item.get("id") == VSCODE_INPUT_ID:
                inputs[index] = wanted
                break
        else:
            inputs.append(wanted)
    return merged


def find_entry(document: Mapping[str, Any], client: Client) -> dict[str, Any] | None:
    """Our entry in a parsed configuration, if there is one."""
    servers = document.get(client.servers_key)
    entry = servers.get(SERVER_NAME) if isinstance(servers, dict) else None
    return entry if isinstance(entry, dict) else None


def masked(value: Any, secrets: tuple[str, ...]) -> Any:
    """A copy of `value` with every secret string replaced by a mask (for printing)."""
    if isinstance(value, dict):
        return {key: masked(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item, secrets) for item in value]
    if isinstance(value, str) and any(secret and secret in value for secret in secrets):
        return MASK
    return value
