// The agent run viewer. It renders the tool result the host hands it (one run, or every run of a fan-out), then
// stays live through the host with the server's own tools: a short wait_for_agent_runs from the last cursor,
// get_agent_run for plan, workstreams and files, get_agent_messages for the timeline, read_agent_artifact for
// previews. It follows while a run works: once every run is done or its turn is over (an interactive run
// answered and waits for the next input, or asked a question), it stops. Questions are answered and follow-up
// messages sent (send_agent_input) and runs cancelled (cancel_agent_run) only on a click; a message sent starts
// the next turn, which the view follows until it ends. Cursors are opaque: whatever a result gave is passed back,
// and a wait from a cursor is a new turn (the server's rule), so a view opened from a send follows that turn only.
// A run the view stopped following is checked now and then (a short wait from its cursor, less often while
// nothing happens) until it is over: when it goes on without the view (answered from the chat, restarted), the
// view follows it again.
import { Bridge } from "./bridge.js";
import { csvTable, h, renderMarkdown } from "./content.js";

const APP_INFO = { name: "mcp-agents-run-viewer", version: "1" };
const WAIT_SECONDS = [2, 2, 3, 5, 8]; // the wait grows while nothing happens
const PAUSE_MS = 250;
const CHECK_AFTER_MS = [2000, 4000, 8000, 15_000, 30_000, 60_000]; // a settled run's checks: ever rarer while quiet
const CHECK_SECONDS = 1; // each check is the shortest wait
const RECORD_EVERY_MS = 4000; // plan, workstreams and the file list: at most this often while a run goes on
const TIMELINE_SHOWN = 6;
const TIMELINE_KEPT = 500;
const TIMELINE_PAGES = 5;
const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const WAITING = "waiting_for_input"; // RunUpdate.turn of a run whose turn is over (it waits for input)
const MESSAGE_TYPES = ["SYSTEM", "THOUGHT", "PLAN", "UPDATE", "COMPLETE", "WARNING", "ERROR", "ANSWER", "QUESTION",
  "REQUEST_INPUT", "IDLE", "TERMINATED", "BATCH_PROGRESS", "RESTARTING"]; // all but STREAMING_CHUNK
const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);
const DONE_STEPS = new Set(["done", "completed", "complete", "finished", "skipped", "success"]);

const root = document.documentElement;
const main = document.getElementById("runs");
const banner = document.getElementById("banner");
const summary = document.getElementById("summary");
const runs = new Map();
let bridge;
let stopped = false;
let following = false; // the follow loop runs
let quiet = 0; // waits in a row that brought nothing new: the next wait is longer
let checking = false; // the check loop runs
let checkRound = 0; // checks in a row that found nothing: the next one comes later
let checkDone = false; // the next check also looks at runs that are over (the view was hidden: restarted since?)
let wakeCheck = null; // cuts the check loop's pause short (a run settled anew, the view shows again, teardown)
let renders = 0;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const shortId = (id) => (id.length > 6 ? id.slice(-6) : id);
const text = (value) => (typeof value === "string" ? value : value === undefined || value === null ? "" : String(value));

function runOf(id) {
  if (!runs.has(id)) {
    // settled: nothing to follow until the user acts (done, or its turn is over and shown); epoch: how many
    // times it settled (file previews are taken again then); turnOver: it waits for input (with a question or not)
    runs.set(id, { id, status: "unknown", done: false, final: false, turnOver: false, settled: false, epoch: 0,
      refreshed: false, cursor: undefined, progress: null, answer: null, answerOld: false, question: null,
      error: null, note: null, sent: null, agent: null, title: null, startedAt: null, endedAt: null, pausedAt: null,
      plan: [], workstreams: [], files: new Map(), filesVersion: 0, timeline: [], timelineCursor: undefined,
      timelineLoaded: false, sending: false, ui: null });
  }
  return runs.get(id);
}

// -- results into state --------------------------------------------------------------------------------------

function applyResult(result) {
  const data = result && result.structuredContent;
  if (!data || typeof data !== "object") return [];
  if (Array.isArray(data.runs)) return data.runs.filter((update) => update && update.run_id).map(applyUpdate);
  if (data.run && data.run.id) applyRun(data.run, data.parts || {});
  return [];
}

