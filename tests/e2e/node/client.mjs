// An independent MCP client for the end-to-end tests: the official TypeScript SDK over stdio.
// Spawns `$MCP_AGENTS_PYTHON -m mcp_agents serve` (the environment points it at a service), lists the
// tools, delegates a Demo run, waits for it with progress, and prints one JSON object on stdout.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const TIMEOUT_MS = 45_000;
const watchdog = setTimeout(() => {
  console.error("client.mjs: timed out");
  process.exit(3);
}, TIMEOUT_MS);

const transport = new StdioClientTransport({
  command: process.env.MCP_AGENTS_PYTHON || "python3",
  args: ["-m", "mcp_agents", "serve"],
  env: { ...process.env },
  stderr: "inherit",
});
const client = new Client({ name: "mcp-agents-e2e-node", version: "1.0.0" });
await client.connect(transport);

const tools = (await client.listTools()).tools;
const started = await client.callTool({
  name: "start_agent_run",
  arguments: { interaction: "Demo", data: { task: "node", steps: 2, step_delay_ms: 5 }, interactive: false },
});
const runId = started.structuredContent.runs[0].run_id;

const progress = [];
let run = null;
let cursor = 0;
for (let i = 0; i < 10; i++) {
  const waited = await client.callTool(
    { name: "wait_for_agent_runs", arguments: { run_ids: [runId], since: { [runId]: cursor }, timeout_seconds: 30 } },
    undefined,
    { onprogress: (p) => progress.push(p), timeout: 40_000 },
  );
  if (waited.isError) throw new Error(JSON.stringify(waited.content));
  run = waited.structuredContent.runs[0];  // a done run carries its final status and answer
  cursor = run.cursor || cursor;
  if (run.done) break;
}
const resource = await client.readResource({ uri: `agent-run://${runId}` });

console.log(JSON.stringify({
  protocolVersion: transport.protocolVersion ?? null,
  server: client.getServerVersion(),
  tools: tools.map((tool) => ({ name: tool.name, readOnly: tool.annotations?.readOnlyHint ?? null })),
  runId,
  status: run.status,
  done: run.done,
  answer: run.answer,
  progress: progress.map((p) => ({ progress: p.progress, total: p.total ?? null, message: p.message ?? null })),
  resourceStatus: JSON.parse(resource.contents[0].text).status,
}));
await client.close();
clearTimeout(watchdog);
