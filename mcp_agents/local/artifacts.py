"""Artifact files under `<data_dir>/artifacts/<run id>/`, metadata in SQLite, and signed URLs.

Paths are relative, slash-separated, without `.`/`..` segments, backslashes or NUL; anything
else is refused (400) before the filesystem is touched. A signed URL carries an expiry and an
HMAC-SHA256 over run id, path, expiry and disposition; the service serves it without a bearer.
Files and folders are created readable by the service's user only (0600 / 0700), whatever the umask.
Artifacts are served with `nosniff` and a sandboxing CSP, and active types (HTML, SVG, XML) only as
attachments: an uploaded page never runs on the service's origin.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import mimetypes
import os
import re
import secrets
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from mcp_agents.local.config import SIGNED_URL_TTL_SECONDS
from mcp_agents.local.errors import ServiceError
from mcp_agents.local.private import make_private_dir

MAX_PATH = 1024
MAX_NAME_BYTES = 255  # one path segment: the usual file-name limit
_EXPIRES = re.compile(r"[0-9]{1,12}")
# served with `Content-Security-Policy` so that nothing in an artifact runs, loads or submits anything
ARTIFACT_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
ACTIVE_TYPES = frozenset({"text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml",
                          "text/xsl", "application/xslt+xml"})


def check_path(path: str) -> str:
    """The normalized artifact path, or 400 for anything that could escape the run's folder."""
    if not path or len(path) > MAX_PATH or "\x00" in path or "\\" in path or path.startswith("/"):
        raise ServiceError(400, f"invalid artifact path {path[:80]!r}: use a relative path like `reports/out.csv`")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ServiceError(400, f"invalid artifact path {path[:80]!r}: empty, `.` and `..` segments are refused")
    if any(len(part.encode()) > MAX_NAME_BYTES for part in parts):
        raise ServiceError(400, f"invalid artifact path {path[:80]!r}: a name is longer than {MAX_NAME_BYTES} bytes")
    return path


def is_active(content_type: str) -> bool:
    """A type a browser would run (HTML, SVG, XML): served only as an attachment."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ACTIVE_TYPES or media.endswith("+xml")


def serving_headers(content_type: str, disposition: str, filename: str) -> dict[str, str]:
    if is_active(content_type):
        disposition = "attachment"
    return {"Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff", "Content-Security-Policy": ARTIFACT_CSP,
            "Cache-Control": "private, no-cache"}


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
        """Write atomically and durably (the metadata row is committed after the file exists).

        Each writer has its own temporary file, so concurrent writers of one path each succeed (the
        last rename wins); a path that collides with a folder, or runs through a file, is refused (409).
        """
        target = self.file(run_id, path)
        conflict = ServiceError(409, f"artifact path {path[:80]!r} conflicts with an existing artifact: a "
                                     "folder cannot be a file, nor a file a folder")
        try:
            make_private_dir(target.parent)
        except (FileExistsError, NotADirectoryError):
            raise conflict from None
        if target.is_dir():
            raise conflict
        temp = target.with_name(f".upload-{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, target)
        except (IsADirectoryError, NotADirectoryError):
            raise conflict from None
        finally:
            with contextlib.suppress(OSError):  # gone once renamed; never made when the folder is a file
                temp.unlink()

    def read(self, run_id: str, path: str) -> bytes:
        try:
            return self.file(run_id, path).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ServiceError(404, f"artifact {path[:80]!r} not found in run {run_id}") from None

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
        if not _EXPIRES.fullmatch(expires) or int(expires) < time.time():
            raise ServiceError(403, "the signed URL has expired; ask for a new one with ?url=1")
        expected = self._signature(run_id, path, int(expires), disposition)
        if not hmac.compare_digest(expected, signature):
            raise ServiceError(403, "invalid signature on the artifact URL; ask for a new one with ?url=1")