/** A RunUpdate (start, wait, input, cancel); returns the run id when it brought new messages. */
function applyUpdate(update) {
  const run = runOf(update.run_id);
  run.status = update.status || run.status;
  run.agent = update.interaction || run.agent;
  if (update.cursor !== undefined && update.cursor !== null) run.cursor = update.cursor;
  if (update.progress) run.progress = update.progress;
  if (update.answer) { run.answer = update.answer; run.answerOld = false; }
  run.error = update.error || (run.done ? run.error : null); // a failed follow clears once a wait succeeds
  run.note = update.note || null;
  const moved = Boolean(update.messages && update.messages.count > 0);
  if (update.question) run.question = update.question;
  else if (moved || update.done) run.question = null; // the run went on: the question was answered
  if (update.done) run.done = run.final = true;
  const turnOver = (update.turn === WAITING || Boolean(update.question)) && !run.done;
  if (turnOver && !run.turnOver) run.pausedAt = Date.now(); // until the timeline tells when the turn ended
  run.turnOver = turnOver;
  if (moved && !run.timelineLoaded) {
    run.timeline.push(...(update.messages.last || []).map((line) => ({ text: text(line) })));
  }
  return moved ? run.id : null;
}

/** A run record from get_agent_run, with the parts it was asked for. */
function applyRun(record, parts) {
  const run = runOf(record.id);
  run.status = record.status || run.status;
  run.agent = record.interaction_name || record.interaction || run.agent;
  run.title = record.title || record.name || run.title;
  run.startedAt = Date.parse(record.started_at || record.created_at || "") || run.startedAt;
  run.endedAt = Date.parse(record.completed_at || "") || run.endedAt;
  if (TERMINAL.has(run.status)) run.done = true;
  if (parts.plan !== undefined) run.plan = items(parts.plan, ["plan", "steps", "tasks"]);
  if (parts.workstreams !== undefined) run.workstreams = items(parts.workstreams, ["workstreams"]);
  if (Array.isArray(parts.artifacts)) {
    for (const path of parts.artifacts) {
      if (typeof path === "string" && !run.files.has(path)) {
        run.files.set(path, { path, view: null, epoch: -1 });
        run.filesVersion++;
      }
    }
  }
}

function items(value, keys) {
  if (Array.isArray(value)) return value;
  for (const key of keys) if (value && Array.isArray(value[key])) return value[key];
  return [];
}

function progressOf(run) {
  const match = /^(\d+)\/(\d+)$/.exec(run.progress || "");
  if (match) return [Number(match[1]), Number(match[2])];
  const steps = run.plan.filter((step) => step && typeof step === "object");
  if (!steps.length) return null;
  return [steps.filter((step) => DONE_STEPS.has(text(step.status).toLowerCase())).length, steps.length];
}

// -- following -----------------------------------------------------------------------------------------------

async function follow() {
  if (following) return;
  following = true;
  let failures = 0;
  try {
    while (!stopped) {
      const pending = [...runs.values()].filter((run) => !run.settled);
      if (!pending.length) return;
      if (document.hidden) { await sleep(1000); continue; }
      try {
        const moved = await step(pending);
        quiet = moved ? 0 : quiet + 1;
        failures = 0;
        setBanner("");
      } catch (error) {
        failures++;
        setBanner(`Could not refresh: ${error.message}. Retrying…`);
        render();
        await sleep(Math.min(30_000, 1000 * 2 ** failures));
      }
      await sleep(PAUSE_MS);
    }
  } finally {
    following = false;
  }
}

/** One round: a wait on the runs that work (never on a run whose turn is over: a wait from its cursor would
 * start a new turn), then a refresh of what moved; a run done or waiting for input settles once refreshed. */
async function step(pending) {
  const working = pending.filter((run) => !run.turnOver);
  let moved = new Set();
  if (working.length) {
    const seconds = working.some((run) => !run.done) ? WAIT_SECONDS[Math.min(quiet, WAIT_SECONDS.length - 1)] : 1;
    moved = await waitOnce(working, seconds);
  }
  const stale = pending.filter((run) => moved.has(run.id) || run.final || run.turnOver || !run.refreshed);
  for (const run of stale) if (run.final || run.turnOver) run.epoch++;
  await Promise.all(stale.map(refresh));
  for (const run of stale) if (run.final || run.turnOver) run.settled = true;
  render();
  if (stale.some((run) => run.settled)) checkSoon(false);
  return moved.size > 0;
}

