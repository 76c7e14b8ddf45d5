"""Local service: message ingest under SSE fan-out, full-text search and analytics on a big database.

The database is seeded through the store layer (`seeding.py`) before the service process starts;
every measured request goes through HTTP. Ingest (`ingest.py`) runs last, on the same service.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from mcp_agents.bench import seeding
from mcp_agents.bench.harness import Harness, Service, log
from mcp_agents.bench.ingest import measure_ingest
from mcp_agents.bench.report import Figure, Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.bench.stats import summarize
from mcp_agents.client import AgentRunsClient

SEARCH_TARGET_MS = 20.0
ANALYTICS_TARGET_MS = 250.0
QUERY_BUDGET_SECONDS = 60.0  # per measured query kind; the n column shows how many samples it allowed
MIN_SAMPLES = 3


async def _sample(call: Callable[[], Awaitable[Any]], repeat: int) -> list[float]:
    """`repeat` timed calls after a warm-up call, fewer (at least MIN_SAMPLES) when one call is slow."""
    started = time.perf_counter()
    await call()  # warm caches and the JWT
    first = time.perf_counter() - started
    count = max(MIN_SAMPLES, min(repeat, int(QUERY_BUDGET_SECONDS / max(first, 1e-6))))
    out: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        out.append((time.perf_counter() - started) * 1000)
    return out


async def _search_line(client: AgentRunsClient, kind: str, queries: tuple[str, ...], sizes: Sizes) -> Line:
    position, matches = 0, []

    async def search() -> None:
        nonlocal position
        result = await client.runs.search(queries[position % len(queries)], limit=20)
        position += 1
        matches.append(result.total)

    stats = summarize(await _sample(search, max(sizes.query_repeat, len(queries))))
    judged = kind == "selective"  # broad search (thousands of matches) is measured, no longer a target
    return Line(f"`search` ({kind} queries), {sizes.runs:,} runs", "ms", stats,
                target=f"<= {SEARCH_TARGET_MS:.0f} ms at p50" if judged else "",
                ok=stats.p50 <= SEARCH_TARGET_MS if judged else None,
                note=f"{len(queries)} queries, limit 20, median {sorted(matches)[len(matches) // 2]:,} matching runs")


async def _queries(harness: Harness, service: Service, sizes: Sizes, figure: Figure) -> None:
    async with harness.api_client(service) as client:
        for kind, queries in (("broad", seeding.BROAD_QUERIES), ("selective", seeding.SELECTIVE_QUERIES)):
            figure.lines.append(await _search_line(client, kind, queries, sizes))
        now = time.time()
        window = {"from": int((now - (seeding.SPAN_DAYS + 1) * 86_400) * 1000), "to": int(now * 1000)}
        reports: dict[str, Callable[[], Awaitable[Any]]] = {
            "summary": lambda: client.analytics.summary(window),
            "tokens": lambda: client.analytics.tokens({**window, "resolution": "day"}),
        }
        for name, call in reports.items():
            stats = summarize(await _sample(call, sizes.query_repeat))
            figure.lines.append(Line(f"analytics `{name}` p50, {sizes.events:,} events", "ms", stats,
                                     target=f"<= {ANALYTICS_TARGET_MS:.0f} ms at p50",
                                     ok=stats.p50 <= ANALYTICS_TARGET_MS,
                                     note="31-day window" + (", daily series" if name == "tokens" else "")))


async def measure(harness: Harness, sizes: Sizes) -> Figure:
    figure = Figure("local_service", "local service: ingest with SSE fan-out, search and analytics at size")
    data_dir = harness.path("seeded-data")
    log(f"local service: seeding {sizes.runs:,} runs and {sizes.events:,} events through the store layer")
    started = time.perf_counter()
    await seeding.seed(data_dir, sizes.runs, sizes.events, log)
    figure.notes.append(f"seeded {sizes.runs:,} runs and {sizes.events:,} events through the store layer in "
                        f"{time.perf_counter() - started:.0f} s; measured requests go through HTTP")
    async with harness.local_service(data_dir) as service:
        await _queries(harness, service, sizes, figure)
        figure.lines.extend(await measure_ingest(harness, service, sizes))
    return figure
