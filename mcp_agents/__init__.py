"""mcp-agents: the Agent Runs API as MCP tools, resources and live progress."""

__version__ = "0.1.0"
__all__ = ["__version__"]