async function waitOnce(targets, seconds) {
  const args = { run_ids: targets.map((run) => run.id), until: "any", timeout_seconds: seconds };
  const since = Object.fromEntries(targets.filter((run) => run.cursor !== undefined).map((run) => [run.id, run.cursor]));
  if (Object.keys(since).length) args.since = since;
  const moved = new Set(applyResult(await bridge.callTool("wait_for_agent_runs", args)).filter(Boolean));
  render();
  return moved;
}

// -- checking on runs the view stopped following --------------------------------------------------------------

/** The runs a check looks at: settled (nothing to follow) and not over, with a cursor to wait from. */
function checkTargets(withDone = false) {
  return [...runs.values()].filter((run) => run.settled && !run.sending && run.cursor !== undefined
    && (withDone || !run.done));
}

/** (Re)start the checks from the shortest pause: a run just settled, or the view shows again. */
function checkSoon(withDone) {
  checkRound = 0;
  checkDone = checkDone || withDone;
  if (checking && wakeCheck) wakeCheck();
  else check();
}

function pause(ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    wakeCheck = () => { clearTimeout(timer); resolve(true); };
  });
}

/** While some run is settled but not over, a short wait from its cursor after a pause that grows while nothing
 * happens; it stops when no run is left to check, the view is hidden (it starts again when shown) or torn down. */
async function check() {
  if (checking) return;
  checking = true;
  render();
  try {
    while (!stopped && !document.hidden && checkTargets(checkDone).length) {
      if (await pause(CHECK_AFTER_MS[Math.min(checkRound, CHECK_AFTER_MS.length - 1)])) continue;
      const targets = checkTargets(checkDone);
      if (stopped || document.hidden || !targets.length) break;
      checkDone = false;
      checkRound++;
      try {
        if (await checkOnce(targets)) checkRound = 0;
      } catch {
        // the host or the server failed this time: the next check comes later anyway
      }
    }
  } finally {
    checking = false;
    wakeCheck = null;
    render();
  }
}

/** One check; true when a run went on (the view follows it again). */
async function checkOnce(targets) {
  const args = { run_ids: targets.map((run) => run.id), until: "any", timeout_seconds: CHECK_SECONDS,
    since: Object.fromEntries(targets.map((run) => [run.id, run.cursor])) };
  const data = (await bridge.callTool("wait_for_agent_runs", args)).structuredContent || {};
  const updates = Array.isArray(data.runs) ? data.runs : [];
  const went = updates.filter((update) => update && runs.has(update.run_id)).filter((update) => {
    const run = runs.get(update.run_id);
    return run.settled && !run.sending && goneOn(run, update);
  });
  if (!went.length) return false;
  render();
  follow();
  return true;
}

/** Whether a check's update shows the run went on since the view settled it; if so, the view follows it again.
 * The wait from the cursor reads the turns as the server does: it starts a new turn there, and the IDLE a run
 * posts after the question the view shows (read after it) ends no turn, so new messages that are all IDLE are no
 * news. Anything else (work, a turn ended elsewhere, the run ended or was restarted) is. */
function goneOn(run, update) {
  const digest = update.messages || {};
  const types = Object.keys(digest.by_type || {});
  const news = digest.count > 0 && types.some((type) => type !== "IDLE");
  if (!news && Boolean(update.done) === run.done) {
    if (update.cursor) run.cursor = update.cursor; // past any stale IDLE
    return false;
  }
  // From the update alone: a restarted run is not done, a turn that ended elsewhere ended now.
  run.done = run.final = run.turnOver = false;
  run.question = run.pausedAt = null;
  const answer = run.answer;
  applyUpdate(update);
  if (!update.answer && answer) run.answerOld = true; // the answer shown is the previous turn's
  run.sent = null; // the input that moved it came from elsewhere
  run.note = run.done ? null : "The run went on outside this view.";
  run.settled = run.refreshed = false; // follow it, and read its record and timeline at once
  quiet = 0;
  return true;
}

