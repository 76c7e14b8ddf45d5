"""Serve the MCP server: stdio (default) or streamable HTTP (`--transport http`)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

import anyio

from mcp_agents.settings import OPTIONS, Settings

logger = logging.getLogger(__name__)

# Settings whose flag is a switch (present = true) rather than a value.
SWITCHES = frozenset({"read_only", "stateless", "local_allow_loopback_webhooks", "local_bursts"})
HTTP_ONLY = ("http_auth", "stateless", "allowed_hosts", "allowed_origins", "request_state_key",
             "forwarded_allow_ips")


def configure(parser: argparse.ArgumentParser) -> None:
    """Every flag comes from `settings.OPTIONS`; its help names the environment variable too."""
    for option in OPTIONS:
        if option.flag is None:
            continue
        env = f" [env {option.env}]" if option.env else ""
        if option.name in SWITCHES:
            parser.add_argument(option.flag, dest=option.name, action="store_true", default=None,
                                help=f"{option.help}{env}")
        else:
            default = "" if option.secret or not option.default else f" (default: {option.default})"
            parser.add_argument(option.flag, dest=option.name, default=None, metavar=option.name.upper(),
                                help=f"{option.help}{default}{env}".replace("%", "%%"))


def run(args: argparse.Namespace) -> int:
    from mcp_agents.server.http import HttpConfigError, HttpOptions

    values = {option.name: getattr(args, option.name, None) for option in OPTIONS if option.flag}
    try:
        settings = Settings.load(**{k: v for k, v in values.items() if k not in HTTP_ONLY})
        http_options = HttpOptions.load(os.environ, **{k: values.get(k) for k in HTTP_ONLY})
    except ValueError as exc:
        print(f"mcp-agents serve: {exc}", file=sys.stderr)
        return 2
    logging.getLogger().setLevel(getattr(logging, settings.log_level.upper(), logging.WARNING))

    from mcp_agents.server.app import build_server

    if settings.transport == "stdio":
        anyio.run(build_server(settings).run_stdio_async)
        return 0
    from mcp_agents.server.http import check_bind, serve_http

    try:
        check_bind(settings, http_options)
    except HttpConfigError as exc:
        print(f"mcp-agents serve: {exc}", file=sys.stderr)
        return 2
    anyio.run(serve_http, build_server(settings, http=http_options), settings, http_options)
    return 0
