"""Call overhead: `get_agent_run` through mcp-agents against a bare `MCPServer` doing the same request.

The judged ratio is against the bare `MCPServer` of `harness.BARE_SERVER`, whose `get_agent_run` tool
makes the same request with the same client library: an MCP call can never cost less than the SDK's
own round trip, so that is the floor, over stdio and over streamable HTTP alike. The client library
alone and a bare httpx2 GET are measured too (what MCP adds in absolute terms). All variants are
measured in rounds, so each sample is paired with its baseline of the same round; every server is a
subprocess pointed at the same local service.
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

TARGET = 1.10
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
            harness.bare_http_server(service) as bare_server,
            httpx2.AsyncClient(timeout=HTTP_TIMEOUT) as bare_http_pool,
            harness.stdio_client(harness.server_env(service), command=harness.bare_server_command(),
                                 log_name="bare.log") as sdk,
            harness.http_client(bare_server, bare_http_pool) as sdk_http,
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

            async def sdk_stdio() -> None:
                structured(await sdk.call_tool("get_agent_run", {"run_id": run.id}))

            async def sdk_over_http() -> None:
                structured(await sdk_http.call_tool("get_agent_run", {"run_id": run.id}))

            variants = {"library": library, "sdk": sdk_stdio, "stdio": over_stdio, "bare": bare,
                        "legacy": over_legacy, "sdk_http": sdk_over_http, "http": over_http}
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
    for name, floor, label, floor_label in (
            ("stdio", "sdk", "MCP stdio `get_agent_run`", "bare MCPServer tool, stdio"),
            ("http", "sdk_http", "MCP streamable HTTP `get_agent_run`", "bare MCPServer tool, HTTP")):
        ratio = paired_ratio(samples[name], samples[floor])
        measured, baseline = summarize(samples[name]), summarize(samples[floor])
        over_library = paired_ratio(samples[name], samples["library"]).p50
        figure.lines.append(Line(label, "ms", measured, floor_label, baseline, ratio, f"<= {TARGET:.2f}x at p50",
                                 ratio.p50 <= TARGET,
                                 note=f"{measured.p50 - baseline.p50:+.2f} ms over the bare server, "
                                      f"{over_library:.2f}x the client library alone"))
    figure.lines.append(Line("MCP stdio `get_agent_run`, 2025-11-25 handshake era", "ms", summarize(samples["legacy"]),
                             "bare MCPServer tool, stdio", summarize(samples["sdk"]),
                             paired_ratio(samples["legacy"], samples["sdk"]), note="bare server in the 2026 era"))
    figure.notes.append("rounds of library, bare MCPServer stdio, stdio, bare GET, stdio (handshake era), bare "
                        "MCPServer HTTP, HTTP; each sample is paired with its baseline of the same round; the bare "
                        "MCPServer's `get_agent_run` makes the same request with the same client library; servers "
                        "use the local service as a remote backend; protocol 2026-07-28 (the SDK client's default) "
                        "unless the line says 2025-11-25")
    return figure
