"""Run the embedded local Agent Runs service (SQLite, built-in Echo and Demo agents)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path

from mcp_agents.local.config import LIMIT_NAMES, LocalServiceConfig
from mcp_agents.local.keys import DEV_KEY_FILE
from mcp_agents.local.private import write_private
from mcp_agents.local.service import run_local_service
from mcp_agents.models.hosted import WIRES
from mcp_agents.settings import OPTION_BY_NAME, Settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="Address to bind (default 127.0.0.1).")
    parser.add_argument("--port", type=int, default=None, help="Port (default 8787; 0 = a free port).")
    parser.add_argument("--data-dir", default=None, help="Data directory (env MCP_AGENTS_DATA_DIR).")
    parser.add_argument("--api-key", default=None, help="Development API key to accept instead of a generated one "
                        "(env MCP_AGENTS_LOCAL_API_KEY).")
    parser.add_argument("--allow-loopback-webhooks", action="store_true", default=None,
                        help="Let notify_endpoints reach loopback addresses, for local development "
                        "(env MCP_AGENTS_LOCAL_ALLOW_LOOPBACK_WEBHOOKS).")
    parser.add_argument("--keys-file", default=None, help="JSON file of extra API keys (default <data-dir>/keys.json).")
    parser.add_argument("--interactions", default="", help="Comma-separated `module:attribute` interaction sources.")
    parser.add_argument("--heartbeat", type=float, default=15.0, help="Seconds between SSE heartbeat comments.")
    parser.add_argument("--ready-file", default=None, help="Write {base_url, sts_url, pid} JSON here once listening.")
    parser.add_argument("--wire", default=None, choices=WIRES, help="Wire format: seed (default) or hosted, the "
                        "hosted service's shapes and strict validation (env MCP_AGENTS_LOCAL_WIRE).")
    parser.add_argument("--log-level", default=None, help="Log level on stderr (default warning).")
    bursts = OPTION_BY_NAME["local_bursts"]
    parser.add_argument(bursts.flag or "--bursts", dest="bursts", action="store_true", default=None,
                        help=f"{bursts.help} [env {bursts.env}]")
    for name in LIMIT_NAMES:
        option = OPTION_BY_NAME[f"local_{name}"]
        parser.add_argument(option.flag or f"--{name}", dest=option.name, default=None, metavar=name.upper(),
                            help=f"{option.help} (default: {option.default}) [env {option.env}]")


DEFAULT_PORT = 8787


def run(args: argparse.Namespace) -> int:
    try:
        settings = Settings.load(data_dir=args.data_dir, local_api_key=args.api_key,
                                 local_allow_loopback_webhooks=args.allow_loopback_webhooks, local_wire=args.wire,
                                 local_bursts=args.bursts,
                                 **{f"local_{name}": getattr(args, f"local_{name}") for name in LIMIT_NAMES})
    except ValueError as exc:
        print(f"mcp-agents local: {exc}", file=sys.stderr)
        return 2
    config = LocalServiceConfig(
        data_dir=settings.data_dir, host=args.host or "127.0.0.1",
        port=DEFAULT_PORT if args.port is None else args.port, api_key=settings.local_api_key or None,
        keys_file=Path(args.keys_file).expanduser() if args.keys_file else None,
        interactions=tuple(item.strip() for item in args.interactions.split(",") if item.strip()),
        heartbeat_seconds=args.heartbeat, allow_loopback_webhooks=settings.local_allow_loopback_webhooks,
        wire=settings.local_wire,
        bursts=settings.local_bursts, **settings.local_limits(),
    )
    return asyncio.run(_serve(config, Path(args.ready_file) if args.ready_file else None))


async def _serve(config: LocalServiceConfig, ready_file: Path | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: no loop signal handlers; Ctrl-C still stops
            loop.add_signal_handler(sig, stop.set)
    async with run_local_service(config) as service:
        sys.stderr.write(
            f"mcp-agents local: serving the Agent Runs API at {service.base_url}\n"
            f"  data directory: {service.data_dir}\n"
            f"  get a token:    curl -X POST {service.sts_url}/token/issue -H 'Content-Type: application/json' "
            f"-d '{{\"type\": \"apikey\", \"key\": \"<your key>\"}}'\n"
            f"  use it from mcp-agents: VERTESIA_API_URL={service.base_url} VERTESIA_STS_URL={service.sts_url} "
            f"VERTESIA_API_KEY=<your key>\n"
            + ("" if config.api_key else f"  development key file: {service.data_dir / DEV_KEY_FILE}\n")
        )
        sys.stderr.flush()
        if ready_file is not None:
            write_private(ready_file, json.dumps({"base_url": service.base_url, "sts_url": service.sts_url,
                                                  "pid": os.getpid()}))
        await stop.wait()
    return 0
