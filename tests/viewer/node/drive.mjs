// Drives the run viewer in headless Chromium (the system's, through puppeteer-core) inside the test host, against
// the real server, and prints what it observed as one JSON line for tests/viewer/test_viewer_browser.py to check.
//   ROOT=http://127.0.0.1:PORT CHROMIUM=/usr/bin/chromium SHOTS=dir node drive.mjs
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import puppeteer from "puppeteer-core";

const here = dirname(fileURLToPath(import.meta.url));
const { ROOT, CHROMIUM, SHOTS } = process.env;
const STEP_MS = 30_000; // the bound of every wait on the page
const HOST_PATH = "/viewer-test-host";
mkdirSync(SHOTS, { recursive: true });

const bundle = await esbuild.build({ entryPoints: [join(here, "host.js")], bundle: true, format: "esm",
  platform: "browser", target: "es2022", write: false, logLevel: "error" });
const hostPage = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<style>body{margin:0;padding:16px;font:14px system-ui}iframe{border:1px solid #8888;border-radius:8px;display:block}</style>
</head><body><script type="module">${bundle.outputFiles[0].text.replaceAll("</script", "<\\/script")}</script></body></html>`;

const out = { console: [], requests: [], viewRequests: [], scenarios: {}, screenshots: [] };
const browser = await puppeteer.launch({
  executablePath: CHROMIUM, headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"],
});

let current = null; // the page under test, for the report of a failure

async function openHost(query) {
  const page = await browser.newPage();
  current = page;
  await page.setViewport({ width: 800, height: 900 });
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    const url = request.url();
    const fromView = request.frame() && request.frame() !== page.mainFrame();
    if (!url.startsWith("data:")) (fromView ? out.viewRequests : out.requests).push(`${request.method()} ${url}`);
    if (url.startsWith(ROOT + HOST_PATH)) request.respond({ status: 200, contentType: "text/html", body: hostPage });
    else if (url.startsWith(ROOT + "/mcp")) request.continue();
    else request.abort();
  });
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warn") out.console.push(`${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => out.console.push(`pageerror: ${error.message}`));
  await page.goto(`${ROOT}${HOST_PATH}?${new URLSearchParams(query)}`);
  await page.waitForFunction(() => window.host && (window.host.ready || window.host.error), { timeout: STEP_MS });
  const error = await page.evaluate(() => window.host.error);
  if (error) throw new Error(`the test host did not connect: ${error}`);
  return page;
}

async function view(page) {
  const frame = await (await page.waitForSelector("iframe", { timeout: STEP_MS })).contentFrame();
  await frame.waitForFunction(() => Number(document.body.dataset.rendered) >= 1, { timeout: STEP_MS });
  return frame;
}

async function shot(page, name) {
  const path = join(SHOTS, `${name}.png`);
  await (await page.$("iframe")).screenshot({ path });
  out.screenshots.push(path);
}

const until = (frame, fn, ...args) => frame.waitForFunction(fn, { timeout: STEP_MS, polling: 100 }, ...args);
const toolCalls = (page) => page.evaluate(() => window.host.calls.map((call) => call.name));
const callsFrom = (page, index) => page.evaluate((from) => window.host.calls.slice(from)
  .map((call) => ({ name: call.name, arguments: call.arguments })), index);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const runStatus = (frame) => frame.evaluate(() => ({ following: document.body.dataset.following,
  checking: document.body.dataset.checking }));

