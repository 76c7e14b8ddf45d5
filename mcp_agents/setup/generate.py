"""Regenerate (or, with --check, verify) the files derived from the code: `manifests/` and the
README's generated parts. Run from a checkout: `python -m mcp_agents.setup.generate [--check]`.

A release published under another MCP Registry namespace passes `--registry-namespace` (or sets
MCP_AGENTS_REGISTRY_NAMESPACE): `server.json` and the README's `mcp-name` marker follow it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mcp_agents.settings import REGISTRY_NAMESPACE
from mcp_agents.setup import manifests, readme

ROOT = Path(__file__).resolve().parents[2]


def expected(root: Path, namespace: str = REGISTRY_NAMESPACE) -> dict[Path, str]:
    """Every generated file's path and wanted content."""
    files = {root / "manifests" / name: text for name, text in manifests.generated_files(namespace).items()}
    for name, stamp in manifests.STAMPED.items():
        path = root / "manifests" / name
        if path.exists():  # hand-written files: only their names are generated
            files[path] = stamp(path.read_text(encoding="utf-8"))
    readme_path = root / "README.md"
    document = readme.replace_block(readme_path.read_text(encoding="utf-8"), readme.configuration_table())
    document = readme.replace_block(document, readme.install_block(),
                                    readme.INSTALL_BEGIN, readme.INSTALL_END)
    files[readme_path] = readme.set_registry_name(document, manifests.registry_name(namespace))
    return files


def stale(root: Path, namespace: str = REGISTRY_NAMESPACE) -> list[Path]:
    """The generated files whose content differs from what the code generates."""
    return [path for path, text in expected(root, namespace).items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mcp_agents.setup.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a generated file is out of date")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this one)")
    parser.add_argument("--registry-namespace", default=os.environ.get("MCP_AGENTS_REGISTRY_NAMESPACE")
                        or REGISTRY_NAMESPACE, help="MCP Registry namespace of the release (default: "
                        f"$MCP_AGENTS_REGISTRY_NAMESPACE or {REGISTRY_NAMESPACE})")
    args = parser.parse_args(argv)
    if not (args.root / "README.md").exists():
        print(f"{args.root} is not a checkout of mcp-agents (no README.md)", file=sys.stderr)
        return 2
    try:
        manifests.registry_name(args.registry_namespace)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    outdated = stale(args.root, args.registry_namespace)
    if args.check:
        for path in outdated:
            print(f"out of date: {path.relative_to(args.root)}", file=sys.stderr)
        if outdated:
            print("run: python -m mcp_agents.setup.generate", file=sys.stderr)
        return 1 if outdated else 0
    for path, text in expected(args.root, args.registry_namespace).items():
        if path in outdated:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(args.root)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
