"""Files and folders readable by the service's user only, whatever the umask.

The data directory holds private runs, artifacts, keys and the JWT secret: folders are created
0700 and files 0600 (the mode given to `open`/`mkdir` is masked by the umask, hence the chmod).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)


def make_private_dir(path: Path) -> None:
    """Create `path` and its missing parents 0700; an existing folder is left as it is."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue  # another writer made it in between
        os.chmod(folder, 0o700)


def touch_private(path: Path) -> None:
    """Make sure `path` exists and is 0600 (SQLite gives its WAL and shared-memory files the same mode)."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def write_private(path: Path, text: str) -> None:
    """Write a secret file readable by its owner only (created 0600, never world-readable)."""
    make_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def warn_if_shared(path: Path) -> None:
    """A data directory made by someone else (or an older version) may be open to other users: say so."""
    mode = path.stat().st_mode
    if os.name != "nt" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("the data directory %s is accessible to other users (mode %o); run `chmod 700 %s`",
                    path, stat.S_IMODE(mode), path)
