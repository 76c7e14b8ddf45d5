"""Fixtures of the local service tests (helpers live in `helpers.py`)."""

from tests.local.helpers import api, multi_service

__all__ = ["api", "multi_service"]
