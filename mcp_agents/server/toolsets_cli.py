"""List the MCP tools: a Markdown table (README), the schema snapshot, and the token budget.

`mcp-agents tools --markdown` prints the README table, `--snapshot` checks
`tests/server/snapshots/tools.json` (`--write` regenerates it), `--budget` prints the bytes of
the model-facing definitions per toolset.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp.server import MCPServer

from mcp_agents.server.toolsets import TOOLSET_DESCRIPTIONS, ToolSpec, all_specs
from mcp_agents.settings import DEFAULT_TOOLSETS, TOOLSETS, Settings

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "tests" / "server" / "snapshots" / "tools.json"
README = ROOT / "README.md"
README_START, README_END = "<!-- generated:tools -->\n", "<!-- /generated:tools -->"
BUDGET_BYTES = 10_000
REGENERATE = "mcp-agents tools --snapshot --write"
REGENERATE_README = "mcp-agents tools --markdown --write"


def definitions() -> list[dict[str, Any]]:
    """Every tool of every toolset as a client sees it in `tools/list`, plus its toolset."""
    from mcp_agents.server.tools import register_tools

    server: MCPServer[Any] = MCPServer("mcp-agents")
    specs = register_tools(server, Settings(toolsets=TOOLSETS))
    toolset = {spec.name: spec.toolset for spec in specs}
    tools = anyio.run(server.list_tools)
    out: list[dict[str, Any]] = []
    for tool in tools:
        wire = tool.model_dump(mode="json", by_alias=True, exclude_none=True)
        out.append({"name": wire["name"], "toolset": toolset[tool.name], "title": wire.get("title"),
                    "description": wire.get("description"), "inputSchema": wire["inputSchema"],
                    "outputSchema": wire.get("outputSchema"), "annotations": wire.get("annotations")})
    return out


def model_facing_bytes(definition: dict[str, Any]) -> int:
    """What the model reads of a tool: name, description and input schema, as minified JSON."""
    facing = {"name": definition["name"], "description": definition["description"],
              "inputSchema": definition["inputSchema"]}
    return len(json.dumps(facing, separators=(",", ":"), ensure_ascii=False).encode())


def budget(defs: list[dict[str, Any]]) -> dict[str, int]:
    """Bytes per toolset, in `TOOLSETS` order."""
    sizes = dict.fromkeys(TOOLSETS, 0)
    for definition in defs:
        sizes[definition["toolset"]] += model_facing_bytes(definition)
    return sizes


def snapshot_text(defs: list[dict[str, Any]]) -> str:
    return json.dumps(defs, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def first_sentence(text: str) -> str:
    line = " ".join(text.split())
    end = line.find(". ")
    return line if end < 0 else line[: end + 1]


def _hints(spec: ToolSpec) -> str:
    notes = ["read-only" if spec.read_only else "writes"]
    if spec.annotations.destructive_hint:
        notes.append("destructive")
    if spec.annotations.idempotent_hint:
        notes.append("idempotent")
    return ", ".join(notes)


def markdown() -> str:
    """The README tool table, generated from the registry."""
    lines = ["| Toolset | Tool | What it is for | Hints |", "| --- | --- | --- | --- |"]
    for spec in all_specs():
        default = " (default)" if spec.toolset in DEFAULT_TOOLSETS else ""
        lines.append(f"| `{spec.toolset}`{default} | `{spec.name}` | {first_sentence(spec.description)} "
                     f"| {_hints(spec)} |")
    lines.append("")
    lines.extend(f"- `{name}`: {text}" for name, text in TOOLSET_DESCRIPTIONS.items())
    return "\n".join(lines) + "\n"


def readme_table(readme: str) -> str | None:
    """The generated block of the README, or None when its markers are missing."""
    start = readme.find(README_START)
    end = readme.find(README_END, start)
    return None if start < 0 or end < 0 else readme[start + len(README_START):end]


def with_table(readme: str, table: str) -> str:
    start = readme.find(README_START)
    end = readme.find(README_END, start)
    if start < 0 or end < 0:
        raise SystemExit(f"README.md has no {README_START.strip()} ... {README_END} block")
    return readme[: start + len(README_START)] + table + readme[end:]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--markdown", action="store_true", help="print the README tool table")
    parser.add_argument("--snapshot", action="store_true", help=f"check {SNAPSHOT.name} against the code")
    parser.add_argument("--write", action="store_true",
                        help="with --snapshot: regenerate the snapshot; with --markdown: update README.md's table")
    parser.add_argument("--budget", action="store_true", help="print model-facing bytes per toolset")


def run(args: argparse.Namespace) -> int:
    if args.markdown:
        if args.write:
            README.write_text(with_table(README.read_text(encoding="utf-8"), markdown()), encoding="utf-8")
            sys.stderr.write(f"updated the tool table in {README}\n")
        else:
            sys.stdout.write(markdown())
        return 0
    defs = definitions()
    if args.snapshot:
        text = snapshot_text(defs)
        if args.write:
            SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
            SNAPSHOT.write_text(text, encoding="utf-8")
            sys.stderr.write(f"wrote {SNAPSHOT}\n")
            return 0
        if not SNAPSHOT.exists() or SNAPSHOT.read_text(encoding="utf-8") != text:
            sys.stderr.write(f"{SNAPSHOT} differs from the code; if the change is intended run: {REGENERATE}\n")
            return 1
        sys.stderr.write("snapshot up to date\n")
        return 0
    if args.budget:
        sizes = budget(defs)
        for name, size in sizes.items():
            sys.stdout.write(f"{name:10} {size:6} bytes{' (default)' if name in DEFAULT_TOOLSETS else ''}\n")
        default_total = sum(sizes[name] for name in DEFAULT_TOOLSETS)
        sys.stdout.write(f"default    {default_total:6} bytes of {BUDGET_BYTES}\n")
        return 0 if default_total <= BUDGET_BYTES else 1
    for definition in defs:
        sys.stdout.write(f"{definition['toolset']:10} {definition['name']}\n")
    return 0
