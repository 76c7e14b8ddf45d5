"""The run viewer in a real browser: headless Chromium runs the view inside a test host built on the official
`AppBridge` and TypeScript client, against `mcp-agents serve --transport http` and the local service.

`node/drive.mjs` plays the scenarios once per module (an interactive Demo run followed live, its question
answered and a follow-up sent from the view in each protocol era, a fan-out of three with uploaded files, a run
from get_agent_run, a cancel by keyboard in a narrow host, a view opened from send_agent_input without a wait or
from get_agent_run in the middle of a turn, a run that goes on in the chat after the view stopped following it)
and reports what the page showed; the tests below check it. Screenshots go to `build/viewer-screenshots/`. Runs
in CI; skipped elsewhere only when Chromium or the npm packages are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import LocalServiceProcess, clean_env, start_http_server, stop

NODE_DIR = Path(__file__).parent / "node"
SHOTS = Path(__file__).resolve().parents[2] / "build" / "viewer-screenshots"
DRIVE_TIMEOUT = 240


def _tools() -> tuple[str, str]:
    node = shutil.which("node")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    missing = [name for name, found in [("node", node), ("chromium", chromium)] if found is None]
    if not (NODE_DIR / "node_modules" / "puppeteer-core").is_dir():
        missing.append("npm packages of tests/viewer/node")
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must install {', '.join(missing)} (.ci/run does)")
        pytest.skip(f"missing {', '.join(missing)}: apt-get install chromium; npm install in tests/viewer/node")
    assert node is not None and chromium is not None
    return node, chromium


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    node, chromium = _tools()
    data = tmp_path_factory.mktemp("viewer-service")
    with LocalServiceProcess(data, "sk-viewer-dev-key-0123456789abcdef",
                             args=("--interactions", "tests.support.gated:INTERACTIONS")) as local:
        env = clean_env(VERTESIA_API_URL=local.base_url, VERTESIA_API_KEY="sk-viewer-dev-key-0123456789abcdef",
                        VERTESIA_STS_URL=local.sts_url, MCP_AGENTS_LOG_LEVEL="warning")
        process, root = start_http_server(env, log=data.parent / "viewer-serve.log")
        try:
            done = subprocess.run([node, str(NODE_DIR / "drive.mjs")], capture_output=True, text=True,
                                  timeout=DRIVE_TIMEOUT, cwd=NODE_DIR,
                                  env={**os.environ, "ROOT": root, "CHROMIUM": chromium, "SHOTS": str(SHOTS)})
        finally:
            stop(process)
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    report = {key: out.get(key) for key in ("error", "failedView", "failedCalls", "console")}
    assert "error" not in out, json.dumps(report, indent=1)[-8000:]
    yield out


@pytest.mark.parametrize("scenario", ["demo", "demoModern"])
def test_a_demo_run_is_followed_live_and_answered_from_the_view(seen: dict[str, Any], scenario: str) -> None:
    demo = seen["scenarios"][scenario]
    assert demo["resource"]["mimeType"] == "text/html;profile=mcp-app"
    assert demo["resource"]["meta"]["ui"]["csp"]["connectDomains"] == []
    assert demo["first"]["agent"] == "Demo" and demo["first"]["badge"] in ("created", "running")
    timelines = [sample["timeline"] for sample in demo["samples"]]
    assert timelines == sorted(timelines) and timelines[-1] > timelines[0], "the timeline grows live"
    progress = [sample["progress"] for sample in demo["samples"] if sample["progress"]]
    assert len(set(progress)) >= 2, f"progress advances: {progress}"
    asking = demo["asking"]
    assert asking["question"] == "Which colour should the chart use?" and asking["badge"] == "needs input"
    assert "send_agent_input" not in demo["callsAfterTyping"], "typing an answer sends nothing"
    assert demo["calls"].count("send_agent_input") == 1
    assert "cancel_agent_run" not in demo["calls"]
    assert demo["unlabelled"] == []
    done = demo["done"]  # an interactive run: its turn is answered, it waits for input (it does not complete)
    assert done["badge"] == "waiting for input" and done["question"] is None and done["cancelVisible"]
    assert "You said: teal" in done["answerText"] and done["answerHeading"] == "Answer"
    assert done["sent"] == "You: teal"
    assert done["reply"] == {"open": True, "summary": "Continue the conversation"}
    assert done["progress"] == "12/12" and all("completed" in step for step in done["plan"])
    assert len(done["workstreams"]) == 3
    assert done["timeline"] == done["timelineShown"] + done["earlier"] and done["timelineShown"] == 6
    assert done["earlier"] > 10 and not done["earlierOpen"], "older activity is collapsed"
    assert done["times"] == sorted(done["times"], reverse=True), "newest first"
    files = {item["path"]: item for item in done["files"]}
    assert files["chart.png"]["image"] == {"width": 64, "src": "data:image/png;base64,"}
    assert files["report.md"]["headings"] == ["Demo report"] and files["report.md"]["tableRows"] == 13
    assert files["data.csv"]["tableRows"] == 13  # header and twelve steps
    assert done["elapsed"] and done["elapsedTitle"] == "Elapsed time until the turn ended"


@pytest.mark.parametrize("scenario", ["demo", "demoModern"])
def test_an_answered_turn_stops_following_and_a_follow_up_starts_the_next(seen: dict[str, Any],
                                                                          scenario: str) -> None:
    demo = seen["scenarios"][scenario]
    idle = demo["idle"]
    assert all(is_check(call, idle["runId"]) for call in idle["checks"]), "only checks while the run waits for input"
    assert idle["checking"] == "1"
    assert demo["idle"]["elapsed"] == demo["done"]["elapsed"], "the clock stops when the turn ends"
    assert demo["unlabelledIdle"] == []
    assert "send_agent_input" not in demo["callsAfterReplyTyping"][len(demo["calls"]):], "typing sends nothing"
    assert demo["sending"] != "0", "the view follows the next turn"
    sends = [call for call in demo["callsAfterReply"] if call == "send_agent_input"]
    assert len(sends) == 2 and "wait_for_agent_runs" in demo["callsAfterReply"][len(demo["calls"]):]
    after = demo["next"]
    assert after["badge"] == "waiting for input" and after["reply"] is not None and after["cancelVisible"]
    assert "you said 'more detail please'" in after["answerText"] and after["answerHeading"] == "Answer"
    assert after["sent"] == "You: more detail please"


def is_check(call: dict[str, Any], run_id: str) -> bool:
    """The view's check on a run it stopped following: the shortest wait, from the cursor it holds."""
    args = call["arguments"]
    return (call["name"] == "wait_for_agent_runs" and args["run_ids"] == [run_id] and args["timeout_seconds"] == 1
            and isinstance(args.get("since", {}).get(run_id), str))


