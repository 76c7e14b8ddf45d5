"""The public surface: a sorted `__all__` that exports what the contract names."""

from __future__ import annotations

import mcp_agents.client as client_package
from mcp_agents.client import errors


def test_all_is_sorted_and_importable() -> None:
    assert client_package.__all__ == sorted(client_package.__all__)
    for name in client_package.__all__:
        assert getattr(client_package, name) is not None


def test_error_hierarchy_matches_the_contract() -> None:
    assert issubclass(errors.APITimeoutError, errors.APIConnectionError)
    for name in ("BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError",
                 "ConflictError", "UnprocessableEntityError", "RateLimitError", "ServerError"):
        assert issubclass(getattr(errors, name), errors.APIStatusError)
        assert getattr(client_package, name) is getattr(errors, name)
    for name in ("ConfigurationError", "InvalidRequestError", "APIConnectionError", "APIStatusError"):
        assert issubclass(getattr(errors, name), errors.AgentRunsError)
