"""The README's generated parts: the configuration table (from `settings.OPTIONS`, the one table of
settings), the install commands and the MCP Registry ownership marker (from `settings`' names)."""

from __future__ import annotations

import json
import re

from mcp_agents.settings import COMMAND, OPTIONS
from mcp_agents.setup.clients import CLIENTS, Launch, build_entry, merge

BEGIN = "<!-- generated:configuration -->"
END = "<!-- /generated:configuration -->"
INSTALL_BEGIN = "<!-- generated:install -->"
INSTALL_END = "<!-- /generated:install -->"
# PyPI shows the README: the MCP Registry checks this marker to confirm the package is the server's.
MCP_NAME = re.compile(r"<!-- mcp-name: \S+ -->")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def configuration_table() -> str:
    """A Markdown table: environment variable, flag, default, meaning; secrets marked."""
    lines = ["| Environment variable | Flag | Default | Meaning |", "| --- | --- | --- | --- |"]
    for option in OPTIONS:
        env = f"`{option.env}`" if option.env else "—"
        flag = f"`{option.flag}`" if option.flag else "—"
        default = f"`{option.default}`" if option.default else "—"
        secret = " **Secret**: never logged or printed." if option.secret else ""
        lines.append(f"| {env} | {flag} | {_cell(default)} | {_cell(option.help)}{secret} |")
    return "\n".join(lines) + "\n"


def install_block() -> str:
    """The README's install commands and the Claude Desktop entry, exactly as `install` writes it."""
    first, *others = CLIENTS
    desktop = CLIENTS["claude-desktop"]
    entry = merge({}, desktop, build_entry(desktop, "user", Launch.uvx(), secret="sk-...", environ={}))
    commands = [(f"uvx {COMMAND} serve", "the server over stdio: what clients run"),
                (f"uvx {COMMAND} install {first}", f"or: {', '.join(others)}"),
                (f"uvx {COMMAND} doctor", "checks everything end to end, says what to fix")]
    width = max(len(command) for command, _ in commands) + 2
    return (
        "```sh\n" + "".join(f"{command.ljust(width)}# {comment}\n" for command, comment in commands) + "```\n\n"
        "The Claude Desktop entry, for reference:\n\n"
        "```json\n" + json.dumps(entry, indent=2) + "\n```\n"
    )


def replace_block(document: str, body: str, begin: str = BEGIN, end_marker: str = END) -> str:
    """`document` with the text between the `begin` and `end_marker` lines replaced by `body`."""
    start, end = document.find(begin), document.find(end_marker)
    if start < 0 or end < start:
        raise ValueError(f"README has no {begin} ... {end_marker} block")
    return document[:start + len(begin)] + "\n" + body + document[end:]


def set_registry_name(document: str, name: str) -> str:
    """`document` with its `<!-- mcp-name: ... -->` marker naming `name`."""
    if not MCP_NAME.search(document):
        raise ValueError("README has no <!-- mcp-name: ... --> marker")
    return MCP_NAME.sub(f"<!-- mcp-name: {name} -->", document, count=1)


def current_block(document: str) -> str:
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {BEGIN} ... {END} block")
    return document[start + len(BEGIN):end].lstrip("\n")
