"""The `mcp-agent-runs` command (alias `mcp-agents`): one subcommand per feature.

Each subcommand is defined in the module that owns it: a command module exposes `configure(parser)`
and `run(args) -> int`; its first docstring line is its help. Modules are imported only when their
command runs (or for `--help`), so `serve` starts without loading the benchmark or installer code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence
from types import ModuleType

from mcp_agents import __version__
from mcp_agents.settings import COMMAND, DISTRIBUTION

COMMANDS: dict[str, str] = {
    "serve": "mcp_agents.server.cli",
    "demo": "mcp_agents.server.demo",
    "local": "mcp_agents.local.cli",
    "tools": "mcp_agents.server.toolsets_cli",
    "install": "mcp_agents.setup.install",
    "doctor": "mcp_agents.setup.doctor",
    "bench": "mcp_agents.bench.cli",
}


def _load(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(COMMANDS[name])
    except ModuleNotFoundError as exc:
        if exc.name and COMMANDS[name].startswith(exc.name):
            return None  # the command is not part of this build
        raise


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"{DISTRIBUTION} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if only is not None and name != only:
            sub.add_parser(name, add_help=False)
            continue
        module = _load(name)
        if module is None:
            continue
        doc = (module.__doc__ or name).strip().splitlines()[0]
        command = sub.add_parser(name, help=doc, description=doc)
        module.configure(command)
        command.set_defaults(_module=module)
    return parser


def configure_logging(level: str) -> None:
    """Logs go to stderr only: on stdio, stdout carries nothing but protocol."""
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.WARNING),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    chosen = next((arg for arg in args_list if not arg.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    args = parser.parse_args(args_list)
    if getattr(args, "_module", None) is None:
        if args.command:  # listed but not loadable: a broken install
            parser.error(f"command {args.command!r} is not available in this build")
        parser.print_help(sys.stderr)
        return 2
    configure_logging(getattr(args, "log_level", None) or "warning")
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
