"""Bad input to every tool, property-based: never a crash or a traceback; invalid input is refused with a
message that names the problem, and changes nothing in the service.

Arguments are generated from each tool's own input schema (as listed by the server), then either kept
inside it or pushed outside it one property at a time (wrong types, out-of-range numbers, strings over
their length, unicode and control characters, missing required properties).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import anyio
import jsonschema
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult, Tool

from mcp_agents.client import AgentRunsClient, NotFoundError
from mcp_agents.local import RunningService
from tests.reliability.helpers import STEP_TIMEOUT, assert_clean_error, data, fast_client, mcp_over, text_of
from tests.support.fault_proxy import FaultProxy

pytestmark = pytest.mark.timeout(180)
EXAMPLES = 50
NASTY = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40) | st.sampled_from(
    ["", " ", "\x00", "\x1b[31m", "\r\n", "\u202e", "😀" * 10, "'; DROP TABLE runs; --", "${jndi:x}", "%s%n",
     "<script>", "../..", "\\\\", "null", "\ud7ff"])
BAD_IDS = ["no-such-run", "a?b=1", "a#b", "a/b", "a%2Fb", "a b", "..", ".", "%2e%2e", "a\\b", "a\x00b", "💥"]
BAD_PATHS = ["..", "../x", "a/../../x", "/etc/passwd", "%2e%2e/x", "a/%2e%2e/%2e%2e/x", "%252e%252e/x",
             "a\\..\\x", "..\\x", "a\x00b", "C:\\x", "C:/x", "a//b", "a/", "./a", "a/./b", "%2F", "x%00"]
JSON = st.recursive(st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False,
                    allow_infinity=False) | NASTY, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(NASTY, inner, max_size=3), max_leaves=8)


class World:
    """The service's state that a refused call must leave as it was."""

    def __init__(self, client: AgentRunsClient, run_id: str) -> None:
        self.client = client
        self.run_id = run_id

    async def snapshot(self) -> tuple[Any, ...]:
        runs = await self.client.runs.list(limit=200)
        messages = await self.client.messages.retrieve(self.run_id)
        artifacts = await self.client.artifacts.list(self.run_id)
        return (sorted((run.id, run.status) for run in runs.items), len(messages), sorted(artifacts))


@pytest.fixture
async def world(local_service: RunningService) -> AsyncIterator[tuple[Client, World, dict[str, Tool]]]:
    async with fast_client(local_service.base_url, local_service.sts_url, local_service.api_key) as client, \
            mcp_over(client) as mcp:
        run = await client.runs.create(interaction="Echo", interactive=False, data={"task": "bad input"})
        with anyio.fail_after(STEP_TIMEOUT):
            async for _ in client.messages.stream(run.id):
                pass
        await client.artifacts.upload(run.id, "keep.txt", b"keep", content_type="text/plain")
        tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
        yield mcp, World(client, run.id), tools


def resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(schema, dict):  # `true`: anything
        return {}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return {**root["$defs"][ref.rsplit("/", 1)[-1]], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def valid_value(name: str, schema: dict[str, Any], root: dict[str, Any], run_id: str) -> st.SearchStrategy[Any]:
    """A value inside `schema`, biased towards what reaches the service (real ids, short waits)."""
    schema = resolve(schema, root)
    if "anyOf" in schema:  # e.g. a cursor: a string or an integer
        return st.one_of([valid_value(name, option, root, run_id) for option in schema["anyOf"]])
    if name in ("run_id",):
        return st.sampled_from([run_id, *BAD_IDS[:8]])
    if name == "interaction":
        return st.sampled_from(["Echo", "NoSuchAgent", "Echo@99", "a/b?c"])
    if name in ("wait_seconds", "timeout_seconds"):
        return st.floats(min_value=max(1.0, schema.get("minimum", 0)) if name == "timeout_seconds" else 0.0,
                         max_value=1.0 if name == "wait_seconds" else 1.5)
    if name == "path":
        return st.sampled_from(["keep.txt", "new/file.txt", *BAD_PATHS[:6]])
    if name == "content_base64":
        return st.binary(max_size=64).map(lambda raw: base64.b64encode(raw).decode()) | NASTY
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    kind = schema.get("type")
    if kind == "string":
        low, high = schema.get("minLength", 0), min(schema.get("maxLength", 60), 60)
        text = NASTY.filter(lambda s: low <= len(s) <= high)
        return text.filter(lambda s: jsonschema.Draft202012Validator(schema).is_valid(s)) if "pattern" in schema \
            else text
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**40)), schema.get("maximum", 2**40))
    if kind == "number":
        return st.floats(schema.get("minimum", -1e9), schema.get("maximum", 1e9), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        items = schema.get("items", {})
        item = valid_value("run_id" if name == "run_ids" else "", items, root, run_id)
        return st.lists(item, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 3), 3))
    if kind == "object":
        values = resolve(schema.get("additionalProperties") or {}, root)
        inner = st.integers(0, 2**53) if values.get("type") == "integer" else \
            valid_value("", values, root, run_id) if values else JSON
        keys = st.sampled_from([run_id, "x"]) if name == "since" else NASTY
        return st.dictionaries(keys, inner, max_size=3)
    return JSON


