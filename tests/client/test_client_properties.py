"""Property tests: path encoding never lets a segment climb out; resume + dedupe is exactly-once."""

from __future__ import annotations

from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_agents.client import InvalidRequestError
from mcp_agents.client._paths import artifact_path
from mcp_agents.client._streaming import _Resume
from mcp_agents.models import AgentMessage
from mcp_agents.models.cursor import START

PATH_CHARS = st.sampled_from([*"ab./\\%2eEfF5c0 \x00:", "%2e", "%2f", "%5c", "..", "%25"])


@settings(max_examples=400, deadline=None)
@given(st.lists(PATH_CHARS, max_size=12).map("".join))
def test_accepted_paths_decode_to_the_same_safe_segments(path: str) -> None:
    try:
        encoded = artifact_path(path)
    except InvalidRequestError:
        return
    segments = encoded.split("/")
    assert [unquote(segment) for segment in segments] == path.split("/")
    for segment in segments:
        assert segment
        decoded = segment
        for _ in range(4):
            decoded = unquote(decoded)
        assert decoded not in (".", "..") and "/" not in decoded and "\\" not in decoded


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=30),
       st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=30))
def test_resuming_from_the_cursor_yields_each_message_once_in_order(gaps: list[int], cuts: list[int]) -> None:
    stamps, stamp = [], 1000
    for gap in gaps:  # gaps of 0 make several messages share a timestamp
        stamp += gap
        stamps.append(stamp)
    # Every third message repeats its predecessor's content: identical messages in one millisecond are
    # still two messages (a tool called twice), and each must arrive once.
    stored = [AgentMessage.model_validate({"t": 3, "m": f"m{i - i % 3 // 2}", "ts": ts, "seq": i})
              for i, ts in enumerate(stamps)]
    resume, out = _Resume(START), []
    for cut in [*cuts, len(stored) + 1]:
        since = resume.resume_since()
        replay = [m for m in stored if m.timestamp is not None and m.timestamp > since]  # the service's rule
        for message in replay[:cut]:  # the connection drops after `cut` events
            if resume.accept(message):
                out.append(message)
        if len(out) == len(stored):
            break
    assert [m.model_extra for m in out] == [m.model_extra for m in stored]