/** What the view shows of its runs right now. */
function snapshot(frame) {
  return frame.evaluate(() => [...document.querySelectorAll("article.run")].map((card) => {
    const earlier = card.querySelector("details.history");
    const match = /\((\d+)\)/.exec(earlier ? earlier.querySelector("summary").textContent : "");
    return {
      agent: card.querySelector(".agent").textContent,
      title: card.querySelector(".title").textContent,
      badge: card.querySelector(".badge").textContent,
      progress: card.querySelector(".progress").hidden ? null : card.querySelector(".count").textContent,
      elapsed: card.querySelector(".elapsed").textContent,
      elapsedTitle: card.querySelector(".elapsed").title,
      timeline: card.querySelectorAll(".timeline li").length,
      timelineShown: card.querySelectorAll("ol.timeline:not(details ol) li").length,
      earlier: earlier && !earlier.hidden ? Number(match && match[1]) : 0,
      earlierOpen: Boolean(earlier && earlier.open),
      times: [...card.querySelectorAll("ol.timeline:not(details ol) li time")].map((t) => Date.parse(t.dateTime)),
      question: card.querySelector(".question").hidden ? null : card.querySelector(".question-text").textContent,
      answerText: card.querySelector(".answer").hidden ? null : card.querySelector(".answer-body").textContent,
      answerHeading: card.querySelector(".answer h3").textContent,
      sent: card.querySelector(".sent").hidden ? null : card.querySelector(".sent").textContent,
      reply: card.querySelector(".reply").hidden ? null : { open: card.querySelector(".reply").open,
        summary: card.querySelector(".reply summary").textContent },
      answerTags: [...card.querySelectorAll(".answer-body *")].map((el) => el.tagName.toLowerCase()),
      plan: [...card.querySelectorAll(".plan li")].map((li) => li.textContent),
      workstreams: [...card.querySelectorAll(".workstreams li")].map((li) => li.textContent),
      files: [...card.querySelectorAll(".files > li")].map((li) => ({
        path: (li.querySelector(".path, button") || li).textContent,
        image: li.querySelector("img") ? { width: li.querySelector("img").naturalWidth,
          src: li.querySelector("img").getAttribute("src").slice(0, 22) } : null,
        headings: [...li.querySelectorAll("div.preview h1, div.preview h2")].map((el) => el.textContent),
        tableRows: li.querySelectorAll("tr").length,
        download: li.querySelector("button.link") ? li.querySelector("button.link").textContent : null,
      })),
      cancelVisible: !card.querySelector("button.danger").hidden,
    };
  }));
}

/** Every control has a name a screen reader can say. */
function unlabelled(frame) {
  return frame.evaluate(() => [...document.querySelectorAll("button, textarea, progress, input, summary")]
    .filter((el) => !el.closest("[hidden]"))
    .filter((el) => !(el.getAttribute("aria-label") || el.textContent.trim()
      || (el.id && document.querySelector(`label[for="${el.id}"]`))))
    .map((el) => el.outerHTML.slice(0, 120)));
}