async function refresh(run) {
  const record = run.final || run.turnOver || !run.refreshed || Date.now() - run.refreshedAt >= RECORD_EVERY_MS;
  await Promise.all([record && refreshRecord(run), refreshTimeline(run)]);
  await refreshFiles(run);
}

async function refreshRecord(run) {
  const result = await bridge.callTool("get_agent_run", { run_id: run.id,
    include: ["plan", "workstreams", "artifacts"] });
  const data = result.structuredContent || {};
  if (data.run) applyRun(data.run, data.parts || {});
  run.refreshed = true;
  run.refreshedAt = Date.now();
}

async function refreshTimeline(run) {
  for (let page = 0; page < TIMELINE_PAGES; page++) {
    const args = { run_id: run.id, limit: 200, types: MESSAGE_TYPES };
    if (run.timelineCursor !== undefined) args.since = run.timelineCursor;
    const data = (await bridge.callTool("get_agent_messages", args)).structuredContent || {};
    if (!run.timelineLoaded) { run.timeline = []; run.timelineLoaded = true; }
    for (const row of data.messages || []) {
      run.timeline.push({ ts: row.ts, type: text(row.type), workstream: text(row.workstream), tool: text(row.tool),
        text: text(row.text) });
    }
    if (data.cursor !== undefined && data.cursor !== null) run.timelineCursor = data.cursor;
    if (!data.more) break;
  }
  run.timeline.splice(0, Math.max(0, run.timeline.length - TIMELINE_KEPT));
}

function fileKind(path, mime = "") {
  const name = path.toLowerCase();
  if (/\.(png|jpe?g|gif|webp)$/.test(name) || IMAGE_TYPES.has(mime)) return "image";
  if (/\.(md|markdown)$/.test(name) || mime === "text/markdown") return "markdown";
  if (/\.csv$/.test(name) || mime === "text/csv") return "csv";
  return "download";
}

async function refreshFiles(run) {
  const stale = [...run.files.values()].filter((file) => !file.view || file.epoch !== run.epoch);
  await Promise.all(stale.map((file) => preview(run, file)));
}

async function preview(run, file) {
  file.epoch = run.epoch;
  const kind = fileKind(file.path);
  if (kind === "download") { file.view = { kind }; return; }
  try {
    const result = await bridge.callTool("read_agent_artifact", { run_id: run.id, path: file.path, max_chars: 50_000 });
    const data = result.structuredContent || {};
    const image = (result.content || []).find((block) => block.type === "image");
    if (data.kind === "image" && image && IMAGE_TYPES.has(image.mimeType) && /^[A-Za-z0-9+/]+=*$/.test(image.data)) {
      file.view = { kind: "image", src: `data:${image.mimeType};base64,${image.data}` };
    } else if (data.kind === "text" && kind !== "image") {
      file.view = { kind, text: text(data.text), more: data.next_offset !== undefined && data.next_offset !== null };
    } else {
      file.view = { kind: "download" };
    }
  } catch (error) {
    file.view = { kind: "download", error: error.message };
  }
  run.filesVersion++;
}

// -- actions (only on the user's click) ------------------------------------------------------------------------

/** The answer to a question, or a follow-up message after an answered turn: it starts the run's next turn. */
async function sendInput(run, box, status) {
  const message = box.value.trim();
  if (!message || run.sending) { box.focus(); return; }
  const answering = Boolean(run.question);
  run.sending = true;
  status.textContent = "Sending…";
  render();
  try {
    applyResult(await bridge.callTool("send_agent_input", { run_id: run.id, message }));
    const hadFocus = run.ui.el.contains(document.activeElement);
    box.value = "";
    status.textContent = "";
    run.question = null;
    run.turnOver = run.settled = false; // the next turn: follow it until it ends
    run.pausedAt = null;
    run.answerOld = Boolean(run.answer);
    run.sent = message;
    run.note = answering ? "Answer sent." : "Message sent.";
    quiet = 0;
    if (hadFocus) run.ui.el.focus(); // the box it was in hides while the run works
  } catch (error) {
    status.textContent = `Not sent: ${error.message}`;
  } finally {
    run.sending = false;
  }
  render();
  follow();
}

function askCancel(run, open) {
  run.ui.confirm.hidden = !open;
  run.ui.cancel.setAttribute("aria-expanded", String(open));
  (open ? run.ui.keep : run.ui.cancel).focus();
}

