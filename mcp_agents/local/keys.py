"""API keys: the development key and the keys file, both in the data directory.

Keys file (`<data_dir>/keys.json`, or `--keys-file`), one entry per principal:

    {"keys": [{"key": "sk-...", "id": "ci", "name": "CI pipeline", "role": "user",
               "permissions": ["workflow:run"], "principal": "apikey:ci"}]}

`key_sha256` (hex) may replace `key` so that the file holds no secret. `role` is `user` (default)
or `superadmin`; `permissions` defaults to `["workflow:run"]`; `principal` defaults to
`apikey:<id>`. The development key is kept in `<data_dir>/dev_api_key` (mode 0600).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from mcp_agents.local.private import write_private

log = logging.getLogger(__name__)

Role = Literal["user", "superadmin"]
RUN_PERMISSION = "workflow:run"
DEV_KEY_FILE = "dev_api_key"
KEYS_FILE = "keys.json"
DEV_KEY_ID = "dev"


@dataclass(frozen=True)
class Principal:
    """Who makes a request: `id` is what `started_by` records (e.g. `apikey:dev`, `user:alice`)."""

    id: str
    name: str
    role: Role = "user"
    permissions: frozenset[str] = frozenset({RUN_PERMISSION})

    @property
    def kind(self) -> str:
        return self.id.split(":", 1)[0] if ":" in self.id else "apikey"

    @property
    def is_superadmin(self) -> bool:
        return self.role == "superadmin"

    def can_see(self, owner: str | None, visibility: str | None) -> bool:
        return visibility != "private" or self.is_superadmin or owner == self.id


@dataclass(frozen=True)
class KeyEntry:
    digest: bytes = field(repr=False)
    principal: Principal

    @property
    def kid(self) -> str:
        """The key id a token carries: derived from the key, so it changes with the key and reveals nothing."""
        return hashlib.sha256(b"mcp-agents-kid\n" + self.digest).hexdigest()[:16]


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def new_api_key() -> str:
    return f"sk-local-{secrets.token_urlsafe(24)}"


def load_dev_key(data_dir: Path, explicit: str | None, announce: bool = True) -> str:
    """The development key: the explicit one, else the stored one, else a new one (announced once)."""
    if explicit:
        return explicit
    path = data_dir / DEV_KEY_FILE
    if path.exists():
        return path.read_text().strip()
    key = new_api_key()
    write_private(path, key + "\n")
    if announce:
        # Shown only to a person at a terminal: a piped stderr ends up in a host's or supervisor's logs.
        shown = f" {key}" if sys.stderr.isatty() else ""
        sys.stderr.write(
            f"mcp-agents local: created the development API key{shown}, kept in {path} (readable by you only;\n"
            f"  printed only to a terminal, never to logs)\n"
            f"  exchange it for a token: curl -X POST <sts_url>/token/issue -H 'Content-Type: application/json' "
            f"-d '{{\"type\": \"apikey\", \"key\": \"'$(cat {path})'\"}}'\n"
            f"  or let mcp-agents use it: export VERTESIA_API_KEY=$(cat {path})\n"
        )
    return key


def _principal_from(raw: dict[str, object], index: int) -> Principal:
    key_id = str(raw.get("id") or f"key{index}")
    role = raw.get("role", "user")
    if role not in ("user", "superadmin"):
        raise ValueError(f"keys file entry {key_id!r}: role must be user or superadmin, not {role!r}")
    permissions = raw.get("permissions", [RUN_PERMISSION])
    if not isinstance(permissions, list) or not all(isinstance(item, str) for item in permissions):
        raise ValueError(f"keys file entry {key_id!r}: permissions must be a list of strings")
    return Principal(id=str(raw.get("principal") or f"apikey:{key_id}"), name=str(raw.get("name") or key_id),
                     role=role, permissions=frozenset(permissions))


def load_keys(dev_key: str, keys_file: Path | None) -> list[KeyEntry]:
    """Every accepted key: the development key first, then the keys file's entries."""
    entries = [KeyEntry(_digest(dev_key), Principal(id=f"apikey:{DEV_KEY_ID}", name="Development key"))]
    if keys_file is None or not keys_file.exists():
        return entries
    try:
        document = json.loads(keys_file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read keys file {keys_file}: {exc}") from None
    items = document.get("keys", []) if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise ValueError(f"keys file {keys_file}: expected {{\"keys\": [...]}}")
    for index, raw in enumerate(items):
        if not isinstance(raw, dict):
            raise ValueError(f"keys file {keys_file}: entry {index} is not an object")
        if isinstance(raw.get("key"), str):
            digest = _digest(str(raw["key"]))
        elif isinstance(raw.get("key_sha256"), str):
            digest = bytes.fromhex(str(raw["key_sha256"]))
        else:
            raise ValueError(f"keys file {keys_file}: entry {index} needs `key` or `key_sha256`")
        entries.append(KeyEntry(digest, _principal_from(raw, index)))
    return entries


def find_key(entries: list[KeyEntry], key: str) -> KeyEntry | None:
    digest = _digest(key)
    found = None
    for entry in entries:  # compare against all, in constant time each
        if hmac.compare_digest(entry.digest, digest):
            found = entry
    return found
