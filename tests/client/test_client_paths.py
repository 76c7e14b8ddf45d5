"""Artifact paths that try to climb out are refused before any request; good ones are encoded per segment."""

from __future__ import annotations

import pytest

from mcp_agents.client import AgentRunsClient, InvalidRequestError
from mcp_agents.client._paths import artifact_path, segment
from tests.support.scripted_api import ScriptedAPI

BAD_PATHS = [
    "", "..", "../secret", "a/../../b", "a/..", "./a", "a/./b", "/etc/passwd", "C:/x", "a\\b", "..\\x",
    "a\0b", "a//b", "a/", "%2e%2e/x", "a/%2E%2E", "a%2fb", "a%2F..%2Fb", "%252e%252e/x", "a%5cb", "a%00b",
    "x\ny", "a" * 2000,
]


async def test_bad_paths_are_refused_before_any_request(api: ScriptedAPI, client: AgentRunsClient) -> None:
    run = api.create_run()
    for path in BAD_PATHS:
        for call in (client.artifacts.get(run["id"], path), client.artifacts.url(run["id"], path),
                     client.artifacts.upload(run["id"], path, b"x", content_type="text/plain")):
            with pytest.raises(InvalidRequestError):
                await call
    assert api.raw_paths == []  # not even the token exchange happened


def test_good_paths_are_encoded_segment_by_segment() -> None:
    assert artifact_path("report.pdf") == "report.pdf"
    assert artifact_path("out/q4 report.pdf") == "out/q4%20report.pdf"
    assert artifact_path("a/b?c#d") == "a/b%3Fc%23d"
    assert artifact_path("100%.txt") == "100%25.txt"
    assert artifact_path("..hidden/x..y") == "..hidden/x..y"
    assert artifact_path("données/é.csv") == "donn%C3%A9es/%C3%A9.csv"


def test_segments() -> None:
    assert segment("run/1", "run id") == "run%2F1"
    for bad in ("", " ", ".", "..", "a\nb"):
        with pytest.raises(InvalidRequestError):
            segment(bad, "run id")
