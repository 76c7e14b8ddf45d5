"""Regenerate (or, with --check, verify) the files derived from the code: `manifests/` and the
README's configuration table. Run from a checkout: `python -m mcp_agents.setup.generate [--check]`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from mcp_agents.setup import manifests, readme

ROOT = Path(__file__).resolve().parents[2]


def expected(root: Path) -> dict[Path, str]:
    """Every generated file's path and wanted content."""
    files = {root / "manifests" / name: text for name, text in manifests.generated_files().items()}
    readme_path = root / "README.md"
    files[readme_path] = readme.replace_block(readme_path.read_text(encoding="utf-8"), readme.configuration_table())
    return files


def stale(root: Path) -> list[Path]:
    """The generated files whose content differs from what the code generates."""
    return [path for path, text in expected(root).items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mcp_agents.setup.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a generated file is out of date")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (default: this one)")
    args = parser.parse_args(argv)
    if not (args.root / "README.md").exists():
        print(f"{args.root} is not a checkout of mcp-agents (no README.md)", file=sys.stderr)
        return 2
    outdated = stale(args.root)
    if args.check:
        for path in outdated:
            print(f"out of date: {path.relative_to(args.root)}", file=sys.stderr)
        if outdated:
            print("run: python -m mcp_agents.setup.generate", file=sys.stderr)
        return 1 if outdated else 0
    for path, text in expected(args.root).items():
        if path in outdated:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(args.root)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