async function demo(era, theme, task) {
  const page = await openHost({ era, theme });
  const result = { era };
  const shown = page.evaluate((data) => window.host.show("start_agent_run", { interaction: "Demo", data }),
    { task, steps: 12, step_delay_ms: 350, ask: "Which colour should the chart use?" });
  const frame = await view(page);
  result.first = (await snapshot(frame))[0];
  result.resource = await page.evaluate(() => window.host.resource);
  result.samples = [];
  const deadline = Date.now() + STEP_MS;
  while (Date.now() < deadline) { // follow it live until it asks
    const [run] = await snapshot(frame);
    result.samples.push({ timeline: run.timeline + run.earlier, progress: run.progress, badge: run.badge });
    if (run.question) break;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  await shown;
  // While it waits for the answer, the files it wrote so far are already shown.
  await until(frame, () => document.querySelectorAll(".files > li").length === 3
    && document.querySelector(".files img") && document.querySelector(".files img").complete);
  result.asking = (await snapshot(frame))[0];
  await shot(page, `asking-${theme}-${era}`);
  result.unlabelled = await unlabelled(frame);
  result.callsBeforeClick = await toolCalls(page);
  await frame.type("textarea", "teal");
  await new Promise((resolve) => setTimeout(resolve, 600)); // typing alone must not send anything
  result.callsAfterTyping = await toolCalls(page);
  await frame.click(".question button.primary");
  await until(frame, () => document.body.dataset.following === "0" && document.querySelectorAll(".files img").length > 0
    && document.querySelector(".files img").complete);
  result.done = (await snapshot(frame))[0];
  result.calls = await toolCalls(page);
  result.pwned = await frame.evaluate(() => window.pwned === true);
  result.theme = await frame.evaluate(() => document.documentElement.dataset.theme);
  await shot(page, `single-${theme}-${era}`);
  // The turn is over: the clock stands still and nothing is called until the user sends a follow-up.
  await new Promise((resolve) => setTimeout(resolve, 2100));
  result.idle = { elapsed: (await snapshot(frame))[0].elapsed, calls: await toolCalls(page),
    checks: await callsFrom(page, result.calls.length), runId: await frame.evaluate(() =>
      document.querySelector("article.run").dataset.runId), checking: (await runStatus(frame)).checking };
  result.unlabelledIdle = await unlabelled(frame);
  await frame.type(".reply textarea", "more detail please");
  await new Promise((resolve) => setTimeout(resolve, 600)); // typing alone must not send anything
  result.callsAfterReplyTyping = await toolCalls(page);
  await frame.click(".reply button.primary");
  result.sending = await frame.evaluate(() => document.body.dataset.following);
  await until(frame, () => document.body.dataset.following === "0"
    && document.querySelector(".answer h3").textContent === "Answer");
  result.next = (await snapshot(frame))[0];
  result.callsAfterReply = await toolCalls(page);
  const other = theme === "light" ? "dark" : "light";
  await page.evaluate((next) => window.host.setTheme(next), other);
  await until(frame, (next) => document.documentElement.dataset.theme === next, other);
  result.themeAfter = await frame.evaluate(() => [document.documentElement.dataset.theme,
    getComputedStyle(document.documentElement).backgroundColor]);
  await shot(page, `single-${other}-${era}`);
  result.sizes = await page.evaluate(() => window.host.sizes.length);
  await page.close();
  return result;
}

async function fanout(era) {
  const page = await openHost({ era, theme: "dark" });
  const ids = await page.evaluate(async () => {
    const started = [];
    // Two interactive runs (they answer, then wait for input) and one that completes.
    for (const [task, interactive] of [["Market sizing", true], ["Competitor scan", true], ["Pricing survey", false]]) {
      const data = await window.host.call("start_agent_run", { interaction: "Demo", interactive,
        data: { task, steps: 4, step_delay_ms: 300 } });
      started.push(data.runs[0].run_id);
    }
    // Files of other kinds, as a user or another agent might upload them: Markdown with a link, a remote
    // image and HTML; and a text file, offered as a download.
    await window.host.call("upload_agent_artifact", { run_id: started[0], path: "notes.md", mime_type: "text/markdown",
      text: "## Notes\n\nSee [the docs](https://example.com/docs).\n\n![remote](https://example.com/track.png)\n\n<script>window.pwned = true</script>" });
    await window.host.call("upload_agent_artifact", { run_id: started[0], path: "trace.txt", text: "step 1 ok",
      mime_type: "text/plain" });
    return started;
  });
  const shown = page.evaluate((runIds) => window.host.show("wait_for_agent_runs",
    { run_ids: runIds, until: "all", timeout_seconds: 1 }), ids);
  const frame = await view(page);
  await shown;
  const result = { ids, first: await snapshot(frame) };
  await until(frame, () => document.querySelectorAll("article.run .timeline li").length >= 3);
  await shot(page, `fanout-running-dark-${era}`);
  await until(frame, () => document.body.dataset.following === "0");
  result.done = await snapshot(frame);
  result.summary = await frame.evaluate(() => document.getElementById("summary").textContent);
  result.theme = await frame.evaluate(() => document.documentElement.dataset.theme);
  await shot(page, `fanout-dark-${era}`);
  await frame.click("article.run details.more summary");
  result.notes = await frame.evaluate(() => {
    const item = [...document.querySelectorAll(".files > li")].find((li) => li.textContent.startsWith("notes.md"));
    return { text: item.querySelector("div.preview").textContent, images: item.querySelectorAll("img").length,
      scripts: item.querySelectorAll("script").length, links: [...item.querySelectorAll("a")].map((a) => a.href) };
  });
  await frame.click("div.preview a");
  await frame.click("button.link[aria-label='Download trace.txt']");
  await page.waitForFunction(() => window.host.links.length > 0 && window.host.downloads.length > 0,
    { timeout: STEP_MS });
  result.links = await page.evaluate(() => window.host.links);
  result.downloads = await page.evaluate(() => window.host.downloads);
  result.pwned = await frame.evaluate(() => window.pwned === true);
  await page.evaluate(() => window.host.setTheme("light"));
  await until(frame, () => document.documentElement.dataset.theme === "light");
  await shot(page, `fanout-light-${era}`);
  await page.close();
  return result;
}

/** The view from a get_agent_run result (a run record, no cursor) of a finished run. */
async function record(era, runId) {
  const page = await openHost({ era, theme: "light" });
  const shown = page.evaluate((id) => window.host.show("get_agent_run", { run_id: id }), runId);
  const frame = await view(page);
  await shown;
  await until(frame, () => document.body.dataset.following === "0");
  const result = { done: (await snapshot(frame))[0] };
  await page.close();
  return result;
}

async function cancel(era) {
  const page = await openHost({ era, theme: "light", width: 360 });
  const shown = page.evaluate(() => window.host.show("start_agent_run", { interaction: "Demo",
    data: { task: "A long job", steps: 60, step_delay_ms: 500 } }));
  const frame = await view(page);
  await shown;
  const result = {};
  await until(frame, () => document.querySelector(".badge").textContent === "running");
  // Keyboard only: focus the button, Enter opens the confirmation, Escape closes it, Enter again, then confirm.
  await frame.focus("header button.danger");
  await page.keyboard.press("Enter");
  await until(frame, () => !document.querySelector(".confirm").hidden);
  result.focusInConfirm = await frame.evaluate(() => document.activeElement.textContent);
  result.expanded = await frame.evaluate(() => document.querySelector("header button.danger").getAttribute("aria-expanded"));
  await page.keyboard.press("Escape");
  await until(frame, () => document.querySelector(".confirm").hidden);
  result.focusAfterEscape = await frame.evaluate(() => document.activeElement.getAttribute("aria-label"));
  result.callsBeforeConfirm = await toolCalls(page);
  await page.keyboard.press("Enter");
  await until(frame, () => !document.querySelector(".confirm").hidden);
  await page.keyboard.down("Shift");
  await page.keyboard.press("Tab");
  await page.keyboard.up("Shift");
  result.focusBeforeConfirm = await frame.evaluate(() => document.activeElement.textContent);
  await page.keyboard.press("Enter");
  await until(frame, () => document.body.dataset.following === "0");
  result.done = (await snapshot(frame))[0];
  result.calls = await toolCalls(page);
  result.overflow = await frame.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  result.headerColumn = await frame.evaluate(() => getComputedStyle(document.querySelector(".run header")).flexDirection);
  await shot(page, `narrow-cancelled-${era}`);
  result.server = await page.evaluate(async (id) => (await window.host.call("get_agent_run", { run_id: id })).run.status,
    await frame.evaluate(() => document.querySelector("article.run").dataset.runId));
  await page.close();
  return result;
}

/** A view opened from send_agent_input without wait_seconds, on a run whose new turn shows nothing yet (Gated
 * posts nothing until told): the view follows that turn from the result's cursor, not the end of the turn the
 * input answered. */
async function sendWithoutWait(era) {
  const page = await openHost({ era, theme: "light" });
  const result = { era };
  result.runId = await page.evaluate(async () => (await window.host.call("start_agent_run", { interaction: "Gated",
    data: { task: "hello" }, wait_seconds: 30 })).runs[0].run_id);
  const shown = page.evaluate((id) => window.host.show("send_agent_input", { run_id: id, message: "second" }),
    result.runId);
  const frame = await view(page);
  result.sent = (await shown).runs[0];
  // The view has looked at the run: it settled, or its first wait came back and it waits again.
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    const waits = (await toolCalls(page)).filter((name) => name === "wait_for_agent_runs").length;
    if (waits >= 2 || (await runStatus(frame)).following === "0") break;
    if (Date.now() > deadline) throw new Error("the view never waited on the run");
    await sleep(100);
  }
  result.looked = { ...(await snapshot(frame))[0], ...(await runStatus(frame)),
    waits: (await callsFrom(page, 0)).filter((call) => call.name === "wait_for_agent_runs") };
  await page.evaluate((id) => window.host.call("send_agent_input", { run_id: id, signal: "Think",
    payload: { text: "thinking about the second message" } }), result.runId);
  await until(frame, () => [...document.querySelectorAll(".timeline li")]
    .some((li) => li.textContent.includes("thinking about the second message")));
  result.working = { ...(await snapshot(frame))[0], ...(await runStatus(frame)) };
  await page.evaluate((id) => window.host.call("send_agent_input", { run_id: id, signal: "Finish" }), result.runId);
  await until(frame, () => document.body.dataset.following === "0" && !document.querySelector(".answer").hidden);
  result.done = (await snapshot(frame))[0];
  await page.close();
  return result;
}

