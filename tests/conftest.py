"""Shared test set-up. Async tests run on asyncio through anyio's plugin (`anyio_mode = "auto"` in pyproject)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mcp_agents.local import RunningService


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def local_service(tmp_path: Path, anyio_backend: str) -> AsyncIterator[RunningService]:
    """A local Agent Runs service on a free loopback port, with its own data dir and a 0.2 s SSE heartbeat."""
    from mcp_agents.local import LocalServiceConfig, run_local_service

    config = LocalServiceConfig(data_dir=tmp_path / "local-service", heartbeat_seconds=0.2)
    async with run_local_service(config) as service:
        yield service
