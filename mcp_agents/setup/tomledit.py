"""Just enough TOML writing to set one table in a user's file and leave the rest of it untouched.

Reading uses `tomllib`. Writing a whole document back would drop the user's comments and layout,
so `set_table` cuts the old table (and its sub-tables) out of the text and appends the new one,
then re-reads the result to prove that nothing else changed.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_HEADER = re.compile(r"^\s*\[\[?(?P<key>[^\]]+)\]\]?\s*(#.*)?$")
_KEY_PART = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+))\s*(?:\.|$)')


def key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name, ensure_ascii=False)


def value(item: Any) -> str:
    """A TOML value: strings, booleans, numbers, lists and inline tables of those."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, int | float):
        return repr(item)
    if isinstance(item, str):
        return json.dumps(item, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(item, Sequence):
        return "[" + ", ".join(value(element) for element in item) + "]"
    if isinstance(item, Mapping):
        return "{ " + ", ".join(f"{key(k)} = {value(v)}" for k, v in item.items()) + " }"
    raise TypeError(f"cannot write {type(item).__name__} as TOML")


def render_table(path: Sequence[str], table: Mapping[str, Any]) -> str:
    """`[a.b]` with its scalar keys, then one `[a.b.c]` per nested table."""
    lines = [f"[{'.'.join(key(part) for part in path)}]"]
    nested = {name: item for name, item in table.items() if isinstance(item, Mapping)}
    lines += [f"{key(name)} = {value(item)}" for name, item in table.items() if name not in nested]
    text = "\n".join(lines) + "\n"
    for name, item in nested.items():
        text += "\n" + render_table([*path, name], item)
    return text


def _header_path(line: str) -> tuple[str, ...] | None:
    match = _HEADER.match(line)
    if match is None:
        return None
    raw, parts, position = match.group("key"), [], 0
    while position < len(raw):
        part = _KEY_PART.match(raw, position)
        if part is None or part.end() == position:
            return None
        quoted, literal, bare = part.groups()
        parts.append(json.loads(f'"{quoted}"') if quoted is not None else literal if literal is not None else bare)
        position = part.end()
    return tuple(parts)


def remove_table(text: str, path: Sequence[str]) -> str:
    """`text` without the table at `path` and its sub-tables (every other line kept as is)."""
    target, out, skipping = tuple(path), [], False
    for line in text.splitlines(keepends=True):
        header = _header_path(line)
        if header is not None:
            skipping = header[:len(target)] == target
        if not skipping:
            out.append(line)
    return "".join(out)


def set_table(text: str, path: Sequence[str], table: Mapping[str, Any]) -> str:
    """`text` with the table at `path` replaced by `table`; raises ValueError if that cannot be done safely."""
    before = tomllib.loads(text)
    kept = remove_table(text, path).rstrip("\n")
    result = (kept + "\n\n" if kept else "") + render_table(path, table)
    try:
        after = tomllib.loads(result)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"could not update the TOML file safely ({exc}); edit it by hand") from None
    if _without(after, path) != _without(before, path) or _get(after, path) != dict(table):
        raise ValueError(f"[{'.'.join(path)}] is defined in a form this installer does not edit "
                         "(inline table or dotted keys); edit it by hand")
    return result


def _get(document: Mapping[str, Any], path: Sequence[str]) -> Any:
    node: Any = document
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _without(document: Mapping[str, Any], path: Sequence[str]) -> dict[str, Any]:
    copy = json.loads(json.dumps(document, default=str))
    parent = _get(copy, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)
        if not parent and len(path) > 1:
            grand = _get(copy, path[:-2])
            if isinstance(grand, dict):
                grand.pop(path[-2], None)
    return dict(copy)
