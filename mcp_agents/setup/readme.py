"""The README's configuration table, generated from `settings.OPTIONS` (the one table of settings)."""

from __future__ import annotations

from mcp_agents.settings import OPTIONS

BEGIN = "<!-- generated:configuration -->"
END = "<!-- /generated:configuration -->"


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


def replace_block(document: str, body: str) -> str:
    """`document` with the text between the generated-configuration markers replaced by `body`."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {BEGIN} ... {END} block")
    return document[:start + len(BEGIN)] + "\n" + body + document[end:]


def current_block(document: str) -> str:
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"README has no {BEGIN} ... {END} block")
    return document[start + len(BEGIN):end].lstrip("\n")