/** A view opened from get_agent_run (a record: no cursor) while a new turn has begun but shows nothing yet: the
 * history says the last turn is over, as a wait from the start says too; once the run posts, the view's check
 * sees it go on and follows the turn to its end. */
async function recordMidTurn(era) {
  const page = await openHost({ era, theme: "light" });
  const result = { era };
  result.runId = await page.evaluate(async () => {
    const id = (await window.host.call("start_agent_run", { interaction: "Gated", data: { task: "hello" },
      wait_seconds: 30 })).runs[0].run_id;
    await window.host.call("send_agent_input", { run_id: id, message: "third" });
    return id;
  });
  const shown = page.evaluate((id) => window.host.show("get_agent_run", { run_id: id }), result.runId);
  const frame = await view(page);
  await shown;
  await until(frame, () => document.body.dataset.following === "0");
  result.settled = { ...(await snapshot(frame))[0], ...(await runStatus(frame)) };
  await page.evaluate((id) => window.host.call("send_agent_input", { run_id: id, signal: "Think",
    payload: { text: "thinking about the third message" } }), result.runId);
  await until(frame, () => [...document.querySelectorAll(".timeline li")]
    .some((li) => li.textContent.includes("thinking about the third message")));
  result.working = { ...(await snapshot(frame))[0], ...(await runStatus(frame)) };
  await page.evaluate((id) => window.host.call("send_agent_input", { run_id: id, signal: "Finish" }), result.runId);
  await until(frame, () => document.body.dataset.following === "0"
    && document.querySelector(".answer-body").textContent.includes("You said: third"));
  result.done = (await snapshot(frame))[0];
  await page.close();
  return result;
}

