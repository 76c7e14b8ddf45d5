"""Log records of the HTTP stack without signed URLs or credentials.

httpx2 logs every request's full URL at INFO (`HTTP Request: PUT https://...?...&Signature=...`);
a signed storage URL carries its signature in the query, and the stream URL may carry a token.
A filter on the HTTP loggers rewrites each record with URLs cut at the path and secrets scrubbed,
so no handler (ours or an embedding application's) ever sees them.
"""

from __future__ import annotations

import logging
import re

from mcp_agents.client.errors import redact

HTTP_LOGGERS = ("httpx2", "httpcore2", "httpcore2.connection", "httpcore2.connection_pool", "httpcore2.http11",
                "httpcore2.http2", "httpcore2.proxy", "httpcore2.socks")
_URL_QUERY = re.compile(r"(https?://[^\s?#\"'<>]*)[?#][^\s\"'<>]*")


def scrub(text: str) -> str:
    """`text` with the query and fragment of every URL dropped and credentials redacted."""
    return redact(_URL_QUERY.sub(r"\1", text))


class RedactingFilter(logging.Filter):
    """Formats the record once, scrubbed; the record then carries no arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep only its template
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        return True


_FILTER = RedactingFilter()


def install() -> None:
    """Attach the filter to the HTTP stack's loggers (idempotent)."""
    for name in HTTP_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
