"""Artifact files under `<data_dir>/artifacts/<run id>/`, metadata in SQLite, and signed URLs.

Paths are relative, slash-separated, without `.`/`..` segments, backslashes or NUL; anything
else is refused (400) before the filesystem is touched. A signed URL carries an expiry and an
HMAC-SHA256 over run id, path, expiry and disposition; the service serves it without a bearer.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import os
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from mcp_agents.local.config import SIGNED_URL_TTL_SECONDS
from mcp_agents.local.errors import ServiceError

MAX_PATH = 1024


def check_path(path: str) -> str:
    """The normalized artifact path, or 400 for anything that could escape the run's folder."""
    if not path or len(path) > MAX_PATH or "\x00" in path or "\\" in path or path.startswith("/"):
        raise ServiceError(400, f"invalid artifact path {path[:80]!r}: use a relative path like `reports/out.csv`")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ServiceError(400, f"invalid artifact path {path[:80]!r}: empty, `.` and `..` segments are refused")
    return path


def guess_type(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"


UPLOAD = "upload"  # the purpose signed into upload URLs (downloads sign their disposition)


class ArtifactFiles:
    def __init__(self, data_dir: Path, secret: bytes) -> None:
        self.root = (data_dir / "artifacts").resolve()
        self._secret = secret

    def folder(self, run_id: str) -> Path:
        return self.root / run_id

    def file(self, run_id: str, path: str) -> Path:
        target = (self.folder(run_id) / check_path(path)).resolve()
        if not target.is_relative_to(self.folder(run_id).resolve()):
            raise ServiceError(400, "invalid artifact path: it leaves the run's artifact folder")
        return target

    def write(self, run_id: str, path: str, content: bytes) -> None:
        """Write atomically and durably (the metadata row is committed after the file exists)."""
        target = self.file(run_id, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with open(temp, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)

    def read(self, run_id: str, path: str) -> bytes:
        return self.file(run_id, path).read_bytes()

    def copy_run(self, source: str, target: str, paths: list[str]) -> None:
        for path in paths:
            self.write(target, path, self.read(source, path))

    def _signature(self, run_id: str, path: str, expires: int, disposition: str) -> str:
        text = f"{run_id}\n{path}\n{expires}\n{disposition}".encode()
        return hmac.new(self._secret, b"artifact-url\n" + text, hashlib.sha256).hexdigest()

    def signed_url(self, base_url: str, run_id: str, path: str, disposition: str) -> str:
        expires = int(time.time()) + SIGNED_URL_TTL_SECONDS
        query = {"expires": str(expires), "disposition": disposition,
                 "signature": self._signature(run_id, path, expires, disposition)}
        return f"{base_url}/agents/{quote(run_id)}/artifacts/{quote(path)}?{urlencode(query)}"

    def signed_upload_url(self, base_url: str, run_id: str, path: str) -> str:
        """Where the bytes of an upload go (PUT, no credential): signed for uploading this path only."""
        expires = int(time.time()) + SIGNED_URL_TTL_SECONDS
        query = {"expires": str(expires), "signature": self._signature(run_id, path, expires, UPLOAD)}
        return f"{base_url}/agents/{quote(run_id)}/artifacts/{quote(path)}?{urlencode(query)}"

    def check_signature(self, run_id: str, path: str, expires: str, disposition: str, signature: str) -> None:
        if not expires.isdigit() or int(expires) < time.time():
            raise ServiceError(403, "the signed URL has expired; ask for a new one with ?url=1")
        expected = self._signature(run_id, path, int(expires), disposition)
        if not hmac.compare_digest(expected, signature):
            raise ServiceError(403, "invalid signature on the artifact URL; ask for a new one with ?url=1")