def invalid_value(schema: dict[str, Any], root: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value outside `schema` that no lax conversion can rescue."""
    schema = resolve(schema, root)
    choices: list[st.SearchStrategy[Any]] = []
    kind = schema.get("type")
    if "enum" in schema or "const" in schema:
        choices.append(st.sampled_from(["not-a-member", "", 7, ["x"], {"a": 1}]))
    elif kind == "string":
        choices.append(st.sampled_from([123, 1.5, ["x"], {"a": "b"}]))
        if "maxLength" in schema:
            choices.append(st.sampled_from(["é", "x", "\x00"]).map(lambda c: c * (schema["maxLength"] + 1)))
        if schema.get("minLength", 0) > 0:
            choices.append(st.just(""))
        if "pattern" in schema:
            choices.append(st.sampled_from(["1bad", "a b", "-x", "\x00", "ü"]))
    elif kind == "integer":
        choices.append(st.sampled_from(["abc", 1.5, ["1"], {"a": 1}]))
        if "minimum" in schema:
            choices.append(st.integers(max_value=schema["minimum"] - 1).map(lambda v: max(v, -(2**63))))
        if "maximum" in schema:
            choices.append(st.integers(min_value=schema["maximum"] + 1, max_value=2**63))
    elif kind == "number":
        choices.append(st.sampled_from(["abc", ["1"], {"a": 1}]))
        if "minimum" in schema:
            choices.append(st.floats(max_value=schema["minimum"] - 0.001, min_value=-1e300))
        if "maximum" in schema:
            choices.append(st.floats(min_value=schema["maximum"] + 0.001, max_value=1e300))
    elif kind == "boolean":
        choices.append(st.sampled_from(["maybe", 5, [True], {"a": 1}]))
    elif kind == "array":
        choices.append(st.sampled_from(["x", {"a": 1}, 5]))
        if "maxItems" in schema:
            choices.append(st.just(["x"] * (schema["maxItems"] + 1)))
        if schema.get("minItems", 0) > 0:
            choices.append(st.just([]))
        items = resolve(schema.get("items", {}), root)
        if items.get("type") in ("string", "object") or "enum" in items:
            choices.append(invalid_value(items, root).map(lambda bad: [bad]))
    elif kind == "object":
        choices.append(st.sampled_from(["x", [1, 2], 5]))
        values = resolve(schema.get("additionalProperties") or {}, root)
        if values.get("type") == "integer":
            choices.append(st.just({"x": "not an int"}))
    return st.one_of(choices) if choices else st.nothing()


@st.composite
def arguments(draw: st.DrawFn, tool: Tool, run_id: str, *, inside: bool) -> tuple[dict[str, Any], str | None]:
    """(arguments, the property pushed outside the schema or None)."""
    schema = tool.input_schema
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    args: dict[str, Any] = {}
    for name, prop in properties.items():
        if name in required or draw(st.booleans()):
            args[name] = draw(valid_value(name, prop, schema, run_id))
    if tool.name == "upload_agent_artifact":  # exactly one of the two, else it is a (valid) refusal
        args.pop("content_base64" if "text" in args else "text", None)
    if inside:
        return args, None
    breakable = [name for name, prop in properties.items() if not invalid_value(prop, schema).is_empty]
    target = draw(st.sampled_from(sorted(breakable) + sorted(required)))
    if target in required and draw(st.booleans()):
        args.pop(target, None)
        return args, target
    args[target] = draw(invalid_value(properties[target], schema))
    return args, target


async def checked_call(mcp: Client, tool: str, args: dict[str, Any]) -> CallToolResult:
    with anyio.fail_after(STEP_TIMEOUT):
        result = await mcp.call_tool(tool, args)
    text = text_of(result)
    assert "Traceback" not in text and 'File "' not in text, (tool, args, text)
    if result.is_error:
        assert text.strip(), (tool, args)
    return result


TOOL_NAMES = ["list_agents", "start_agent_run", "wait_for_agent_runs", "send_agent_input", "get_agent_run",
              "list_agent_runs", "get_agent_messages", "cancel_agent_run", "restart_agent_run", "fork_agent_run",
              "list_agent_artifacts", "read_agent_artifact", "upload_agent_artifact", "post_agent_update",
              "ingest_agent_events", "get_agent_analytics"]


async def test_every_tool_is_fuzzed(world: tuple[Client, World, dict[str, Tool]]) -> None:
    _, _, tools = world
    assert sorted(tools) == sorted(TOOL_NAMES)


FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


async def test_arguments_outside_the_schema_are_refused_and_change_nothing(
        world: tuple[Client, World, dict[str, Tool]]) -> None:
    mcp, state, tools = world
    before = await state.snapshot()

    @seed(7)
    @FUZZ
    @given(draw=st.data())
    def refused(draw: st.DataObject) -> None:  # hypothesis runs in a worker thread; calls go to the loop
        for name in TOOL_NAMES:
            tool = tools[name]
            args, broken = draw.draw(arguments(tool, state.run_id, inside=False), label=name)
            assert not jsonschema.Draft202012Validator(tool.input_schema).is_valid(args), (name, args)
            result = anyio.from_thread.run(checked_call, mcp, name, args)
            assert result.is_error, (name, broken, args, text_of(result))
            assert broken is not None and broken in text_of(result), (name, broken, text_of(result))

    await anyio.to_thread.run_sync(refused)
    assert await state.snapshot() == before


async def test_arguments_inside_the_schema_never_crash(world: tuple[Client, World, dict[str, Tool]]) -> None:
    mcp, state, tools = world

    @seed(11)
    @FUZZ
    @given(draw=st.data())
    def handled(draw: st.DataObject) -> None:
        for name in TOOL_NAMES:
            tool = tools[name]
            args, _ = draw.draw(arguments(tool, state.run_id, inside=True), label=name)
            assert jsonschema.Draft202012Validator(tool.input_schema).is_valid(args), (name, args)
            anyio.from_thread.run(checked_call, mcp, name, args)

    await anyio.to_thread.run_sync(handled)
    # the server and the service are still healthy afterwards
    assert data(await mcp.call_tool("get_agent_run", {"run_id": state.run_id}))["run"]["id"] == state.run_id


async def test_artifact_paths_that_climb_out_are_refused(
        world: tuple[Client, World, dict[str, Tool]], local_service: RunningService) -> None:
    mcp, state, _ = world
    before = await state.snapshot()
    files_before = sorted(str(p) for p in local_service.data_dir.rglob("*") if p.is_file() and "sqlite" not in p.name)
    for path in BAD_PATHS:
        for tool, extra in (("read_agent_artifact", {}), ("upload_agent_artifact", {"text": "pwned"})):
            result = await checked_call(mcp, tool, {"run_id": state.run_id, "path": path, **extra})
            assert_clean_error(result, "path")
    assert await state.snapshot() == before
    files_after = sorted(str(p) for p in local_service.data_dir.rglob("*") if p.is_file() and "sqlite" not in p.name)
    assert files_after == files_before


async def test_oversized_and_malformed_uploads_are_refused(world: tuple[Client, World, dict[str, Tool]]) -> None:
    mcp, state, _ = world
    before = await state.snapshot()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"text": "x" * 5_000_001}, "text"),
        ({"content_base64": "A" * 6_666_671}, "content_base64"),
        ({"content_base64": "not base64!!"}, "base64"),
        ({"content_base64": "YWJj"[:-1]}, "base64"),  # bad padding
        ({"content_base64": "YWJj\n"}, "base64"),
        ({"text": "a", "content_base64": "YQ=="}, "exactly one"),
        ({}, "exactly one"),
        ({"text": "a", "mime_type": "text/plain\r\nX-Injected: 1"}, "mime_type"),
        ({"text": "a", "mime_type": "nonsense"}, "mime_type"),
    ]
    for extra, word in cases:
        result = await checked_call(mcp, "upload_agent_artifact", {"run_id": state.run_id, "path": "up.bin", **extra})
        assert_clean_error(result, word)
    assert await state.snapshot() == before


async def test_unknown_signal_and_query_names_are_refused(world: tuple[Client, World, dict[str, Tool]]) -> None:
    mcp, state, _ = world
    before = await state.snapshot()
    for signal in ("NoSuchSignal", "Stop.", "a-b_c.d"):
        result = await checked_call(mcp, "send_agent_input", {"run_id": state.run_id, "signal": signal,
                                                              "payload": {"x": 1}})
        assert result.is_error, (signal, text_of(result))
    for name in ("NoSuchQuery", "a?b", "../AgentPlan", "%2e%2e"):
        with pytest.raises((NotFoundError, ValueError)):
            await state.client.communication.query(state.run_id, name)
    assert await state.snapshot() == before


async def test_ids_with_url_metacharacters_stay_one_path_segment(local_service: RunningService) -> None:
    async with FaultProxy(local_service.sts_url) as proxy, \
            fast_client(proxy.url + "/api/v1", proxy.url, local_service.api_key) as client, mcp_over(client) as mcp:
        for run_id in ("a?b=1", "a#b", "a/b", "a%2Fb", "a b", "%2e%2e", "x/../../agents"):
            for tool, extra in (("get_agent_run", {}), ("cancel_agent_run", {}),
                                ("send_agent_input", {"message": "hi"}), ("get_agent_messages", {}),
                                ("read_agent_artifact", {"path": "a.txt"})):
                proxy.requests.clear()
                result = await checked_call(mcp, tool, {"run_id": run_id, **extra})
                assert result.is_error, (tool, run_id)
                assert "404" in text_of(result) or "not a valid" in text_of(result), text_of(result)
                for _, path in proxy.requests:
                    if path.startswith("/api/v1/agents/"):
                        segment = path.removeprefix("/api/v1/agents/").split("/", 1)[0]
                        assert "?" not in segment and "#" not in segment and " " not in segment, path
                        assert segment not in ("", "..", "."), path
