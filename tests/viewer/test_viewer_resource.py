"""The viewer as MCP clients see it: the linked tools, the `ui://` resource and its security policy, both eras."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from mcp import Client
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.types import TextResourceContents

from mcp_agents.local import RunningService
from mcp_agents.server.app import build_server
from mcp_agents.server.deps import ServerDeps
from mcp_agents.server.viewer import LINKED_TOOLS, VIEW_URI
from mcp_agents.settings import TOOLSETS, Settings
from tests.server.tools_helpers import MODES, api_client, call, data, demo, mcp_client


class LinkFinder(HTMLParser):
    """The `src`/`href` attributes of a document's markup (script and style contents are not markup)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.extend(f"{tag} {name}={value}" for name, value in attrs if name in ("src", "href", "action"))

    @classmethod
    def of(cls, html: str) -> list[str]:
        finder = cls()
        finder.feed(html)
        return finder.found


CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">')


@pytest.mark.parametrize("mode", MODES)
async def test_run_tools_link_the_view_and_the_view_is_served(local_service: RunningService, mode: str) -> None:
    async with mcp_client(local_service, mode) as mcp:
        tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
        linked = {name for name, tool in tools.items() if (tool.meta or {}).get("ui")}
        assert linked == LINKED_TOOLS
        assert all(tools[name].meta == {"ui": {"resourceUri": VIEW_URI}} for name in LINKED_TOOLS)
        listed = {str(r.uri): r for r in (await mcp.list_resources()).resources}
        assert listed[VIEW_URI].mime_type == APP_MIME_TYPE
        read = await mcp.read_resource(VIEW_URI)
    [content] = read.contents
    assert isinstance(content, TextResourceContents) and content.mime_type == APP_MIME_TYPE
    assert content.meta == {"ui": {"csp": {"connectDomains": [], "resourceDomains": [], "frameDomains": [],
                                           "baseUriDomains": []}, "prefersBorder": True}}
    html = content.text
    assert len(html.encode()) < 150_000
    match = CSP_META.search(html)
    assert match is not None, "the document carries its own Content-Security-Policy"
    policy = dict(part.strip().split(" ", 1) for part in match.group(1).split(";"))
    assert policy["default-src"] == "'none'" and policy["img-src"] == "data:"
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/=]+'", policy["script-src"])  # one inline script, by hash
    assert re.fullmatch(r"'sha256-[A-Za-z0-9+/=]+'", policy["style-src"])
    assert policy["require-trusted-types-for"] == "'script'"
    assert "connect-src" not in policy and "unsafe" not in match.group(1)
    assert not LinkFinder.of(html), "the view's markup loads nothing: one inline script, one inline style"


@pytest.mark.parametrize("mode", MODES)
async def test_results_are_the_same_with_and_without_apps(local_service: RunningService, mode: str) -> None:
    """Linking the view changes no result: a host without Apps sees exactly what an Apps host gets."""
    config = Settings(toolsets=TOOLSETS)
    async with api_client(local_service) as client:
        server = build_server(config, deps=ServerDeps(config, client))
        apps = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})]
        async with Client(server, mode=mode) as plain, Client(server, mode=mode, extensions=apps) as host:
            started = data(await call(plain, "start_agent_run", {"interaction": "Demo", "data": demo()}))
            run_id = started["runs"][0]["run_id"]
            await call(plain, "wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 30})
            for name, arguments in [("get_agent_run", {"run_id": run_id, "include": ["plan"]}),
                                    ("wait_for_agent_runs", {"run_ids": [run_id], "timeout_seconds": 5})]:
                seen = [await call(mcp, name, arguments) for mcp in (plain, host)]
                assert seen[0].structured_content == seen[1].structured_content
                assert [b.model_dump() for b in seen[0].content] == [b.model_dump() for b in seen[1].content]
