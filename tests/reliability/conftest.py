"""Fixtures of the reliability tests: the multi-principal local service is shared with the local tests."""

from tests.local.helpers import multi_service

__all__ = ["multi_service"]
