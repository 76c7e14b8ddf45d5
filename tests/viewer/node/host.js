// A test host for the run viewer: the official TypeScript client (streamable HTTP, to the real server) and the
// official AppBridge, the view in a sandboxed srcdoc iframe (opaque origin, scripts only). A harness, not a
// product: it exposes `window.host` for the browser test to drive. Bundled by esbuild at test time.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { AppBridge, PostMessageTransport, getToolUiResourceUri } from "@modelcontextprotocol/ext-apps/app-bridge";

const params = new URLSearchParams(location.search);
const era = params.get("era") || "legacy";
const width = Number(params.get("width") || 720);
const info = { name: "viewer-test-host", version: "1.0.0" };
let context = { theme: params.get("theme") || "light", platform: "web", locale: "en-US",
  containerDimensions: { maxWidth: width }, displayMode: "inline", availableDisplayModes: ["inline"] };

const host = { era, calls: [], links: [], downloads: [], sizes: [], ready: false, error: null };
window.host = host;

const client = new Client(info, {
  capabilities: { extensions: { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } } },
  versionNegotiation: { mode: era === "legacy" ? "legacy" : { pin: era } },
});

const callTool = (request) => client.callTool(request);

host.call = async (name, args) => {
  const result = await callTool({ name, arguments: args });
  if (result.isError) throw new Error(result.content.map((block) => block.text).join(" "));
  return result.structuredContent;
};

/** Call `name` as a model would, and show its result in the view the tool links (like a chat host does). */
host.show = async (name, args) => {
  const tool = host.tools.find((item) => item.name === name);
  const uri = getToolUiResourceUri(tool);
  const [content] = (await client.readResource({ uri })).contents;
  host.resource = { uri, mimeType: content.mimeType, meta: content._meta };
  const iframe = document.createElement("iframe");
  iframe.setAttribute("sandbox", "allow-scripts");
  iframe.title = "Agent run viewer";
  iframe.style.width = `${width}px`;
  iframe.srcdoc = content.text;
  document.body.append(iframe);
  // The view's tools/call go to the server through this handler (recorded, so the test sees what the view sent).
  const bridge = new AppBridge(null, info, { serverTools: {}, openLinks: {}, downloadFile: {}, logging: {} },
    { hostContext: context });
  bridge.oncalltool = (request, extra) => {
    host.calls.push({ name: request.name, arguments: request.arguments, at: Date.now() });
    return client.callTool(request, { signal: extra.signal });
  };
  bridge.onsizechange = ({ height }) => {
    host.sizes.push(height);
    if (height) iframe.style.height = `${height}px`;
  };
  bridge.onopenlink = async ({ url }) => { host.links.push(url); return {}; };
  bridge.ondownloadfile = async ({ contents }) => { host.downloads.push(contents); return {}; };
  const initialized = new Promise((resolve) => { bridge.oninitialized = resolve; });
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  await initialized;
  host.bridge = bridge;
  await bridge.sendToolInput({ arguments: args });
  const result = await callTool({ name, arguments: args });
  await bridge.sendToolResult(result);
  return result.structuredContent;
};

host.setTheme = (theme) => {
  context = { ...context, theme }; // a new object: the bridge diffs it against the one it holds
  document.body.style.background = theme === "dark" ? "#0d1117" : "#ffffff";
  host.bridge.setHostContext(context);
};

document.body.style.background = context.theme === "dark" ? "#0d1117" : "#ffffff";
try {
  await client.connect(new StreamableHTTPClientTransport(new URL("/mcp", location.href)));
  host.tools = (await client.listTools()).tools;
  host.ready = true;
} catch (error) {
  host.error = String(error && error.stack || error);
}
