"""`mcp-agents bench`: figures users feel (latency, relay, fan-out, cold start, footprint, local service),
each measured beside its baseline in the same run, with medians, p95 and per-pair ratios."""
