"""Every URL of the Agent Runs API, in one place, shared by the client and the local service.

Templates use `{name}` placeholders; `{path}` may hold slashes (nested artifact paths).
"""

from __future__ import annotations

API_PREFIX = "/api/v1"
API_VERSION = "20260803"
TOKEN_ISSUE = "/token/issue"

RUNS = "/agents"
SEARCH = "/agents/search"
RUN = "/agents/{run_id}"
RESTART = "/agents/{run_id}/restart"
FORK = "/agents/{run_id}/fork"
SIGNAL = "/agents/{run_id}/signal/{name}"
QUERY = "/agents/{run_id}/query/{name}"
UPDATES = "/agents/{run_id}/updates"
STREAM = "/agents/{run_id}/stream"
ARTIFACTS = "/agents/{run_id}/artifacts"
ARTIFACT = "/agents/{run_id}/artifacts/{path}"
INTERNALS = "/agents/{run_id}/internals"
DETAILS = "/agents/{run_id}/details"
CHILDREN = "/agents/{run_id}/children"
EVENTS = "/agents/{run_id}/events"
ANALYTICS = "/agents/analytics/{report}"
INTERACTIONS = "/interactions"
INTERACTION = "/interactions/{interaction_id}"