def scenario(seen: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = seen["scenarios"][name]
    assert "error" not in found, json.dumps(found, indent=1)[-6000:]
    return found


def test_a_view_opened_from_an_input_sent_without_a_wait_follows_the_new_turn(seen: dict[str, Any]) -> None:
    """The result's cursor is taken before the send: the view waits from it, and the IDLE that ended the turn
    the input answers does not end the new one (the run shows nothing of its new turn when the view looks)."""
    sent = scenario(seen, "sendWithoutWait")
    cursor = sent["sent"]["cursor"]
    assert isinstance(cursor, str) and ":" in cursor and sent["sent"].get("turn") is None
    looked = sent["looked"]
    assert looked["badge"] == "running" and looked["answerText"] is None and looked["following"] == "1"
    assert looked["waits"][0]["arguments"]["since"] == {sent["runId"]: cursor}
    assert sent["working"]["badge"] == "running" and sent["working"]["answerText"] is None
    done = sent["done"]
    assert done["badge"] == "waiting for input" and done["answerText"].strip() == "You said: second"
    assert done["answerHeading"] == "Answer" and done["reply"] is not None


def test_a_run_record_taken_mid_turn_is_followed_once_the_run_posts(seen: dict[str, Any]) -> None:
    """A record carries no cursor: the view reads the history, whose last turn is over (input sent, nothing posted
    yet), as a wait from the start does; its check then sees the run go on and follows the turn to its end."""
    mid = scenario(seen, "recordMidTurn")
    settled = mid["settled"]
    assert settled["badge"] == "waiting for input" and settled["checking"] == "1"
    assert mid["working"]["badge"] == "running" and mid["working"]["answerHeading"] == "Previous answer"
    done = mid["done"]
    assert done["badge"] == "waiting for input" and done["answerText"].strip() == "You said: third"
    assert done["answerHeading"] == "Answer"


def test_a_view_that_stopped_following_sees_the_run_go_on_elsewhere(seen: dict[str, Any]) -> None:
    """Answered from the chat: the view follows the new turn again; a whole turn made there shows; hidden, it stops
    checking until shown; cancelled there, it shows it and stops checking; restarted there while the view was
    hidden, the view follows it again once shown. It only ever checks with short waits from its cursor."""
    gone = scenario(seen, "goneOnElsewhere")
    run_id = gone["runId"]
    settled = gone["settled"]
    assert settled["answerText"].strip() == "First: hello" and settled["badge"] == "waiting for input"
    assert settled["following"] == "0" and settled["checking"] == "1"
    resumed = gone["resumed"]
    assert resumed["badge"] == "running" and resumed["following"] == "1" and resumed["question"] is None
    assert resumed["answerHeading"] == "Previous answer" and resumed["reply"] is None
    assert gone["checks"] and is_check(gone["checks"][0], run_id)
    answered = gone["answered"]
    assert answered["badge"] == "waiting for input" and answered["answerText"].strip() == "You said: from the chat"
    assert answered["answerHeading"] == "Answer" and answered["sent"] is None and answered["checking"] == "1"
    again = gone["again"]
    assert again["badge"] == "waiting for input" and again["answerText"].strip() == "You said: and again"
    cancelled = gone["cancelled"]
    assert cancelled["badge"] == "cancelled" and not cancelled["cancelVisible"] and cancelled["checking"] == "0"
    restarted = gone["restarted"]
    assert restarted["badge"] == "waiting for input" and restarted["answerText"].strip() == "Restarted: hello"
    assert restarted["cancelVisible"] and restarted["checking"] == "1"
    names = {call["name"] for call in gone["calls"]}
    assert names <= {"wait_for_agent_runs", "get_agent_run", "get_agent_messages", "read_agent_artifact"}, names


def test_agent_text_with_html_shows_as_text(seen: dict[str, Any]) -> None:
    done = seen["scenarios"]["demoModern"]["done"]
    assert "<b>bold</b>" in done["answerText"] and '<img src=x onerror="window.pwned=true">' in done["answerText"]
    assert "<b>bold</b>" in done["title"]
    assert not {"b", "img", "script"} & set(done["answerTags"])
    assert seen["scenarios"]["demoModern"]["pwned"] is False


def test_the_view_follows_the_host_theme(seen: dict[str, Any]) -> None:
    assert seen["scenarios"]["demo"]["theme"] == "light"
    assert seen["scenarios"]["demo"]["themeAfter"] == ["dark", "rgb(13, 17, 23)"]
    assert seen["scenarios"]["demoModern"]["theme"] == "dark"
    assert seen["scenarios"]["demoModern"]["themeAfter"] == ["light", "rgb(255, 255, 255)"]
    assert seen["scenarios"]["fanout"]["theme"] == "dark"
    assert seen["scenarios"]["demo"]["sizes"] > 0, "the view tells the host its height"


def test_a_fan_out_of_three_runs(seen: dict[str, Any]) -> None:
    fanout = seen["scenarios"]["fanout"]
    assert [card["agent"] for card in fanout["first"]] == ["Demo"] * 3
    done = fanout["done"]
    assert [card["badge"] for card in done] == ["waiting for input", "waiting for input", "completed"]
    assert [card["reply"] for card in done] == [{"open": False, "summary": "Continue the conversation"}] * 2 + [None]
    assert [card["title"].split(": ", 1)[-1] for card in done] == ["Market sizing", "Competitor scan", "Pricing survey"]
    assert all("Done:" in card["answerText"] for card in done)
    assert fanout["summary"] == "3 runs: 2 waiting for input, 1 completed"


def test_a_run_record_from_get_agent_run(seen: dict[str, Any]) -> None:
    """A record has no turn: the view reads the run's history and finds the interactive run's answered turn."""
    done = seen["scenarios"]["record"]["done"]
    assert done["badge"] == "waiting for input" and done["title"] == " · Demo: Market sizing"
    assert done["answerText"].startswith("Done: Market sizing.") and done["elapsed"]
    assert sorted(item["path"] for item in done["files"]) == ["chart.png", "data.csv", "notes.md", "report.md",
                                                              "trace.txt"]


def test_files_of_every_kind_and_links_go_through_the_host(seen: dict[str, Any]) -> None:
    fanout = seen["scenarios"]["fanout"]
    notes = fanout["notes"]
    assert "Notes" in notes["text"] and "[image: remote]" in notes["text"], "remote images are not loaded"
    assert "<script>window.pwned = true</script>" in notes["text"] and notes["scripts"] == notes["images"] == 0
    assert notes["links"] == ["https://example.com/docs"]
    assert fanout["links"] == ["https://example.com/docs"], "a link opens through the host (ui/open-link)"
    [[download]] = fanout["downloads"]
    assert download == {"type": "resource_link", "uri": f"agent-run://{fanout['ids'][0]}/artifacts/trace.txt",
                        "name": "trace.txt"}
    assert fanout["pwned"] is False


def test_cancel_from_the_view_with_the_keyboard_and_a_confirmation(seen: dict[str, Any]) -> None:
    cancel = seen["scenarios"]["cancel"]
    assert cancel["focusInConfirm"] == "Keep running" and cancel["expanded"] == "true"
    assert cancel["focusAfterEscape"].startswith("Cancel run Demo")
    assert "cancel_agent_run" not in cancel["callsBeforeConfirm"]
    assert cancel["focusBeforeConfirm"] == "Yes, cancel it"
    assert cancel["calls"].count("cancel_agent_run") == 1
    assert cancel["done"]["badge"] == "cancelled" and cancel["server"] == "cancelled"


def test_the_view_fits_a_narrow_host(seen: dict[str, Any]) -> None:
    cancel = seen["scenarios"]["cancel"]
    assert cancel["overflow"] <= 0 and cancel["headerColumn"] == "column"


def test_no_console_errors_and_no_request_leaves_the_view(seen: dict[str, Any]) -> None:
    assert seen["console"] == []
    assert seen["viewRequests"] == []
    assert {line.split(" ", 1)[1].split("?")[0].rsplit("/", 1)[-1] for line in seen["requests"]} <= {
        "viewer-test-host", "mcp"}


def test_screenshots_are_written(seen: dict[str, Any]) -> None:
    names = {Path(path).name for path in seen["screenshots"]}
    assert {"asking-light-legacy.png", "single-light-legacy.png", "single-dark-legacy.png",
            "single-light-2026-07-28.png", "fanout-running-dark-legacy.png", "fanout-dark-legacy.png",
            "fanout-light-legacy.png"} <= names
    assert all(Path(path).stat().st_size > 5000 for path in seen["screenshots"])
