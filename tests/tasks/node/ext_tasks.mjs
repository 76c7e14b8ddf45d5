// The official task requester (@modelcontextprotocol/ext-tasks on @modelcontextprotocol/client), 2026-07-28.
//
// node ext_tasks.mjs <scenario> [reference-json]
//   MCP_URL=http://.../mcp                 streamable HTTP (each raw request is a plain POST: the era is stateless)
//   MCP_COMMAND='["python","-m",...]'      stdio (raw requests share the SDK transport; replies routed by id)
// Scenarios: question (a Demo run that asks; answered through tasks/update), fail, cancel,
// detach (start, wait for the question, print the serialized reference), resume (answer and settle it).
// The last stdout line is a JSON summary.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { createTaskSessionFromClient, resultFromTaskOutcome } from "@modelcontextprotocol/ext-tasks/client";

const VERSION = "2026-07-28";
const info = { name: "ext-tasks-test", version: "1.0.0" };
const caps = { elicitation: { form: {} }, extensions: { "io.modelcontextprotocol/tasks": {} } };
const [scenario, referenceJson] = process.argv.slice(2);
const asked = [];
let counter = 0;

function lastMessage(text, contentType) {
  if (!contentType.includes("text/event-stream")) return JSON.parse(text);
  const events = text.split(/\r?\n\r?\n/).map((block) => block.split(/\r?\n/)
    .filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trimStart()).join("\n"))
    .filter(Boolean).map((data) => JSON.parse(data)).filter((msg) => "result" in msg || "error" in msg);
  return events[events.length - 1];
}

async function connect() {
  const client = new Client(info, { capabilities: caps, versionNegotiation: { mode: { pin: VERSION } } });
  let rawDispatch;
  if (process.env.MCP_URL) {
    const url = process.env.MCP_URL;
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    rawDispatch = async (request, options = {}) => {
      const body = { jsonrpc: "2.0", id: `raw-${++counter}`, ...request };
      const headers = new Headers({ "content-type": "application/json", accept: "application/json, text/event-stream",
        "mcp-protocol-version": VERSION, "mcp-method": request.method });
      if (request.method === "tools/call") headers.set("mcp-name", request.params.name);
      for (const [key, value] of Object.entries(options.context?.headers ?? {})) headers.set(key, value);
      const response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body) });
      const msg = lastMessage(await response.text(), response.headers.get("content-type") ?? "");
      return msg.error ? { kind: "error", error: msg.error } : { kind: "result", result: msg.result };
    };
  } else {
    const [command, ...args] = JSON.parse(process.env.MCP_COMMAND);
    const transport = new StdioClientTransport({ command, args, env: process.env, stderr: "inherit" });
    const pending = new Map();
    const send = transport.send.bind(transport);
    let inner;
    Object.defineProperty(transport, "onmessage", {
      get: () => (inner ? routed : undefined),
      set: (handler) => { inner = handler; },
    });
    const routed = (msg, extra) => {
      if (typeof msg.id === "string" && msg.id.startsWith("raw-") && pending.has(msg.id) && !("method" in msg)) {
        pending.get(msg.id)(msg);
        pending.delete(msg.id);
      } else inner?.(msg, extra);
    };
    await client.connect(transport);
    rawDispatch = (request) => new Promise((resolve, reject) => {
      const id = `raw-${++counter}`;
      pending.set(id, (msg) => resolve(msg.error ? { kind: "error", error: msg.error } : { kind: "result", result: msg.result }));
      send({ jsonrpc: "2.0", id, ...request }).catch(reject);
    });
  }
  const session = createTaskSessionFromClient(client, {
    endpointId: "agent-runs", rawDispatch,
    v2RequestFraming: { protocolVersion: VERSION, clientInfo: info, clientCapabilities: caps },
    onInputRequest: async (request, ctx) => {
      asked.push({ key: ctx.inputId, message: request.params?.message ?? request.message ?? null });
      return { action: "accept", content: { answer: "teal" } };
    },
  });
  return { client, session };
}

function summary(outcome) {
  const out = { status: outcome.status };
  if (outcome.status === "completed") {
    const result = resultFromTaskOutcome(outcome);
    out.isError = Boolean(result.isError);
    out.structured = result.structuredContent ?? null;
    out.text = result.content?.[0]?.text ?? null;
  } else if (outcome.status === "failed") {
    out.error = { code: outcome.error?.code ?? null, message: outcome.error?.message ?? null };
  }
  return out;
}

const demo = (data) => ({ interaction: "Demo", data: { task: "ext-tasks", steps: 2, step_delay_ms: 1, ...data } });

async function main() {
  const { client, session } = await connect();
  let out;
  try {
    if (scenario === "question" || scenario === "fail") {
      const ex = await session.callTool("start_agent_run",
        demo(scenario === "fail" ? { fail: "disk full" } : { ask: "Which colour?" }));
      const statuses = [];
      const { outcome } = await ex.settle({ onEvent: (event) => { if (event.type === "task") statuses.push(event.task.status); } });
      out = { kind: ex.kind, taskId: ex.handle?.taskId ?? null, statuses: [...new Set(statuses)], asked, ...summary(outcome) };
    } else if (scenario === "cancel") {
      const ex = await session.callTool("start_agent_run", demo({ steps: 200, step_delay_ms: 100 }));
      await ex.cancel();
      const outcome = await session.task(ex.handle.taskId).result();
      await session.task(ex.handle.taskId).cancel();  // a finished task: acknowledged, nothing happens
      out = { kind: ex.kind, taskId: ex.handle.taskId, ...summary(outcome) };
    } else if (scenario === "detach") {
      const ex = await session.callTool("start_agent_run", demo({ ask: "Which colour?" }), { inputHandler: undefined });
      const reference = ex.serializeReference();
      await ex.detach();
      const controller = session.task(reference.taskId);
      let view = await controller.snapshot();
      for (let i = 0; i < 200 && view.status !== "input_required"; i++) {
        await new Promise((r) => setTimeout(r, 50));
        view = await controller.snapshot();
      }
      out = { kind: ex.kind, status: view.status, reference };
    } else if (scenario === "resume") {
      const reference = JSON.parse(referenceJson);
      const ex = await session.resumeTask(reference);
      const { outcome } = await ex.settle();
      out = { kind: ex.kind, asked, ...summary(outcome) };
    } else {
      throw new Error(`unknown scenario ${scenario}`);
    }
  } finally {
    await session.close().catch(() => {});
    await client.close().catch(() => {});
  }
  console.log(JSON.stringify(out));
}

main().then(() => process.exit(0), (error) => { console.error(error?.stack ?? error); process.exit(1); });
