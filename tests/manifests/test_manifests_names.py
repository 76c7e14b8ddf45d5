"""Every install path names only the package we publish (`mcp-agent-runs`; PyPI's `mcp-agents` is another
project's): the client files, the registry entry, the bundle, the image and every command in the README."""

from __future__ import annotations

import json
import re
import shlex
import tomllib

import pytest
from manifest_support import MANIFESTS, ROOT

from mcp_agents.settings import COMMAND, COMMAND_ALIAS, DISTRIBUTION
from mcp_agents.setup.clients import CLIENTS, find_entry

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PUBLISHED = {PYPROJECT["project"]["name"]}
# Third-party tools a command may name besides ours.
TOOLS = {"pip", "uv"}
# `<installer> ... <package>`: the word after these is a package (flags are skipped).
INSTALLERS = (("uvx",), ("pipx", "install"), ("pipx", "run"), ("pip", "install"), ("uv", "tool", "install"),
              ("uv", "tool", "run"), ("uv", "pip", "install"), ("uv", "add"))
FLAGS_WITH_VALUE = {"--python", "-p", "--with", "--index-url", "-i", "--find-links", "-f", "--constraint", "-c"}


def _package(word: str) -> str:
    """`name[extra]==1.0` -> `name`; a local path stays as written."""
    word = word.strip("'\"`")
    return re.split(r"[\[<>=!~; ]", word, maxsplit=1)[0]


def _is_path(word: str) -> bool:
    return word.startswith((".", "/", "~")) or word.endswith((".whl", ".tar.gz"))


def packages_in(line: str) -> list[str]:
    """The packages a shell line installs or runs (`uvx --from a b` names a)."""
    try:
        words = shlex.split(line, comments=True)
    except ValueError:
        words = line.split()
    words = [word.rsplit("/", 1)[-1] if word.endswith(("/pip", "/uvx", "/pipx", "/uv")) else word for word in words]
    found: list[str] = []
    for index in range(len(words)):
        for installer in INSTALLERS:
            if tuple(words[index:index + len(installer)]) != installer:
                continue
            rest = words[index + len(installer):]
            position = 0
            while position < len(rest) and rest[position].startswith("-"):
                flag = rest[position]
                if flag == "--from" and position + 1 < len(rest):
                    found.append(_package(rest[position + 1]))
                position += 2 if flag in FLAGS_WITH_VALUE | {"--from"} else 1
            if position < len(rest) and not _is_path(rest[position]) and "--from" not in rest[:position]:
                found.append(_package(rest[position]))
    return found


def _readme_commands() -> list[str]:
    """Every line of the README's shell blocks and every inline `code` span."""
    text = (ROOT / "README.md").read_text()
    lines = [line for block in re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, re.S)
             for line in block.splitlines()]
    return lines + re.findall(r"`([^`\n]+)`", text)


def _shipped_text_lines() -> list[str]:
    lines: list[str] = []
    for path in sorted(MANIFESTS.rglob("*")):
        if path.is_file() and path.suffix not in {".png"}:
            lines.extend(path.read_text().splitlines())
    return lines


def test_the_distribution_and_its_commands() -> None:
    assert PYPROJECT["project"]["name"] == DISTRIBUTION == COMMAND
    scripts = PYPROJECT["project"]["scripts"]
    assert scripts[COMMAND] == scripts[COMMAND_ALIAS] == "mcp_agents.cli:main"
    assert DISTRIBUTION != "mcp-agents"  # PyPI's mcp-agents is an unrelated project


@pytest.mark.parametrize("line", ["uvx mcp-agents serve", "pip install mcp-agents", "pipx install 'mcp-agents[x]'",
                                  "uvx --from mcp-agents mcp-agent-runs serve", "uv tool install mcp-agents==1",
                                  ".venv/bin/pip install -U mcp-agents"])
def test_the_scanner_sees_a_foreign_package(line: str) -> None:
    assert "mcp-agents" in packages_in(line)


def test_the_scanner_ignores_local_paths_and_other_words() -> None:
    assert packages_in("python3 -m venv .venv && .venv/bin/pip install '.[test]' && pytest") == []
    assert packages_in("RUN pip install /src && rm -rf /src") == []
    assert packages_in("mcp-agents serve --transport http") == []


def test_readme_and_shipped_files_name_only_our_package() -> None:
    named = {(package, line.strip()) for line in _readme_commands() + _shipped_text_lines()
             for package in packages_in(line)}
    foreign = sorted(item for item in named if item[0] not in PUBLISHED | TOOLS)
    assert foreign == []
    assert (DISTRIBUTION, f"uvx {COMMAND} serve") in named


def test_client_files_registry_and_bundle_run_our_package() -> None:
    for client in CLIENTS.values():
        text = (MANIFESTS / "clients" / client.sample).read_text()
        entry = find_entry(tomllib.loads(text) if client.format == "toml" else json.loads(text), client)
        assert entry is not None and entry["command"] == "uvx", client.name
        assert packages_in(shlex.join(["uvx", *entry["args"]])) == [DISTRIBUTION], client.name
    server = json.loads((MANIFESTS / "server.json").read_text())
    assert {package["identifier"] for package in server["packages"]} == PUBLISHED
    bundle = tomllib.loads((MANIFESTS / "mcpb" / "pyproject.toml").read_text())["project"]
    assert {_package(item) for item in bundle["dependencies"]} <= PUBLISHED


def test_the_image_runs_our_command() -> None:
    dockerfile = (MANIFESTS / "docker" / "Dockerfile").read_text()
    assert f'ENTRYPOINT ["{COMMAND}"]' in dockerfile
    images = re.findall(r"^\s*image: (\S+)$", (MANIFESTS / "k8s" / "deployment.yaml").read_text(), re.M)
    assert images and all(image.split("/")[-1].split(":")[0] == DISTRIBUTION for image in images)

