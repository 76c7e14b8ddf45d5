"""Task ids: the run and the turn, sealed with a key every replica shares.

A task is one turn of a run: the run id plus the cursor where the turn began (`Cursor`, the
position when the task was created). The id carries both and the creation time, signed with
HMAC-SHA256 under the task key, so any replica (after any restart) answers `tasks/*` from the
Agent Runs service alone, and an id this server did not issue is refused without a lookup.
Keys rotate like `MCP_AGENTS_REQUEST_STATE_KEY`: the first key signs, every key verifies.

The id is signed, not encrypted: it reveals the run id, which the caller already has (the
task's result names it). Access is decided by the service, with the caller's own credential.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mcp_agents.models.cursor import Cursor, CursorError

logger = logging.getLogger(__name__)

VERSION = "t1"
TAG_BYTES = 16
KEY_BYTES = 32
MAX_ID_CHARS = 1024
TTL_MS = 24 * 3600 * 1000
"""How long a task handle stays valid after its creation (the run itself stays readable with the tools)."""
_DOMAIN = b"mcp-agents/task-id/v1\x00"
KEY_FILE = "task.key"


class TaskIdError(ValueError):
    """Not a task id this server issued (or one whose time is up); the message reveals nothing more."""


@dataclass(frozen=True, slots=True)
class TaskRef:
    """What a task id names: a run, the cursor where the task's turn began, and when the task was created."""

    run_id: str
    start: Cursor
    created_ms: int

    @property
    def expires_ms(self) -> int:
        return self.created_ms + TTL_MS


def _kept_key(path: Path) -> bytes:
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    key = secrets.token_bytes(KEY_BYTES)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex())
    except FileExistsError:  # another process made it meanwhile: use theirs
        return bytes.fromhex(path.read_text().strip())
    except OSError as exc:
        logger.warning("cannot keep the task key in %s (%s): task ids last as long as this process",
                       path.parent, type(exc).__name__)
    return key


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TaskKeys:
    """Signs and opens task ids; the first key signs, all verify (rotation)."""

    def __init__(self, keys: list[bytes] | Callable[[], list[bytes]]) -> None:
        self._source = keys
        self._loaded: list[bytes] | None = None

    @property
    def _keys(self) -> list[bytes]:
        if self._loaded is None:
            keys = self._source() if callable(self._source) else self._source
            if not keys:
                raise ValueError("at least one task key is needed")
            self._loaded = keys
        return self._loaded

    @classmethod
    def from_secret(cls, value: str) -> TaskKeys | None:
        """Comma-separated secrets; each is hashed into a 32-byte key unless it is exactly 32 bytes."""
        keys: list[bytes] = []
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            raw = item.encode("utf-8")
            if len(raw) != KEY_BYTES:
                if len(raw) < KEY_BYTES:
                    logger.warning("a task key is shorter than %d characters: use a long random value", KEY_BYTES)
                raw = hashlib.sha256(raw).digest()
            if raw not in keys:
                keys.append(raw)
        return cls(keys) if keys else None

    @classmethod
    def kept_in(cls, data_dir: Path) -> TaskKeys:
        """A random key kept in the data directory (mode 0600), read or made on first use: task ids then
        survive restarts of this machine's servers (replicas elsewhere need `MCP_AGENTS_TASK_KEY`)."""
        return cls(lambda: [_kept_key(data_dir / KEY_FILE)])

    def _tag(self, key: bytes, payload: str) -> str:
        return _b64(hmac.new(key, _DOMAIN + payload.encode("ascii"), hashlib.sha256).digest()[:TAG_BYTES])

    def seal(self, run_id: str, start: Cursor, created_ms: int | None = None) -> str:
        created = int(time.time() * 1000) if created_ms is None else created_ms
        body = json.dumps({"r": run_id, "c": str(start), "t": created}, separators=(",", ":"))
        payload = _b64(body.encode("utf-8"))
        return f"{VERSION}.{payload}.{self._tag(self._keys[0], payload)}"

    def open(self, task_id: object, *, now_ms: int | None = None) -> TaskRef:
        if not isinstance(task_id, str) or len(task_id) > MAX_ID_CHARS:
            raise TaskIdError("unknown task id")
        version, _, rest = task_id.strip().partition(".")
        payload, _, tag = rest.partition(".")
        if version != VERSION or not payload or not tag or not payload.isascii() or not tag.isascii():
            raise TaskIdError("unknown task id")
        if not any(hmac.compare_digest(self._tag(key, payload), tag) for key in self._keys):
            raise TaskIdError("unknown task id")
        try:
            body = json.loads(_unb64(payload))
            ref = TaskRef(str(body["r"]), Cursor.parse(body["c"]), int(body["t"]))
        except (ValueError, KeyError, TypeError, CursorError):
            raise TaskIdError("unknown task id") from None
        now = int(time.time() * 1000) if now_ms is None else now_ms
        if now > ref.expires_ms:
            raise TaskIdError("this task has expired; read the run with get_agent_run or wait_for_agent_runs")
        return ref
