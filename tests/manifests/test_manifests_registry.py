"""manifests/server.json: a valid MCP Registry entry that tells the truth about this package."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
from manifest_support import MANIFESTS

from mcp_agents import __version__
from mcp_agents.settings import DISTRIBUTION, OPTIONS, REGIONS
from mcp_agents.setup import manifests

SCHEMA = json.loads((Path(__file__).parent / "server_schema.json").read_text())


def _load() -> dict[str, Any]:
    return json.loads((MANIFESTS / "server.json").read_text())


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def test_server_json_is_valid_against_the_registry_rules() -> None:
    errors = [f"{'/'.join(map(str, error.path))}: {error.message}" for error in _validator().iter_errors(_load())]
    assert errors == []


def test_the_schema_refuses_what_the_registry_refuses() -> None:
    document = _load()
    bad = [
        {**document, "description": "x" * 101},
        {**document, "name": "mcp-agents"},
        {**document, "version": "latest"},
        {**document, "packages": [{**document["packages"][0], "runtime_hint": "uvx"}]},
        {**document, "remotes": [{**document["remotes"][0], "url": "ftp://example.com"}]},
    ]
    for item in bad:
        assert not _validator().is_valid(item)


def test_versions_are_the_package_version() -> None:
    document = _load()
    assert document["version"] == __version__
    assert [package["version"] for package in document["packages"]] == [__version__]


def test_the_package_runs_the_stdio_server_with_uvx() -> None:
    (package,) = _load()["packages"]
    assert (package["registryType"], package["identifier"], package["runtimeHint"]) == ("pypi", DISTRIBUTION, "uvx")
    assert _load()["name"].endswith("/" + DISTRIBUTION)
    assert package["transport"] == {"type": "stdio"}
    assert [argument["value"] for argument in package["packageArguments"]] == ["serve"]


def test_every_stdio_setting_is_declared_with_its_secrecy() -> None:
    (package,) = _load()["packages"]
    declared = {item["name"]: item for item in package["environmentVariables"]}
    expected = {option.env: option for option in OPTIONS if option.env and not manifests.http_only(option)}
    assert set(declared) == set(expected)
    for name, option in expected.items():
        assert declared[name]["isSecret"] is option.secret, name
        assert declared[name]["description"], name
    assert declared["VERTESIA_API_KEY"]["isSecret"] and declared["VERTESIA_TOKEN"]["isSecret"]
    assert declared["VERTESIA_REGION"]["choices"] == list(REGIONS)


def test_the_remote_template_is_streamable_http_with_a_secret_bearer() -> None:
    (remote,) = _load()["remotes"]
    assert remote["type"] == "streamable-http"
    assert remote["url"].startswith("https://{host}/")
    (header,) = remote["headers"]
    assert header["name"] == "Authorization" and header["isSecret"] is True
    assert header["variables"]["api_key"]["isSecret"] is True
