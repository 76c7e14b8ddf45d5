"""The processes of the end-to-end tests: the local service and `mcp-agents serve`, always stopped."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from tests.support.processes import clean_env
from tests.support.processes import start_http_server as start_server


@dataclass(frozen=True)
class Service:
    base_url: str
    sts_url: str
    api_key: str  # the development key (the servers' own credential)
    alice_key: str
    bob_key: str

    def env(self, **extra: str) -> dict[str, str]:
        """Environment of an `mcp-agents serve` pointed at this service."""
        own = {"VERTESIA_API_URL": self.base_url, "VERTESIA_API_KEY": self.api_key, "VERTESIA_STS_URL": self.sts_url,
               "MCP_AGENTS_LOG_LEVEL": "warning", "PYTHONUNBUFFERED": "1"}
        return clean_env(**{**own, **extra})


@dataclass(frozen=True)
class HttpServer:
    url: str  # the MCP endpoint
    root: str


def start_http_server(service: Service, *flags: str) -> tuple[subprocess.Popen[bytes], HttpServer]:
    process, root = start_server(service.env(), *flags)
    return process, HttpServer(f"{root}/mcp", root)
