"""The TOML table writer: one table replaced, every other line of the user's file kept."""

from __future__ import annotations

import tomllib

import pytest

from mcp_agents.setup import tomledit

TABLE = {"command": "uvx", "args": ["mcp-agents", "serve"], "env": {"KEY": 'va"l\\ue'}}


def test_round_trips_strings_that_need_escaping() -> None:
    text = tomledit.render_table(["mcp_servers", "mcp-agents"], TABLE)
    assert tomllib.loads(text) == {"mcp_servers": {"mcp-agents": TABLE}}


def test_quoted_headers_and_sub_tables_are_replaced() -> None:
    text = ('top = 1\n[mcp_servers."mcp-agents"]\ncommand = "old"\n[ mcp_servers . "mcp-agents" . env ]\nA = "1"\n'
            "[mcp_servers.other]\ncommand = \"x\"  # mine\n")
    result = tomledit.set_table(text, ["mcp_servers", "mcp-agents"], TABLE)
    assert tomllib.loads(result) == {"top": 1, "mcp_servers": {"other": {"command": "x"}, "mcp-agents": TABLE}}
    assert 'command = "x"  # mine' in result and "old" not in result


def test_a_table_of_arrays_named_alike_is_not_touched() -> None:
    text = "[[mcp_servers_list]]\nname = \"a\"\n"
    result = tomledit.set_table(text, ["mcp_servers", "mcp-agents"], TABLE)
    assert tomllib.loads(result)["mcp_servers_list"] == [{"name": "a"}]


def test_dotted_key_definitions_are_refused() -> None:
    with pytest.raises(ValueError, match="by hand"):
        tomledit.set_table('mcp_servers.mcp-agents.command = "mine"\n', ["mcp_servers", "mcp-agents"], TABLE)
