"""Call overhead: `get_agent_run` through MCP against the same request made without MCP.

Four ways to read one run, measured in rounds (client library, MCP over stdio, bare httpx2,
MCP over streamable HTTP), so that each MCP sample is paired with the client-library sample of
its own round. The MCP servers are `mcp-agents serve` subprocesses pointed at the same local
service as the direct calls; the client library and the bare GET share its JWT.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2

from mcp_agents.bench.harness import HTTP_TIMEOUT, Harness, Service, issue_token, log, structured
from mcp_agents.bench.report import Figure, Line
from mcp_agents.bench.sizes import Sizes
from mcp_agents.bench.stats import paired_ratio, summarize
from mcp_agents.models.paths import API_VERSION

TARGET = 1.3
WARMUP = 10


async def _timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def measure(harness: Harness, service: Service, sizes: Sizes) -> Figure:
    figure = Figure("call_overhead", "get_agent_run through MCP vs the client library and a bare GET")
    token = await issue_token(service)
    headers = {"Authorization": f"Bearer {token}", "x-api-version": API_VERSION, "accept": "application/json"}
    async with harness.api_client(service) as client:
        run = await client.runs.create(interaction="Echo", data={"task": "call overhead"}, interactive=False)
        url = f"{service.base_url}/agents/{run.id}"
        async with (
            httpx2.AsyncClient(timeout=HTTP_TIMEOUT) as raw,
            httpx2.AsyncClient(timeout=HTTP_TIMEOUT) as mcp_http,
            harness.http_server(service) as server,
            harness.stdio_client(harness.server_env(service)) as stdio,
            harness.stdio_client(harness.server_env(service), mode="legacy", log_name="serve-legacy.log") as legacy,
            harness.http_client(server, mcp_http) as http,
            harness.stdio_client(harness.base_env(), command=harness.bare_server_command(),
                                 log_name="bare.log") as sdk,
        ):
            async def bare() -> None:
                response = await raw.get(url, headers=headers)
                response.raise_for_status()
                response.json()

            async def library() -> None:
                await client.runs.retrieve(run.id)

            async def over_stdio() -> None:
                structured(await stdio.call_tool("get_agent_run", {"run_id": run.id}))

            async def over_legacy() -> None:
                structured(await legacy.call_tool("get_agent_run", {"run_id": run.id}))

            async def over_http() -> None:
                structured(await http.call_tool("get_agent_run", {"run_id": run.id}))

            async def sdk_floor() -> None:
                structured(await sdk.call_tool("ping", {}))

            variants = {"library": library, "stdio": over_stdio, "bare": bare, "legacy": over_legacy,
                        "http": over_http, "sdk": sdk_floor}
            samples: dict[str, list[float]] = {name: [] for name in variants}
            for call in variants.values():  # connections, JWT cache, imports, first-call paths
                for _ in range(WARMUP):
                    await call()
            log(f"call overhead: {sizes.repeat} rounds of {', '.join(variants)}")
            for _ in range(sizes.repeat):
                for name, call in variants.items():
                    samples[name].append(await _timed(call))

    library_ms = summarize(samples["library"])
    figure.lines.append(Line("client library `runs.retrieve`", "ms", library_ms, "bare httpx2 GET",
                             summarize(samples["bare"]), paired_ratio(samples["library"], samples["bare"])))
    for name, label in (("stdio", "MCP stdio `get_agent_run`"),
                        ("legacy", "MCP stdio `get_agent_run`, 2025-11-25 handshake era"),
                        ("http", "MCP streamable HTTP `get_agent_run`")):
        ratio = paired_ratio(samples[name], samples["library"])
        measured = summarize(samples[name])
        figure.lines.append(Line(label, "ms", measured, "client library", library_ms, ratio,
                                 f"<= {TARGET}x at p50", ratio.p50 <= TARGET,
                                 note=f"+{measured.p50 - library_ms.p50:.2f} ms at p50"))
    figure.lines.append(Line("bare `MCPServer` one-tool call, stdio (SDK floor, no backend)", "ms",
                             summarize(samples["sdk"]), note="what any MCP stdio call costs before the tool runs"))
    figure.notes.append("rounds of library, stdio, bare GET, stdio (handshake era), HTTP, SDK floor; each MCP "
                        "sample is paired with the library sample of its round; MCP servers are `mcp-agents serve` "
                        "subprocesses using the local service as a remote backend; protocol 2026-07-28 (the SDK "
                        "client's default) unless the line says 2025-11-25")
    return figure