/** A view that stopped following (the run's turn was over) sees the run go on without it: answered from the chat,
 * then a whole turn made there; hidden it does not check; cancelled, it stops checking; restarted while the view
 * was hidden, it follows the run again once shown. */
async function goneOnElsewhere(era) {
  const page = await openHost({ era, theme: "dark" });
  const shown = page.evaluate(() => window.host.show("start_agent_run", { interaction: "Gated",
    data: { task: "hello" } }));
  const frame = await view(page);
  const result = { era, runId: (await shown).runs[0].run_id };
  const chat = (args) => page.evaluate((call) => window.host.call(call.name, call.arguments),
    { name: args.name || "send_agent_input", arguments: { run_id: result.runId, ...args.arguments } });
  await until(frame, () => document.body.dataset.following === "0"
    && document.querySelector(".badge").textContent === "waiting for input");
  result.settled = { ...(await snapshot(frame))[0], ...(await runStatus(frame)) };
  const settledAt = (await toolCalls(page)).length;
  await chat({ arguments: { message: "from the chat" } });
  await chat({ arguments: { signal: "Think", payload: { text: "working on the chat's message" } } });
  await until(frame, () => [...document.querySelectorAll(".timeline li")]
    .some((li) => li.textContent.includes("working on the chat's message")));
  result.resumed = { ...(await snapshot(frame))[0], ...(await runStatus(frame)) };
  result.checks = await callsFrom(page, settledAt);
  await chat({ arguments: { signal: "Finish" } });
  await until(frame, () => document.body.dataset.following === "0"
    && document.querySelector(".answer-body").textContent.includes("You said: from the chat"));
  result.answered = { ...(await snapshot(frame))[0], ...(await runStatus(frame)) };
  // A whole turn made in the chat while the view stands still.
  await chat({ arguments: { message: "and again" } });
  await chat({ arguments: { signal: "Finish" } });
  await until(frame, () => document.body.dataset.following === "0"
    && document.querySelector(".answer-body").textContent.includes("You said: and again"));
  result.again = { ...(await snapshot(frame))[0], ...(await runStatus(frame)) };
  // Hidden (another tab in front), the view stops checking; shown again, it checks again.
  const other = await browser.newPage();
  await other.bringToFront();
  await until(frame, () => document.hidden && document.body.dataset.checking === "0");
  await page.bringToFront();
  await until(frame, () => !document.hidden && document.body.dataset.checking === "1");
  await chat({ name: "cancel_agent_run", arguments: {} });
  await until(frame, () => document.querySelector(".badge").textContent === "cancelled"
    && document.body.dataset.following === "0" && document.body.dataset.checking === "0");
  result.cancelled = { ...(await snapshot(frame))[0], ...(await runStatus(frame)) };
  // Restarted from the chat while the view was hidden: shown again, the view looks once more and follows it.
  await other.bringToFront();
  await until(frame, () => document.hidden);
  const restarted = await chat({ name: "restart_agent_run", arguments: {} });
  await chat({ name: "wait_for_agent_runs", arguments: { run_ids: [result.runId], timeout_seconds: 30,
    since: { [result.runId]: restarted.runs[0].cursor } } });
  await page.bringToFront();
  await other.close();
  await until(frame, () => document.body.dataset.following === "0"
    && document.querySelector(".answer-body").textContent.includes("Restarted: hello"));
  result.restarted = { ...(await snapshot(frame))[0], ...(await runStatus(frame)) };
  result.calls = await callsFrom(page, 0);
  await page.close();
  return result;
}

