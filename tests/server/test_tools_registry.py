"""The tool registry: toolsets, read-only mode, annotations, schemas, budget, snapshot and README table."""

from __future__ import annotations

import json

import pytest

from mcp_agents.local import RunningService
from mcp_agents.server import toolsets_cli
from mcp_agents.server.toolsets import all_specs, interaction_allowed, select
from mcp_agents.settings import DEFAULT_TOOLSETS, TOOLSETS, Settings
from tests.server.tools_helpers import MODES, mcp_client

EXPECTED = {
    "runs": ["list_agents", "start_agent_run", "wait_for_agent_runs", "send_agent_input", "cancel_agent_run",
             "restart_agent_run", "fork_agent_run", "get_agent_run", "list_agent_runs", "get_agent_messages"],
    "artifacts": ["list_agent_artifacts", "read_agent_artifact", "upload_agent_artifact"],
    "reporting": ["post_agent_update", "ingest_agent_events"],
    "analytics": ["get_agent_analytics"],
}


def test_every_contract_name_is_in_its_toolset() -> None:
    by_toolset: dict[str, list[str]] = {name: [] for name in TOOLSETS}
    for spec in all_specs():
        by_toolset[spec.toolset].append(spec.name)
    assert by_toolset == EXPECTED


@pytest.mark.parametrize("mode", MODES)
async def test_default_toolsets_and_full_definitions(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode, toolsets=DEFAULT_TOOLSETS) as mcp:
        tools = (await mcp.list_tools()).tools
    assert {tool.name for tool in tools} == set(EXPECTED["runs"] + EXPECTED["artifacts"])
    for tool in tools:
        assert tool.title and tool.description and tool.description.startswith("Use ")
        assert tool.output_schema is not None, tool.name
        hints = tool.annotations
        assert hints is not None
        assert None not in (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint,
                            hints.open_world_hint), tool.name
        for name, prop in tool.input_schema["properties"].items():
            assert prop.get("description"), f"{tool.name}.{name} has no description"
            assert "title" not in prop


@pytest.mark.parametrize("mode", MODES)
async def test_read_only_mode_keeps_only_read_only_tools(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode, read_only=True) as mcp:
        tools = (await mcp.list_tools()).tools
    expected = [spec.name for spec in all_specs() if spec.annotations.read_only_hint]
    assert sorted(tool.name for tool in tools) == sorted(expected)
    assert all(tool.annotations and tool.annotations.read_only_hint for tool in tools)
    assert "start_agent_run" not in expected and "wait_for_agent_runs" in expected


def test_read_only_filters_on_the_annotation_alone() -> None:
    specs = all_specs()
    kept = select(specs, toolsets=TOOLSETS, read_only=True)
    assert kept == [spec for spec in specs if spec.annotations.read_only_hint is True]
    assert select(specs, toolsets=["analytics"]) == [spec for spec in specs if spec.toolset == "analytics"]


def test_allow_interactions_compares_the_name_before_the_version() -> None:
    settings = Settings(allow_interactions=("Demo",))
    assert interaction_allowed(settings, "Demo@2") and interaction_allowed(settings, "demo")
    assert not interaction_allowed(settings, "Echo")
    assert interaction_allowed(Settings(), "Anything")


def test_budget_of_the_default_toolsets() -> None:
    sizes = toolsets_cli.budget(toolsets_cli.definitions())
    for name, size in sizes.items():
        print(f"toolset {name}: {size} bytes of model-facing definitions")
    total = sum(sizes[name] for name in DEFAULT_TOOLSETS)
    print(f"default toolsets: {total} bytes (budget {toolsets_cli.BUDGET_BYTES})")
    assert total <= toolsets_cli.BUDGET_BYTES


def test_snapshot_matches_the_code() -> None:
    current = toolsets_cli.snapshot_text(toolsets_cli.definitions())
    stored = toolsets_cli.SNAPSHOT.read_text(encoding="utf-8") if toolsets_cli.SNAPSHOT.exists() else ""
    if stored != current:
        old = {tool["name"]: tool for tool in json.loads(stored or "[]")}
        new = {tool["name"]: tool for tool in json.loads(current)}
        changed = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
        pytest.fail(f"tool definitions changed ({', '.join(changed)}); if intended, run: {toolsets_cli.REGENERATE}")


def test_readme_table_is_generated_from_the_registry() -> None:
    readme = toolsets_cli.README.read_text(encoding="utf-8")
    assert toolsets_cli.readme_table(readme) == toolsets_cli.markdown(), (
        f"README tool table is stale; run: {toolsets_cli.REGENERATE_README}")


def test_tools_command(capsys: pytest.CaptureFixture[str]) -> None:
    from mcp_agents.cli import main

    assert main(["tools", "--budget"]) == 0
    assert "default" in capsys.readouterr().out
    assert main(["tools", "--snapshot"]) == 0
    assert main(["tools", "--markdown"]) == 0
    assert "| `runs` (default) | `start_agent_run` |" in capsys.readouterr().out


def _untyped_properties(schema: object, where: str = "") -> list[str]:
    """Properties of an output schema that give no JSON type (what `inspector --strict` warns about)."""
    if not isinstance(schema, dict):
        return []

    def typed(item: object) -> bool:
        if not isinstance(item, dict):
            return False
        if any(key in item for key in ("type", "$ref", "enum", "const")):
            return True
        options = item.get("anyOf") or item.get("oneOf") or item.get("allOf")
        return isinstance(options, list) and bool(options) and all(typed(option) for option in options)

    found: list[str] = []
    for name, prop in (schema.get("properties") or {}).items():
        if not typed(prop):
            found.append(f"{where}{name}")
        found.extend(_untyped_properties(prop, f"{where}{name}."))
    for name, definition in (schema.get("$defs") or {}).items():
        found.extend(_untyped_properties(definition, f"{name}."))
    return found


@pytest.mark.parametrize("mode", MODES)
async def test_every_output_property_has_a_json_type(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode, toolsets=TOOLSETS) as mcp:
        tools = (await mcp.list_tools()).tools
    untyped = {tool.name: _untyped_properties(tool.output_schema) for tool in tools}
    assert {name: found for name, found in untyped.items() if found} == {}