async function cancelRun(run) {
  askCancel(run, false);
  run.ui.cancel.disabled = true;
  run.note = "Cancelling…";
  render();
  try {
    applyResult(await bridge.callTool("cancel_agent_run", { run_id: run.id, reason: "Cancelled from the run viewer" }));
    run.settled = false; // show where it ended
  } catch (error) {
    run.note = `Could not cancel: ${error.message}`;
  }
  run.ui.cancel.disabled = false;
  render();
  follow();
}

function openLink(url) {
  if (bridge.host.capabilities.openLinks) bridge.openLink(url).catch(() => setBanner("The host did not open the link."));
}

function download(run, file) {
  const uri = `agent-run://${run.id}/artifacts/${file.path.split("/").map(encodeURIComponent).join("/")}`;
  bridge.downloadFile([{ type: "resource_link", uri, name: file.path }])
    .catch((error) => setBanner(`Download failed: ${error.message}`));
}

// -- rendering -----------------------------------------------------------------------------------------------

function setBanner(message) {
  banner.textContent = message;
  banner.hidden = !message;
}

/** When the turn the run waits after ended: its last message, or when the view saw the turn end. */
function turnEnd(run) {
  const last = run.timeline.at(-1);
  const at = last && last.ts ? new Date(last.ts).getTime() : NaN;
  return Number.isFinite(at) && at >= (run.startedAt || 0) ? at : run.pausedAt || Date.now();
}

/** From the start to the end of the run, or of the turn it waits after (the clock stops while it waits). */
function elapsed(run) {
  if (!run.startedAt) return "";
  const end = run.done ? run.endedAt || run.doneAt || (run.doneAt = Date.now()) : run.turnOver ? turnEnd(run) : Date.now();
  const seconds = Math.max(0, Math.round((end - run.startedAt) / 1000));
  const [hours, minutes] = [Math.floor(seconds / 3600), Math.floor((seconds % 3600) / 60)];
  const mmss = `${String(minutes).padStart(hours ? 2 : 1, "0")}:${String(seconds % 60).padStart(2, "0")}`;
  return hours ? `${hours}:${mmss}` : mmss;
}

function badge(run) {
  if (run.question && !run.done) return ["waiting", "needs input"];
  if (run.turnOver) return ["waiting", "waiting for input"];
  const status = text(run.status).toLowerCase();
  if (["created", "running", "completed", "failed", "cancelled"].includes(status)) return [status, status];
  return [/input|wait|idle/.test(status) ? "waiting" : "other", status || "unknown"];
}