/** A scenario whose failure is reported in its own result (its test fails), not for the whole drive. */
async function alone(scenario, ...args) {
  try {
    return await scenario(...args);
  } catch (error) {
    const report = { error: String(error && error.stack || error) };
    try {
      report.failedView = await snapshot(await (await current.$("iframe")).contentFrame());
      report.failedCalls = await current.evaluate(() => window.host.calls.map((call) => JSON.stringify(call)));
      await current.close();
    } catch {
      // the report above is all there is
    }
    return report;
  }
}

try {
  out.scenarios.demo = await demo("legacy", "light", "Summarize the Q3 sales data");
  out.scenarios.demoModern = await demo("2026-07-28", "dark", 'Check <b>bold</b> <img src=x onerror="window.pwned=true">');
  out.scenarios.fanout = await fanout("legacy");
  out.scenarios.record = await record("2026-07-28", out.scenarios.fanout.ids[0]);
  out.scenarios.cancel = await cancel("2026-07-28");
  out.scenarios.sendWithoutWait = await alone(sendWithoutWait, "legacy");
  out.scenarios.goneOnElsewhere = await alone(goneOnElsewhere, "2026-07-28");
  out.scenarios.recordMidTurn = await alone(recordMidTurn, "legacy");
} catch (error) {
  out.error = String(error && error.stack || error);
  try {
    const frame = await (await current.$("iframe")).contentFrame();
    out.failedView = await snapshot(frame);
    out.failedCalls = await current.evaluate(() => window.host.calls.map((call) => JSON.stringify(call)));
    await shot(current, "failure");
  } catch {
    // the report above is all there is
  }
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(out)}\n`);
