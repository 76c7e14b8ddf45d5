"""Local-service ingest: messages posted to one run while S SSE subscribers follow it.

The load generator is kept cheap so the figure is the service's, not the benchmark's: the
subscribers run in their own process (`ingest_subscribers`) and count frames on raw bytes, and
the poster here sends raw HTTP/1.1 POSTs over a few keep-alive connections with a pre-issued
JWT. Two rates are reported from the first POST: acknowledged (every POST answered 2xx) and
delivered (the last message reached every subscriber), with the service's CPU per message read
from /proc and the load generator's own CPU beside it. Each subscriber must get every message
exactly once (lost, duplicated and out-of-order frames are counted per subscriber).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import anyio

from mcp_agents.bench import procs
from mcp_agents.bench.harness import Harness, Service, issue_token, log
from mcp_agents.bench.ingest_subscribers import TOKEN_ENV
from mcp_agents.bench.rawhttp import Endpoint, read_response, request_head
from mcp_agents.bench.report import Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.models.paths import API_VERSION

CONNECTIONS = 16  # concurrent keep-alive POST connections
READY_INTERVAL = 0.1
Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class _Poster:
    """Raw keep-alive POSTs of `{"message": ...}` to one run's updates."""

    def __init__(self, endpoint: Endpoint, run_id: str, token: str) -> None:
        self.endpoint = endpoint
        self.path = f"/agents/{run_id}/updates"
        self.headers = {"Authorization": f"Bearer {token}", "x-api-version": API_VERSION,
                        "Content-Type": "application/json"}
        self.failures = 0
        self.first_failure = ""

    async def post(self, conn: Connection, message: str) -> None:
        reader, writer = conn
        body = json.dumps({"message": message}).encode()
        writer.write(request_head("POST", self.endpoint, self.path, self.headers, len(body)) + body)
        status, answer = await read_response(reader)
        if not 200 <= status < 300:
            self.failures += 1
            self.first_failure = self.first_failure or f"{status} {answer[:200]!r}"


async def _create_run(endpoint: Endpoint, token: str) -> str:
    reader, writer = await endpoint.connect()
    try:
        body = json.dumps({"interaction": "Echo", "interactive": True, "data": {"task": "bench"}}).encode()
        headers = {"Authorization": f"Bearer {token}", "x-api-version": API_VERSION,
                   "Content-Type": "application/json"}
        writer.write(request_head("POST", endpoint, "/agents", headers, len(body)) + body)
        status, answer = await read_response(reader)
        if not 200 <= status < 300:
            raise RuntimeError(f"creating the ingest run answered {status}: {answer[:200]!r}")
        run_id: Any = json.loads(answer)["id"]
        return str(run_id)
    finally:
        writer.close()


async def measure_ingest(harness: Harness, service: Service, sizes: Sizes) -> list[Line]:
    endpoint = Endpoint.from_url(service.base_url)
    token = await issue_token(service)
    run_id = await _create_run(endpoint, token)
    poster = _Poster(endpoint, run_id, token)
    ready, result_path, log_path = (harness.path("ingest-ready"), harness.path("ingest-result.json"),
                                    harness.path("ingest-subscribers.log"))
    command = [sys.executable, "-m", "mcp_agents.bench.ingest_subscribers", "--base-url", service.base_url,
               "--run-id", run_id, "--api-version", API_VERSION, "--since", str(int(time.time() * 1000)),
               "--subscribers", str(sizes.subscribers), "--messages", str(sizes.messages),
               "--timeout", str(sizes.timeout), "--ready-file", str(ready), "--result-file", str(result_path)]
    conns = [await endpoint.connect() for _ in range(CONNECTIONS)]
    try:
        async with procs.spawn(command, env=harness.base_env(**{TOKEN_ENV: token}), log_path=log_path) as process:
            with anyio.fail_after(sizes.timeout):  # subscribed: a marker posted now reaches everyone
                while not await anyio.Path(ready).exists():
                    if process.poll() is not None:
                        raise RuntimeError(f"ingest subscribers exited: {procs.tail(log_path)}")
                    await poster.post(conns[0], "bench-ready")
                    await anyio.sleep(READY_INTERVAL)
            log(f"local service: posting {sizes.messages:,} messages over {CONNECTIONS} connections to "
                f"{sizes.subscribers} SSE subscribers (in their own process)")
            next_index = 0

            async def send(conn: Connection) -> None:
                nonlocal next_index
                while next_index < sizes.messages:
                    index, next_index = next_index, next_index + 1
                    await poster.post(conn, f"ingest-{index}")

            service_cpu, own_cpu = procs.cpu_seconds(service.pid), time.process_time()
            started = time.monotonic()
            with anyio.fail_after(sizes.timeout):
                async with anyio.create_task_group() as group:
                    for conn in conns:
                        group.start_soon(send, conn)
            acked = time.monotonic() - started
            own_cpu = time.process_time() - own_cpu
            result = await procs.wait_for_file(result_path, process, 2 * sizes.timeout + 10, log_path)
            service_cpu = procs.cpu_seconds(service.pid) - service_cpu
    finally:
        for _, writer in conns:
            writer.close()
    return _lines(sizes, poster, result, acked, started, service_cpu, own_cpu)


def _lines(sizes: Sizes, poster: _Poster, result: dict[str, Any], acked: float, started: float,
           service_cpu: float, own_cpu: float) -> list[Line]:
    subs: list[dict[str, Any]] = result["subscribers"]
    n = sizes.messages
    lost = sum(n - s["count"] for s in subs)
    duplicates = sum(s["duplicates"] for s in subs)
    disorder = sum(s["disorder"] for s in subs)
    errors = sorted({s["error"] for s in subs if s["error"]})
    delivered = max(s["last_at"] for s in subs) - started
    delivered_rate = n / delivered if lost == 0 and delivered > 0 else 0.0
    acked_rate = n / acked
    where = f"{n:,} messages to {sizes.subscribers} SSE subscribers"
    note = (f"last message at every subscriber; {lost} lost, {duplicates} duplicated, {disorder} out of order"
            + (f"; subscriber errors: {'; '.join(errors)}" if errors else ""))
    return [
        # The rate is measured, not a target (users do not feel it); losing or reordering a message would be felt.
        Line(f"ingest, {where}: delivered", "msg/s", delivered_rate, target="0 lost, duplicated or out of order",
             ok=lost == 0 and duplicates == 0 and disorder == 0, note=note),
        Line(f"ingest, {where}: acknowledged", "msg/s", acked_rate,
             note=f"every POST answered, {poster.failures} not 2xx"
                  + (f" (first: {poster.first_failure})" if poster.failures else "")
                  + f"; {CONNECTIONS} keep-alive connections"),
        Line("ingest: service CPU per message", "µs", service_cpu / n * 1e6,
             note=f"{service_cpu:.2f} s service CPU for {n:,} messages; load generator "
                  f"{own_cpu:.2f} s posting + {result['cpu_seconds']:.2f} s subscriber process (all of it)"),
    ]