function buildCard(run, compact) {
  const label = `run-${renders}-${shortId(run.id)}`.replace(/[^\w-]/g, "");
  const ui = { compact };
  ui.agent = h("span", { class: "agent" });
  ui.title = h("span", { class: "title" });
  ui.badge = h("span", { class: "badge", role: "status" });
  ui.elapsed = h("span", { class: "elapsed", title: "Elapsed time" });
  ui.bar = h("progress", { max: 1, value: 0 });
  ui.count = h("span", { class: "count" });
  ui.progress = h("span", { class: "progress" }, ui.bar, ui.count);
  ui.cancel = h("button", { type: "button", class: "danger", "aria-expanded": "false", "aria-controls": `${label}-confirm`,
    onclick: () => askCancel(run, run.ui.confirm.hidden) }, "Cancel run");
  ui.keep = h("button", { type: "button", onclick: () => askCancel(run, false) }, "Keep running");
  ui.confirm = h("div", { class: "confirm", id: `${label}-confirm`, role: "alertdialog", "aria-label": "Confirm cancel",
    hidden: true, onkeydown: (event) => { if (event.key === "Escape") askCancel(run, false); } },
  h("span", {}, "Cancel this run? It stops for good."),
  h("button", { type: "button", class: "danger", onclick: () => cancelRun(run) }, "Yes, cancel it"), ui.keep);
  ui.error = h("p", { class: "error", hidden: true });
  ui.note = h("p", { class: "note", hidden: true });
  ui.questionText = h("p", { class: "question-text" });
  ui.answerBox = h("textarea", { id: `${label}-answer`, rows: 2 });
  ui.answerStatus = h("span", { class: "muted", role: "status" });
  ui.send = h("button", { type: "button", class: "primary",
    onclick: () => sendInput(run, ui.answerBox, ui.answerStatus) }, "Send answer");
  ui.question = h("section", { class: "question", hidden: true, "aria-label": "Question from the agent" },
    h("h3", {}, "The agent asks"), ui.questionText,
    h("label", { for: `${label}-answer` }, "Your answer"), ui.answerBox, h("div", { class: "row" }, ui.send, ui.answerStatus));
  ui.answerBody = h("div", { class: "answer-body" });
  ui.answerHeading = h("h3", {}, "Answer");
  ui.answer = h("section", { class: "answer", hidden: true }, ui.answerHeading, ui.answerBody);
  ui.sent = h("p", { class: "sent", hidden: true });
  // After an answered turn: a follow-up message, sent only on the button's click (the box opens at once in a
  // single run's view, on request in a fan-out).
  ui.replyBox = h("textarea", { id: `${label}-reply`, rows: 2 });
  ui.replyStatus = h("span", { class: "muted", role: "status" });
  ui.replySend = h("button", { type: "button", class: "primary",
    onclick: () => sendInput(run, ui.replyBox, ui.replyStatus) }, "Send message");
  ui.reply = h("details", { class: "reply", hidden: true, open: !compact },
    h("summary", {}, "Continue the conversation"),
    h("label", { for: `${label}-reply` }, "Your message"), ui.replyBox,
    h("div", { class: "row" }, ui.replySend, ui.replyStatus));
  ui.plan = h("ol", { class: "plan", "aria-label": "Plan" });
  ui.workstreams = h("ul", { class: "workstreams", "aria-label": "Workstreams" });
  ui.planSection = h("section", { hidden: true }, h("h3", {}, "Plan"), ui.plan, ui.workstreams);
  ui.recent = h("ol", { class: "timeline", "aria-label": "Latest activity, newest first" });
  ui.older = h("ol", { class: "timeline", "aria-label": "Earlier activity, newest first" });
  ui.olderLabel = h("summary", {});
  ui.history = h("details", { class: "history", hidden: true }, ui.olderLabel, ui.older);
  ui.timelineSection = h("section", { hidden: true }, h("h3", {}, "Activity"), ui.recent, ui.history);
  ui.files = h("ul", { class: "files", "aria-label": "Files" });
  ui.filesSection = h("section", { hidden: true }, h("h3", {}, "Files"), ui.files);
  ui.filesVersion = -1;
  const heading = h("h2", { id: `${label}-h` }, ui.agent, ui.title);
  const body = [ui.planSection, ui.timelineSection, ui.filesSection];
  ui.el = h("article", { class: "run", "aria-labelledby": `${label}-h`, "data-run-id": run.id, tabindex: -1 },
    h("header", {}, heading, h("div", { class: "meta" }, ui.badge, ui.elapsed, ui.progress, ui.cancel)),
    ui.confirm, ui.error, ui.note, ui.question, ui.sent, ui.answer, ui.reply,
    compact ? h("details", { class: "more" }, h("summary", {}, "Plan, activity and files"), ...body) : h("div", {}, ...body));
  return ui;
}

