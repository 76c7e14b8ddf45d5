"""Bulk data for the local-service figure, written through the service's own store layer.

Seeding 100k runs or 1M events over HTTP would take longer than the measurement; the store's
record functions (`insert_run`, `insert_messages`, `event_row` + `insert_events`) write the same
rows as the HTTP handlers, in large transactions, before the service process starts. Only the
measured queries go through HTTP. The data is deterministic (a seeded random generator).
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcp_agents.local import records, telemetry
from mcp_agents.local.keys import DEV_KEY_ID
from mcp_agents.local.store import Store, now_ms
from mcp_agents.models import AgentEvent

OWNER = f"apikey:{DEV_KEY_ID}"
BATCH = 5_000
DAY_MS = 86_400_000
SPAN_DAYS = 30
EVENTS_PER_RUN = 20
SUBJECTS = ("invoice", "contract", "quarterly", "report", "customer", "churn", "pricing", "migration", "security",
            "audit", "onboarding", "forecast", "inventory", "latency", "incident", "roadmap", "hiring", "budget",
            "compliance", "translation", "summary", "research", "competitor", "marketing", "support", "refund",
            "database", "kubernetes", "benchmark", "newsletter")
INTERACTIONS = ("Echo", "Demo", "Researcher", "Summarizer", "Translator", "Analyst")
MODELS = ("gpt-5", "claude-sonnet-5", "gemini-3-pro", "local-model")
TOOLS = ("search_documents", "read_file", "write_report", "fetch_url", "run_sql", "plot_chart")
RARE_WORDS = 500  # each run's topic holds one of `kw000`..`kw499`: a word in ~0.2 % of runs
# full-text queries measured. Broad: subject words, each in roughly a quarter of the runs (one or two words,
# the last matched as a prefix). Selective: rare words, alone or with a subject word.
BROAD_QUERIES = ("report", "quarterly invoice", "kubernetes", "churn forecast", "security audit", "refun")
SELECTIVE_QUERIES = ("kw042", "kw317", "kw007 report", "budget kw123", "kw250", "kw499 audit")


def _run_record(rng: random.Random, index: int, now: int) -> dict[str, Any]:
    words = rng.sample(SUBJECTS, 4)
    started = now - rng.randrange(SPAN_DAYS * DAY_MS)
    interaction = rng.choice(INTERACTIONS)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128))), "interaction": interaction, "interaction_version": "1",
        "status": rng.choice(("completed", "completed", "completed", "failed", "cancelled")),
        "visibility": "project", "started_by": OWNER, "interactive": 0, "started_at": started,
        "parent_id": None, "forked_from": None, "workflow_run_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "title": f"{words[0].title()} {words[1]} run {index}",
        "topic": f"{words[2]} and {words[3]} kw{rng.randrange(RARE_WORDS):03d}",
        "tags": rng.sample(SUBJECTS, 2), "categories": [rng.choice(("ops", "sales", "eng", "finance"))],
        "params": {"data": {"task": f"Write a {words[1]} about {words[2]} for the {words[3]} team"}},
    }


def _event(rng: random.Random, run_id: str, kind: str, ts: int) -> AgentEvent:
    base: dict[str, Any] = {"eventType": kind, "timestamp": records.iso(ts), "runId": run_id,
                            "model": rng.choice(MODELS), "environmentId": "env-local", "environmentType": "local",
                            "interactionId": rng.choice(INTERACTIONS)}
    if kind == "llm_call":
        prompt, completion = rng.randrange(200, 8000), rng.randrange(20, 1500)
        base.update(promptTokens=prompt, completionTokens=completion, totalTokens=prompt + completion,
                    durationMs=float(rng.randrange(200, 9000)), success=rng.random() > 0.03, streamingEnabled=True,
                    toolUseCount=rng.randrange(3), callType=rng.choice(("start", "resume_tools", "resume_tools")))
    elif kind == "tool_call":
        base.update(toolName=rng.choice(TOOLS), toolUseId=uuid.UUID(int=rng.getrandbits(128)).hex,
                    toolType="builtin", iteration=rng.randrange(1, 10), success=rng.random() > 0.05,
                    durationMs=float(rng.randrange(5, 3000)), parameters={"query": rng.choice(SUBJECTS)})
    elif kind == "agent_run_completed":
        base.update(success=rng.random() > 0.1, durationMs=float(rng.randrange(2_000, 600_000)),
                    totalIterations=5, totalToolCalls=8, totalLlmCalls=9,
                    tokenUsage={"input": rng.randrange(1000, 50_000), "output": rng.randrange(100, 8000)})
    return AgentEvent.model_validate(base)


def _kinds(count: int) -> list[str]:
    middle = ["llm_call" if i % 2 == 0 else "tool_call" for i in range(max(0, count - 2))]
    return ["agent_run_started", *middle, "agent_run_completed"][:count]


async def seed(data_dir: Path, runs: int, events: int, progress: Callable[[str], None]) -> None:
    """`runs` finished runs (one answer message each) and `events` telemetry events spread over them."""
    rng, now = random.Random(6), now_ms()
    store = Store(data_dir)
    store.open()
    try:
        run_ids: list[tuple[str, int]] = []
        for start in range(0, runs, BATCH):
            recs = [_run_record(rng, index, now) for index in range(start, min(runs, start + BATCH))]

            def write_runs(conn: sqlite3.Connection, recs: list[dict[str, Any]] = recs) -> None:
                for rec in recs:
                    records.insert_run(conn, {**rec, "status": "running"})
                    records.insert_messages(store, conn, rec["id"], [{"t": "ANSWER", "m": rec["params"]["data"]
                                                                      ["task"] + " - done."}])
                    records.finish_run(conn, rec["id"], rec["status"], rec["started_at"] + 60_000)

            await store.write(write_runs)
            run_ids.extend((rec["id"], rec["started_at"]) for rec in recs)
            progress(f"seeded {len(run_ids):,}/{runs:,} runs")
        written = 0
        while written < events:
            rows: list[tuple[Any, ...]] = []
            while len(rows) < BATCH and written + len(rows) < events:
                run_id, started = run_ids[rng.randrange(len(run_ids))] if run_ids else (str(uuid.uuid4()), now)
                count = min(EVENTS_PER_RUN, events - written - len(rows))
                for offset, kind in enumerate(_kinds(count)):
                    rows.append(telemetry.event_row(_event(rng, run_id, kind, started + offset * 1000), run_id,
                                                    None, OWNER))

            def write_events(conn: sqlite3.Connection, rows: list[tuple[Any, ...]] = rows) -> None:
                telemetry.insert_events(conn, rows)

            await store.write(write_events)
            written += len(rows)
            if written % (BATCH * 20) < BATCH or written >= events:
                progress(f"seeded {written:,}/{events:,} events")
    finally:
        await store.close()
