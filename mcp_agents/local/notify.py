"""`notify_endpoints`: POST the finished run to each URL, with bounded retries and timeouts.

Uses urllib in a worker thread: `local/` does not share the API client's HTTP stack.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.error
import urllib.request
from typing import Any

import anyio.to_thread

from mcp_agents.local.config import NOTIFY_ATTEMPTS, NOTIFY_BACKOFF_SECONDS, NOTIFY_TIMEOUT_SECONDS

log = logging.getLogger(__name__)


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "mcp-agents-local"})
    with urllib.request.urlopen(request, timeout=NOTIFY_TIMEOUT_SECONDS) as answer:  # http(s) only: checked at create
        return int(answer.status)


async def notify(urls: list[str], run: dict[str, Any]) -> None:
    body = json.dumps({"event": "agent_run.finished", "run": run}).encode()
    for url in urls:
        for attempt in range(1, NOTIFY_ATTEMPTS + 1):
            try:
                status = await anyio.to_thread.run_sync(_post, url, body)
                if status < 500:
                    break
            except (urllib.error.URLError, OSError, ValueError) as exc:
                status = getattr(exc, "code", 0)
                if isinstance(exc, urllib.error.HTTPError) and exc.code < 500:
                    break
            if attempt < NOTIFY_ATTEMPTS:
                await asyncio.sleep(NOTIFY_BACKOFF_SECONDS * 2 ** (attempt - 1))
            else:
                log.warning("notify endpoint failed after %d attempts (last status %s) for run %s",
                            NOTIFY_ATTEMPTS, status, run.get("id"))