function renderRun(run, compact) {
  if (!run.ui || run.ui.compact !== compact) run.ui = buildCard(run, compact);
  const ui = run.ui;
  ui.agent.textContent = run.agent || "Agent run";
  ui.title.textContent = run.title ? ` · ${run.title}` : ` · ${shortId(run.id)}`;
  ui.title.title = run.id;
  const [kind, label] = badge(run);
  ui.badge.className = `badge ${kind}`;
  if (ui.badge.textContent !== label) ui.badge.textContent = label;
  ui.elapsed.textContent = elapsed(run);
  ui.elapsed.title = run.turnOver ? "Elapsed time until the turn ended" : "Elapsed time";
  const progress = progressOf(run);
  ui.progress.hidden = !progress;
  if (progress) {
    ui.bar.max = Math.max(progress[1], 1);
    ui.bar.value = progress[0];
    ui.bar.setAttribute("aria-label", `Progress: ${progress[0]} of ${progress[1]}`);
    ui.count.textContent = `${progress[0]}/${progress[1]}`;
  }
  ui.cancel.hidden = run.done;
  ui.cancel.setAttribute("aria-label", `Cancel run ${run.agent || ""} ${shortId(run.id)}`.replace(/\s+/g, " "));
  if (run.done) ui.confirm.hidden = true;
  ui.error.hidden = !run.error;
  ui.error.textContent = run.error || "";
  ui.note.hidden = !run.note;
  ui.note.textContent = run.note || "";
  const asking = Boolean(run.question) && !run.done;
  ui.question.hidden = !asking;
  ui.questionText.textContent = run.question || "";
  ui.answerBox.setAttribute("aria-label", `Your answer to ${run.agent || "the agent"}`);
  ui.send.disabled = ui.replySend.disabled = run.sending;
  ui.reply.hidden = !run.turnOver || asking;
  ui.replyBox.setAttribute("aria-label", `Your message to ${run.agent || "the agent"}`);
  ui.sent.hidden = !run.sent;
  ui.sent.textContent = run.sent ? `You: ${run.sent}` : "";
  // The message sent comes after the answer it replies to, and before the answer of its own turn.
  if (run.answerOld ? ui.answer.nextSibling !== ui.sent : ui.sent.nextSibling !== ui.answer) {
    if (run.answerOld) ui.answer.after(ui.sent); else ui.answer.before(ui.sent);
  }
  ui.answerHeading.textContent = run.answerOld ? "Previous answer" : "Answer";
  ui.answer.hidden = !run.answer;
  if (run.answer && ui.answerSource !== run.answer) {
    ui.answerSource = run.answer;
    renderMarkdown(ui.answerBody, run.answer, openLink);
  }
  renderPlan(run);
  renderTimeline(run);
  renderFiles(run);
  return ui.el;
}

function renderPlan(run) {
  const ui = run.ui;
  ui.planSection.hidden = !run.plan.length && !run.workstreams.length;
  ui.plan.replaceChildren(...run.plan.map((step) => {
    const status = text(step.status || "pending");
    return h("li", { class: `step ${DONE_STEPS.has(status.toLowerCase()) ? "done" : status.toLowerCase()}` },
      h("span", { class: "state" }, status.replace(/_/g, " ")), " ", text(step.goal || step.title || step.description || step.name || step.id));
  }));
  ui.workstreams.replaceChildren(...run.workstreams.map((ws) => h("li", { class: `chip ${text(ws.status).toLowerCase()}` },
    text(ws.name || ws.title || ws.id), h("span", { class: "state" }, text(ws.status).replace(/_/g, " ")))));
}

function entry(item, names) {
  const time = item.ts ? new Date(item.ts).toTimeString().slice(0, 8) : "";
  return h("li", {},
    time && h("time", { datetime: new Date(item.ts).toISOString() }, time),
    item.type && h("span", { class: `type t-${item.type.toLowerCase()}` }, item.type),
    item.workstream && item.workstream !== "main" && h("span", { class: "ws", title: item.workstream },
      names.get(item.workstream) || item.workstream),
    item.tool && h("span", { class: "tool" }, item.tool),
    h("span", { class: "text" }, item.text));
}

function renderTimeline(run) {
  const ui = run.ui;
  const newest = [...run.timeline].reverse();
  ui.timelineSection.hidden = !newest.length;
  if (ui.timelineCount === run.timeline.length && ui.timelineLast === run.timeline.at(-1)) return;
  ui.timelineCount = run.timeline.length;
  ui.timelineLast = run.timeline.at(-1);
  const names = new Map(run.workstreams.filter((ws) => ws && ws.id).map((ws) => [text(ws.id), text(ws.name || ws.title)]));
  const show = (item) => entry(item, names);
  ui.recent.replaceChildren(...newest.slice(0, TIMELINE_SHOWN).map(show));
  const older = newest.slice(TIMELINE_SHOWN);
  ui.history.hidden = !older.length;
  ui.olderLabel.textContent = `Earlier activity (${older.length})`;
  ui.older.replaceChildren(...older.map(show));
}

