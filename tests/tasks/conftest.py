"""Task tests: a local service process and three HTTP replicas sharing the task key (see test_tasks_node.py)."""

from __future__ import annotations

from tests.e2e.conftest import service

__all__ = ["service"]
