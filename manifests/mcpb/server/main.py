"""Entry point of the MCP Bundle: `uv run` installs the pinned mcp-agents (see ../pyproject.toml)
and this starts its stdio server; settings arrive as environment variables from the host."""

import sys

from mcp_agents.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["serve", *sys.argv[1:]]))
