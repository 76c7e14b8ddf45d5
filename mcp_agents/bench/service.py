"""Local service: message ingest under SSE fan-out, full-text search and analytics on a big database.

The database is seeded through the store layer (`seeding.py`) before the service process starts;
every measured request goes through HTTP. Ingest: N messages are posted to one live run by a
pool of concurrent posters while S SSE subscribers follow it; the rate is N over the time from
the first post to the moment every subscriber has every message (each one counted, none lost).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx2

from mcp_agents.bench import seeding
from mcp_agents.bench.harness import HTTP_TIMEOUT, Harness, Service, issue_token, log
from mcp_agents.bench.report import Figure, Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.bench.stats import summarize
from mcp_agents.bench.waits import Pulse, wait_for
from mcp_agents.client import AgentRunsClient
from mcp_agents.models.paths import API_VERSION

INGEST_TARGET = 5_000.0
SEARCH_TARGET_MS = 20.0
ANALYTICS_TARGET_MS = 250.0
POSTERS = 16
QUERY_BUDGET_SECONDS = 60.0  # per measured query kind; the n column shows how many samples it allowed
MIN_SAMPLES = 3
MARK = "ingest-"


class _Subscriber:
    """One SSE follower of a run, counting the distinct benchmark messages it received."""

    def __init__(self, pulse: Pulse) -> None:
        self.pulse = pulse
        self.seen: set[str] = set()
        self.duplicates = 0
        self.ready = False

    async def follow(self, http: httpx2.AsyncClient, url: str, headers: dict[str, str]) -> None:
        params = {"skipHistory": "true", "since": str(int(time.time() * 1000))}
        async with http.sse(url, params=params, headers=headers, timeout=httpx2.Timeout(None, connect=10.0)) as source:
            source.response.raise_for_status()
            async for event in source:
                data = event.data
                start = data.find(MARK)
                if start >= 0:
                    key = data[start:data.find('"', start)]
                    if key in self.seen:
                        self.duplicates += 1
                    self.seen.add(key)
                elif "bench-ready" in data:
                    self.ready = True
                self.pulse.fire()


async def _ingest(service: Service, sizes: Sizes, figure: Figure) -> None:
    token = await issue_token(service)
    headers = {"Authorization": f"Bearer {token}", "x-api-version": API_VERSION}
    limits = httpx2.Limits(max_connections=POSTERS + sizes.subscribers + 4)
    async with httpx2.AsyncClient(timeout=HTTP_TIMEOUT, limits=limits) as http:
        created = await http.post(f"{service.base_url}/agents", headers=headers,
                                  json={"interaction": "Echo", "interactive": True, "data": {"task": "bench"}})
        created.raise_for_status()
        run_id = created.json()["id"]
        updates = f"{service.base_url}/agents/{run_id}/updates"
        pulse = Pulse()
        subscribers = [_Subscriber(pulse) for _ in range(sizes.subscribers)]
        async with anyio.create_task_group() as group:
            for subscriber in subscribers:
                group.start_soon(subscriber.follow, http, f"{service.base_url}/agents/{run_id}/stream", headers)

            async def all_ready() -> None:  # subscribed: a marker posted now reaches everyone
                while not all(s.ready for s in subscribers):
                    (await http.post(updates, headers=headers, json={"message": "bench-ready"})).raise_for_status()
                    await anyio.sleep(0.1)

            with anyio.fail_after(sizes.timeout):
                await all_ready()
            log(f"local service: posting {sizes.messages} messages with {sizes.subscribers} SSE subscribers")
            next_index = 0

            async def poster() -> None:
                nonlocal next_index
                while next_index < sizes.messages:
                    index, next_index = next_index, next_index + 1
                    response = await http.post(updates, headers=headers, json={"message": f"{MARK}{index}"})
                    response.raise_for_status()

            started = time.perf_counter()
            async with anyio.create_task_group() as posters:
                for _ in range(POSTERS):
                    posters.start_soon(poster)
            acked = time.perf_counter() - started
            # a shortfall is reported as lost messages below
            await wait_for(lambda: all(len(s.seen) >= sizes.messages for s in subscribers), pulse, sizes.timeout)
            delivered = time.perf_counter() - started
            group.cancel_scope.cancel()
    lost = sum(sizes.messages - len(s.seen) for s in subscribers)
    duplicates = sum(s.duplicates for s in subscribers)
    rate = sizes.messages / delivered
    figure.lines.append(Line(f"ingest, {sizes.messages:,} messages to {sizes.subscribers} SSE subscribers", "msg/s",
                             rate, target=f">= {INGEST_TARGET:,.0f} msg/s, 0 lost",
                             ok=rate >= INGEST_TARGET and lost == 0,
                             note=f"{lost} lost, {duplicates} duplicated; all acknowledged at "
                                  f"{sizes.messages / acked:,.0f} msg/s"))


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
    return Line(f"`search` ({kind} queries), {sizes.runs:,} runs", "ms", stats,
                target=f"<= {SEARCH_TARGET_MS:.0f} ms at p50", ok=stats.p50 <= SEARCH_TARGET_MS,
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
                        f"{time.perf_counter() - started:.0f} s; measured requests go through HTTP; ingest uses "
                        f"{POSTERS} concurrent posters")
    async with harness.local_service(data_dir) as service:
        await _queries(harness, service, sizes, figure)
        await _ingest(service, sizes, figure)
    return figure
