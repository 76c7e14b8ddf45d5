"""The distribution manifests, built from `settings` (options and names) and the client table so that
they cannot drift from the code: the MCP Registry entry (`server.json`), the MCP Bundle manifest, the
ready client configurations under `manifests/clients/`, and the names stamped into the Dockerfile and the
Kubernetes Deployment. `python -m mcp_agents.setup.generate` writes them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from mcp_agents import __version__
from mcp_agents.settings import COMMAND, DISTRIBUTION, OPTIONS, REGIONS, REGISTRY_NAMESPACE, Option
from mcp_agents.setup import tomledit
from mcp_agents.setup.clients import CLIENTS, SERVER_NAME, Client, Launch, Scope, build_entry, merge

REGISTRY_SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
REPOSITORY_URL = "https://github.com/vertesia/mcp-agents"
DESCRIPTION = "Delegate work to AI agents: start, follow live, answer and collect Agent Runs."
HTTP_PATH = "/mcp"
IMAGE = f"ghcr.io/vertesia/{DISTRIBUTION}"
TITLE = f"Agent Runs ({DISTRIBUTION})"
# Settings that only matter to `mcp-agents serve --transport http`, not to a stdio package: the
# listener itself, and every option whose help starts with "HTTP:" (the convention of settings.OPTIONS).
HTTP_LISTENER = frozenset({"transport", "host", "port"})
FORMATS = {"read_only": "boolean", "local_allow_loopback_webhooks": "boolean", "timeout": "number",
           "data_dir": "filepath"}
LOG_LEVELS = ("debug", "info", "warning", "error")
CHOICES: dict[str, tuple[str, ...]] = {"region": REGIONS, "log_level": LOG_LEVELS}
SAMPLE_SCOPES: dict[str, Scope] = {
    "claude-desktop": "user", "claude-code": "project", "vscode": "project",
    "cursor": "project", "codex": "project", "gemini": "project",
}


def plain(text: str) -> str:
    """Help text without Markdown code marks (registry and bundle UIs show plain text)."""
    return text.replace("`", "")


def http_only(option: Option) -> bool:
    return option.name in HTTP_LISTENER or option.help.startswith("HTTP:")


def stdio_options() -> list[Option]:
    """The options a stdio package can be configured with: every one with an environment variable."""
    return [option for option in OPTIONS if option.env and not http_only(option)]


def environment_variable(option: Option) -> dict[str, Any]:
    assert option.env is not None
    default = f" Default: {option.default}." if option.default else ""
    item: dict[str, Any] = {"name": option.env, "description": plain(option.help) + default,
                            "isRequired": False, "isSecret": option.secret}
    if option.name in FORMATS:
        item["format"] = FORMATS[option.name]
    if option.name in CHOICES:
        item["choices"] = list(CHOICES[option.name])
    return item


def registry_name(namespace: str = REGISTRY_NAMESPACE) -> str:
    """The MCP Registry name: the publisher's namespace, then the PyPI distribution's name."""
    if not re.fullmatch(r"[a-zA-Z0-9.-]+", namespace):
        raise ValueError(f"registry namespace {namespace!r} must be a reverse-DNS name such as io.github.<owner>")
    return f"{namespace}/{DISTRIBUTION}"


def server_json(namespace: str = REGISTRY_NAMESPACE) -> dict[str, Any]:
    """The official MCP Registry entry: the PyPI package run with uvx over stdio, and a remote template."""
    return {
        "$schema": REGISTRY_SCHEMA,
        "name": registry_name(namespace),
        "title": TITLE,
        "description": DESCRIPTION,
        "version": __version__,
        "repository": {"url": REPOSITORY_URL, "source": "github"},
        "packages": [{
            "registryType": "pypi",
            "registryBaseUrl": "https://pypi.org",
            "identifier": DISTRIBUTION,
            "version": __version__,
            "runtimeHint": "uvx",
            "transport": {"type": "stdio"},
            "packageArguments": [{"type": "positional", "value": "serve",
                                  "description": "The stdio MCP server (the package's other commands are tools)."}],
            "environmentVariables": [environment_variable(option) for option in stdio_options()],
        }],
        "remotes": [{
            "type": "streamable-http",
            "url": "https://{host}" + HTTP_PATH,
            "variables": {"host": {
                "description": f"Host name of your team's deployment ({COMMAND} serve --transport http).",
                "isRequired": True, "placeholder": "mcp-agents.example.com"}},
            "headers": [{
                "name": "Authorization",
                "description": "Your own Vertesia API key or JWT, passed through to the Agent Runs API for your "
                               "requests only.",
                "value": "Bearer {api_key}", "isRequired": True, "isSecret": True,
                "variables": {"api_key": {"description": "Vertesia API key (sk-...) or JWT",
                                          "isRequired": True, "isSecret": True}},
            }],
        }],
    }


MCPB_USER_CONFIG: dict[str, dict[str, Any]] = {
    "api_key": {"type": "string", "title": "Vertesia API key", "sensitive": True, "required": False,
                "description": "Your API key (sk-...). Leave empty to use the embedded local Agent Runs service."},
    "region": {"type": "string", "title": "Region", "required": False, "default": "",
               "description": f"Regional host: one of {', '.join(REGIONS)}; empty for the global endpoint."},
    "toolsets": {"type": "string", "title": "Toolsets", "required": False, "default": "runs,artifacts",
                 "description": "Comma-separated toolsets: runs, artifacts, reporting, analytics, or all."},
    "read_only": {"type": "boolean", "title": "Read-only", "required": False, "default": False,
                  "description": "Expose only the tools that change nothing."},
}
MCPB_ENV = {"api_key": "VERTESIA_API_KEY", "region": "VERTESIA_REGION", "toolsets": "MCP_AGENTS_TOOLSETS",
            "read_only": "MCP_AGENTS_READ_ONLY"}
MCPB_ENTRY_POINT = "server/main.py"


def mcpb_manifest() -> dict[str, Any]:
    """The MCP Bundle manifest: a `uv` bundle whose pyproject pins this version of the package."""
    return {
        "manifest_version": "0.4",
        "name": SERVER_NAME,
        "display_name": TITLE,
        "version": __version__,
        "description": DESCRIPTION,
        "long_description": "Lets the assistant delegate tasks to conversation agents of the Agent Runs API, "
                            "follow their progress live, answer their questions, fan out sub-agents and "
                            "collect their results. Without an API key it runs an embedded local service.",
        "author": {"name": "mcp-agents", "url": REPOSITORY_URL},
        "repository": {"type": "git", "url": REPOSITORY_URL},
        "homepage": REPOSITORY_URL,
        "license": "MIT",
        "keywords": ["agents", "agent-runs", "vertesia", "delegation"],
        "server": {
            "type": "uv",
            "entry_point": MCPB_ENTRY_POINT,
            "mcp_config": {
                "command": "uv",
                "args": ["run", "--directory", "${__dirname}", MCPB_ENTRY_POINT],
                "env": {env: f"${{user_config.{name}}}" for name, env in MCPB_ENV.items()},
            },
        },
        "tools_generated": True,
        "prompts_generated": True,
        "compatibility": {"platforms": ["darwin", "win32", "linux"], "runtimes": {"python": ">=3.11"}},
        "user_config": MCPB_USER_CONFIG,
    }


def mcpb_pyproject() -> str:
    """The bundle's project file: uv installs exactly this release of the package for the bundle."""
    return (
        "# Generated by `python -m mcp_agents.setup.generate`; do not edit.\n"
        "[project]\n"
        f'name = "{DISTRIBUTION}-bundle"\n'
        f'version = "{__version__}"\n'
        'requires-python = ">=3.11"\n'
        f'dependencies = ["{DISTRIBUTION}=={__version__}"]\n'
    )


