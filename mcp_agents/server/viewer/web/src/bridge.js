// The MCP Apps protocol (2026-01-26) spoken directly over postMessage with the host: JSON-RPC 2.0 requests
// and notifications. The SDK's `App` class would add ~600 KB (the MCP client core and zod) for the same few
// messages; the test host is the official `AppBridge`, so this side is checked against the real thing.

const PROTOCOL_VERSION = "2026-01-26";
const REQUEST_TIMEOUT_MS = 330_000; // above the longest wait a tool call may take (300 s)

export class HostError extends Error {}

export class Bridge {
  constructor(handlers) {
    this.handlers = handlers; // { notification(method, params), teardown() }
    this.pending = new Map();
    this.nextId = 1;
    this.host = { capabilities: {}, context: {} };
    addEventListener("message", (event) => this.receive(event));
  }

  send(message) {
    parent.postMessage({ jsonrpc: "2.0", ...message }, "*");
  }

  request(method, params) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, { error: { message: `${method} timed out` } }),
        REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ id, method, params });
    });
  }

  notify(method, params) {
    this.send({ method, params });
  }

  settle(id, message) {
    const waiter = this.pending.get(id);
    if (!waiter) return;
    this.pending.delete(id);
    clearTimeout(waiter.timer);
    if (message.error) waiter.reject(new HostError(message.error.message || "the host refused the request"));
    else waiter.resolve(message.result);
  }

  receive(event) {
    const message = event.data;
    if (event.source !== parent || !message || message.jsonrpc !== "2.0") return;
    if (message.method === undefined) {
      this.settle(message.id, message);
    } else if (message.id === undefined) {
      this.handlers.notification(message.method, message.params || {});
    } else if (message.method === "ui/resource-teardown" || message.method === "ping") {
      if (message.method === "ui/resource-teardown") this.handlers.teardown();
      this.send({ id: message.id, result: {} });
    } else {
      this.send({ id: message.id, error: { code: -32601, message: `Method not found: ${message.method}` } });
    }
  }

  async connect(appInfo) {
    const result = await this.request("ui/initialize", { protocolVersion: PROTOCOL_VERSION, appInfo,
      appCapabilities: {} });
    this.host = { capabilities: result.hostCapabilities || {}, context: result.hostContext || {} };
    this.notify("ui/notifications/initialized", {});
    return this.host;
  }

  /** A server tool through the host; resolves to its CallToolResult, rejects on an error result. */
  async callTool(name, args) {
    const result = await this.request("tools/call", { name, arguments: args });
    if (result && result.isError) {
      const text = (result.content || []).filter((block) => block.type === "text").map((block) => block.text);
      throw new HostError(text.join(" ") || `${name} failed`);
    }
    return result;
  }

  openLink(url) {
    return this.request("ui/open-link", { url });
  }

  downloadFile(contents) {
    return this.request("ui/download-file", { contents });
  }

  sizeChanged(width, height) {
    this.notify("ui/notifications/size-changed", { width, height });
  }
}
