"""Watch an assistant delegate a task: local service, MCP server over stdio, live progress, a question.

`mcp-agents demo` starts the embedded local service (in a temporary directory unless `--data-dir`
is given), runs `python -m mcp_agents serve` as a stdio subprocess pointed at it, connects the MCP
Python SDK client and does what an assistant would: start_agent_run, wait_for_agent_runs while
printing each progress line as it arrives, answer the agent's question, print the final answer and
the artifacts. It needs no account and finishes in a few seconds.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, ElicitRequestParams, ElicitResult, ErrorData

from mcp_agents.models.hosted import WIRES

DEMO_TIMEOUT_SECONDS = 60.0
MAX_WAIT_CALLS = 20
QUESTION = "Which colour should the chart use?"
ANSWER = "teal"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", default=None, help="Keep the demo's runs in this directory "
                        "(default: a temporary directory, removed at the end).")
    parser.add_argument("--steps", type=int, default=4, help="Work steps of the Demo agent (default: 4).")
    parser.add_argument("--step-delay-ms", type=int, default=150, help="Pace of the Demo agent (default: 150).")
    parser.add_argument("--wire", default=None, choices=WIRES, help="Wire format of the local service: seed "
                        "(default) or hosted (env MCP_AGENTS_LOCAL_WIRE).")
    parser.add_argument("--timeout", type=float, default=DEMO_TIMEOUT_SECONDS,
                        help=f"Give up after this many seconds (default: {DEMO_TIMEOUT_SECONDS:g}).")


def run(args: argparse.Namespace) -> int:
    try:
        return anyio.run(_demo, args)
    except TimeoutError:
        print(f"demo: gave up after {args.timeout:g} s", file=sys.stderr)
        return 1


def say(text: str) -> None:
    print(text, flush=True)


@contextmanager
def _data_dir(explicit: str | None) -> Iterator[Path]:
    if explicit:
        yield Path(explicit).expanduser()  # the local service creates it, private to its user
        return
    with tempfile.TemporaryDirectory(prefix="mcp-agents-demo-") as temp:
        yield Path(temp)


def _demo_key(data_dir: Path) -> str | None:
    """A throwaway key for a throwaway directory (no first-start banner); a kept directory keeps its own."""
    return None if (data_dir / "dev_api_key").exists() else f"sk-local-demo-{secrets.token_hex(16)}"


def _structured(result: CallToolResult, tool: str) -> dict[str, Any]:
    if result.is_error or not isinstance(result.structured_content, dict):
        text = " ".join(getattr(item, "text", "") for item in result.content)
        raise RuntimeError(f"{tool} failed: {text}")
    return result.structured_content


async def _demo(args: argparse.Namespace) -> int:
    from mcp_agents.local import LocalServiceConfig, run_local_service

    with anyio.fail_after(args.timeout), _data_dir(args.data_dir) as data_dir:
        wire = args.wire or os.environ.get("MCP_AGENTS_LOCAL_WIRE", "").strip().lower() or "seed"
        if wire not in WIRES:
            raise SystemExit(f"demo: MCP_AGENTS_LOCAL_WIRE must be one of {', '.join(WIRES)}, not {wire!r}")
        config = LocalServiceConfig(data_dir=data_dir, api_key=_demo_key(data_dir), wire=wire)
        async with run_local_service(config) as service:
            say(f"local Agent Runs service at {service.base_url}")
            env = {**os.environ, "VERTESIA_API_URL": service.base_url, "VERTESIA_API_KEY": service.api_key,
                   "VERTESIA_STS_URL": service.sts_url, "MCP_AGENTS_LOG_LEVEL": "error", "PYTHONUNBUFFERED": "1"}
            env.pop("VERTESIA_TOKEN", None)
            params = StdioServerParameters(command=sys.executable, args=["-m", "mcp_agents", "serve"], env=env)
            async with Client(params, elicitation_callback=_answer_question) as client:
                say(f"MCP server over stdio: {len((await client.list_tools()).tools)} tools")
                return await _delegate(client, args)
    return 1  # pragma: no cover - the block above always returns or raises


async def _answer_question(context: Any, params: ElicitRequestParams) -> ElicitResult | ErrorData:
    """The human's side of elicitation, scripted: the agent's question is answered at once."""
    say(f"  ? the agent asks: {params.message}")
    say(f"  > answering: {ANSWER}")
    schema = getattr(params, "requested_schema", None) or {}
    field = next(iter((schema.get("properties") or {"answer": None}).keys()))
    return ElicitResult(action="accept", content={field: ANSWER})


async def _delegate(client: Client, args: argparse.Namespace) -> int:
    data = {"task": "Summarize the demo dataset", "steps": args.steps, "step_delay_ms": args.step_delay_ms,
            "ask": QUESTION}
    say("start_agent_run(interaction='Demo')")
    started = _structured(await client.call_tool("start_agent_run", {"interaction": "Demo", "data": data,
                                                                      "interactive": True}), "start_agent_run")
    run = started["runs"][0]
    run_id, cursor = run["run_id"], run.get("cursor") or "0"
    say(f"  run {run_id} {run['status']}")

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        if message:
            say(f"  [{progress:g}{f'/{total:g}' if total else ''}] {message}")

    for _ in range(MAX_WAIT_CALLS):
        say("wait_for_agent_runs(...)")
        result = _structured(await client.call_tool(
            "wait_for_agent_runs", {"run_ids": [run_id], "since": {run_id: cursor}, "timeout_seconds": 20},
            progress_callback=on_progress), "wait_for_agent_runs")
        run = result["runs"][0]
        cursor = run.get("cursor") or cursor
        if run.get("question"):
            say(f"  ? the agent asks: {run['question']}")
            say(f"send_agent_input(message={ANSWER!r})")
            _structured(await client.call_tool("send_agent_input", {"run_id": run_id, "message": ANSWER}),
                        "send_agent_input")
            continue
        if run.get("done"):  # a done run comes with its final status and answer
            break
        if run.get("turn") == "waiting_for_input":  # an interactive run answered: its turn is over
            say("  the agent answered and waits for your next message; ending the conversation")
            say("cancel_agent_run(...)")
            _structured(await client.call_tool("cancel_agent_run", {"run_id": run_id}), "cancel_agent_run")
            break
    else:
        say("the run did not finish in time")
        return 1
    final = _structured(await client.call_tool("get_agent_run", {"run_id": run_id}), "get_agent_run")
    status = str(final.get("status") or (final.get("run") or {}).get("status") or run["status"])
    say(f"run {run_id} {status}")
    if run.get("answer"):
        say(f"answer: {run['answer']}")
    if run.get("error"):
        say(f"error: {run['error']}")
    listing = await client.call_tool("list_agent_artifacts", {"run_id": run_id})
    if not listing.is_error:
        say("artifacts:")
        for item in listing.content:
            text = getattr(item, "text", "")
            for line in text.splitlines():
                say(f"  {line}")
    return 0 if status == "completed" or (run.get("answer") and not run.get("error")) else 1
