// The 1.x TypeScript SDK's experimental tasks client (protocol 2025-11-25) over stdio or HTTP.
//
// node sdk_v1.mjs <scenario>   (MCP_URL=http://.../mcp, or MCP_COMMAND='["python","-m",...]' for stdio)
// Scenarios: question (a Demo run that asks; answered by the elicitation handler during tasks/result),
// cancel (getTask, cancelTask). The last stdout line is a JSON summary.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const scenario = process.argv[2];
const asked = [];
const client = new Client({ name: "sdk-v1-tasks-test", version: "1.0.0" },
  { capabilities: { elicitation: { form: {} }, tasks: { requests: {} } } });
client.setRequestHandler(ElicitRequestSchema, async (request) => {
  asked.push(request.params.message);
  return { action: "accept", content: { answer: "teal" } };
});

const transport = process.env.MCP_URL
  ? new StreamableHTTPClientTransport(new URL(process.env.MCP_URL))
  : (() => { const [command, ...args] = JSON.parse(process.env.MCP_COMMAND);
    return new StdioClientTransport({ command, args, env: process.env, stderr: "inherit" }); })();

async function main() {
  await client.connect(transport);
  const out = { protocolVersion: transport.protocolVersion ?? null, asked };
  const tools = (await client.listTools()).tools;
  out.taskSupport = Object.fromEntries(tools.filter((t) => t.execution).map((t) => [t.name, t.execution.taskSupport]));
  out.capabilities = client.getServerCapabilities()?.tasks ?? null;
  const demo = (data) => ({ name: "start_agent_run",
    arguments: { interaction: "Demo", data: { task: "v1", steps: 2, step_delay_ms: 1, ...data } } });
  if (scenario === "question") {
    const seen = [];
    for await (const message of client.experimental.tasks.callToolStream(demo({ ask: "Which colour?" }))) {
      if (message.type === "taskCreated") { out.taskId = message.task.taskId; seen.push("created:" + message.task.status); }
      else if (message.type === "taskStatus") seen.push(message.task.status);
      else if (message.type === "result") out.result = message.result;
      else if (message.type === "error") out.error = { code: message.error.code, message: message.error.message };
    }
    out.seen = [...new Set(seen)];
    out.task = await client.experimental.tasks.getTask(out.taskId);
  } else if (scenario === "cancel") {
    const stream = client.experimental.tasks.callToolStream(demo({ steps: 200, step_delay_ms: 100 }));
    const first = (await stream.next()).value;
    out.taskId = first.task.taskId;
    out.cancelled = await client.experimental.tasks.cancelTask(out.taskId);
    out.task = await client.experimental.tasks.getTask(out.taskId);
    await stream.return?.();
  }
  await client.close();
  console.log(JSON.stringify(out));
}

main().then(() => process.exit(0), (error) => { console.error(error?.stack ?? error); process.exit(1); });