def client_sample(client: Client) -> str:
    """The ready configuration for `client` (file text), as `mcp-agents install` would write it."""
    scope = SAMPLE_SCOPES[client.name]
    entry = build_entry(client, scope, Launch.uvx(), secret=None, environ={})
    if client.format == "toml":
        return tomledit.render_table([client.servers_key, SERVER_NAME], entry)
    return json.dumps(merge({}, client, entry), indent=2) + "\n"


def stamp_dockerfile(text: str) -> str:
    """The Dockerfile with its names set: the image runs the console command of the package."""
    text = re.sub(r"^ENTRYPOINT .*$", f"ENTRYPOINT {json.dumps([COMMAND])}", text, count=1, flags=re.M)
    return re.sub(r"-t [\w.-]+ \.", f"-t {DISTRIBUTION} .", text)


def stamp_deployment(text: str) -> str:
    """The Kubernetes Deployment with its image set to this release of the package's image."""
    return re.sub(r"^(\s*image: ).*$", rf"\g<1>{IMAGE}:{__version__}", text, flags=re.M)


# Hand-written manifests whose names are stamped from `settings` (path under `manifests/`, stamper).
STAMPED = {"docker/Dockerfile": stamp_dockerfile, "k8s/deployment.yaml": stamp_deployment}


def generated_files(namespace: str = REGISTRY_NAMESPACE) -> dict[str, str]:
    """Every generated manifest, by path relative to `manifests/`."""
    files = {
        "server.json": json.dumps(server_json(namespace), indent=2) + "\n",
        "mcpb/manifest.json": json.dumps(mcpb_manifest(), indent=2) + "\n",
        "mcpb/pyproject.toml": mcpb_pyproject(),
    }
    for client in CLIENTS.values():
        files[f"clients/{client.sample}"] = client_sample(client)
    return files
