"""Every timeout, retry and stream number of the client, in one place (no magic numbers in methods)."""

from __future__ import annotations

from mcp_agents import __version__

DEFAULT_TIMEOUT = 30.0
"""Seconds for one ordinary request (connect, read, write, pool each)."""
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 4
"""Retries after the first attempt, so at most five attempts per call."""

RETRY_BASE_DELAY = 0.5
RETRY_MAX_DELAY = 8.0
RETRY_JITTER = 0.25
"""Fraction of each delay drawn at random, so that many clients do not retry in lockstep."""
RETRY_MAX_TOTAL = 60.0
"""Seconds a single call may spend retrying, whatever the attempt count."""
RETRY_AFTER_MAX = 60.0
"""A `Retry-After` longer than this is not waited for: the error is raised instead."""
RETRYABLE_STATUS = frozenset({429, 502, 503, 504})

TOKEN_REFRESH_MARGIN = 60.0
"""Seconds before a JWT's expiry at which a new one is fetched."""
TOKEN_DEFAULT_TTL = 3600.0
"""Lifetime assumed for a token whose expiry cannot be read."""

STREAM_READ_TIMEOUT = 45.0
"""Read timeout of the SSE connection: longer than the service's heartbeat interval, so silence means dead."""
STREAM_BASE_DELAY = 1.0
STREAM_MAX_DELAY = 30.0
STREAM_JITTER = 0.1
STREAM_MAX_ATTEMPTS = 10
STREAM_STABLE_AFTER = 5.0
"""A connection that stayed up this long resets the reconnect counter."""
STREAM_POLL_INTERVAL = 5.0
STREAM_SSE_RETRY_INTERVAL = 60.0
STREAM_HANDOFF_MARGIN_MS = 2000
"""With no history, the stream starts this long before the history request did: a message stamped just
before it but stored just after (commit lag, clock skew) is still delivered. Costs nothing: with no
history seen, whatever the stream sends is new."""

USER_AGENT = f"mcp-agents/{__version__}"
STREAM_MAX_POLL_FAILURES = 60
"""Consecutive failed polls (about five minutes at the default interval) before the stream gives up."""
POOL_CONNECTIONS = 3000
"""Connections of the pool shared by every credential (two thirds at most hold event streams). Large on
purpose: every followed run holds one event stream for the life of its wait, and a socket to the API
costs a file descriptor and a few KB, while a cap below the number of waits makes waits queue for a
connection. Fairness comes from each credential's share (`CALLER_*`), not from a small pool."""
POOL_KEEPALIVE = 200
"""Idle connections kept open for reuse (many callers' short requests, without a new TLS handshake each)."""
CALLER_REQUESTS = 16
"""Requests one credential may have in flight at once."""
CALLER_STREAMS = 16
"""Event streams one credential may hold at once; more runs are followed by polling."""
CALLER_QUEUE_SECONDS = 30.0
"""How long a request waits for one of its credential's request slots before `CallerBusyError`."""