function fileView(run, file) {
  const view = file.view || { kind: "loading" };
  const name = h("span", { class: "path" }, file.path);
  if (view.kind === "image") {
    return h("li", { class: "small" }, name, h("img", { src: view.src, alt: `Image ${file.path} written by the run`, class: "preview" }));
  }
  if (view.kind === "markdown") {
    const body = h("div", { class: "preview", role: "document", "aria-label": file.path });
    renderMarkdown(body, view.text + (view.more ? "\n\n…" : ""), openLink);
    return h("li", {}, name, body);
  }
  if (view.kind === "csv") return h("li", { class: "small" }, name, csvTable(view.text, file.path));
  if (view.kind === "loading") return h("li", {}, name, h("span", { class: "muted" }, " loading…"));
  const canDownload = Boolean(bridge.host.capabilities.downloadFile);
  return h("li", { class: "small" }, h("button", { type: "button", class: "link", disabled: !canDownload,
    title: canDownload ? "Download through the host" : "This host cannot download files",
    "aria-label": `Download ${file.path}`, onclick: () => download(run, file) }, file.path),
  view.error && h("span", { class: "muted" }, ` (${view.error})`));
}

function renderFiles(run) {
  const ui = run.ui;
  ui.filesSection.hidden = !run.files.size;
  if (ui.filesVersion === run.filesVersion) return;
  ui.filesVersion = run.filesVersion;
  ui.files.replaceChildren(...[...run.files.values()].map((file) => fileView(run, file)));
}

function render() {
  const list = [...runs.values()];
  const compact = list.length > 1;
  const cards = list.map((run) => renderRun(run, compact));
  if (cards.some((card, index) => main.children[index] !== card) || main.children.length !== cards.length) {
    main.replaceChildren(...cards);
  }
  summary.hidden = !compact;
  if (compact) {
    const counts = {};
    for (const run of list) { const label = badge(run)[1]; counts[label] = (counts[label] || 0) + 1; }
    summary.textContent = `${list.length} runs: ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ")}`;
  }
  // 0: every run is done or waits for input, and is shown as such
  document.body.dataset.following = String(list.filter((run) => !run.settled || run.sending).length);
  // runs the view checks on now and then (settled, not over)
  document.body.dataset.checking = String(checking ? checkTargets().length : 0);
  document.body.dataset.rendered = String(++renders);
}

function tick() {
  for (const run of runs.values()) if (run.ui && !run.done && !run.turnOver) run.ui.elapsed.textContent = elapsed(run);
}

// -- host context: theme, styles, width ---------------------------------------------------------------------

function applyContext(context) {
  if (context.theme === "light" || context.theme === "dark") root.dataset.theme = context.theme;
  const variables = context.styles && context.styles.variables;
  for (const [name, value] of Object.entries(variables || {})) {
    if (name.startsWith("--") && typeof value === "string") root.style.setProperty(name, value);
  }
  const size = context.containerDimensions || {};
  const width = size.width || size.maxWidth;
  if (typeof width === "number" && width > 0) root.style.setProperty("--max-width", `${width}px`);
}

function onNotification(method, params) {
  if (method === "ui/notifications/tool-result") {
    if (params.isError) {
      const message = (params.content || []).filter((block) => block.type === "text").map((block) => block.text);
      setBanner(message.join(" ") || "The tool call failed.");
    } else {
      applyResult(params);
    }
    document.getElementById("empty").hidden = true;
    render();
    follow();
  } else if (method === "ui/notifications/tool-cancelled") {
    setBanner("The tool call was cancelled.");
  } else if (method === "ui/notifications/host-context-changed") {
    bridge.host.context = { ...bridge.host.context, ...params };
    applyContext(params);
  }
}

async function start() {
  bridge = new Bridge({ notification: onNotification, teardown: () => { stopped = true; if (wakeCheck) wakeCheck(); } });
  new ResizeObserver(() => bridge.sizeChanged(undefined, Math.ceil(root.getBoundingClientRect().height)))
    .observe(root);
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) { if (wakeCheck) wakeCheck(); return; } // no checks while hidden
    follow();
    checkSoon(true); // a run that was over may have been restarted meanwhile
  });
  setInterval(tick, 1000);
  root.dataset.theme = matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"; // until the host says
  try {
    applyContext((await bridge.connect(APP_INFO)).context);
  } catch (error) {
    setBanner(`The host did not start the viewer: ${error.message}`);
  }
}

start();
