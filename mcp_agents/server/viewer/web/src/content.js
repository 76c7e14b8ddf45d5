// Agent-written content made safe to show: DOM built with textContent, Markdown through `marked` (raw HTML in
// the source is escaped, so it shows as text) and then `DOMPurify`, under Trusted Types: a string can reach
// innerHTML only as DOMPurify's output.
import DOMPurify from "dompurify";
import { Marked } from "marked";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

const marked = new Marked({ gfm: true, async: false });
marked.use({
  renderer: {
    html: ({ text }) => escapeHtml(text), // agents' HTML is text, never markup
    // No remote images: the view loads nothing from outside. The reference stays visible.
    image: ({ href, text }) => `<em>${escapeHtml(`[image: ${text || href || ""}]`)}</em>`,
  },
});

const PURIFY = {
  FORBID_TAGS: ["img", "style", "form", "input", "button", "textarea", "select", "iframe", "svg", "math", "video",
    "audio", "source", "picture", "object", "embed", "link", "meta", "base"],
  FORBID_ATTR: ["style", "id", "name", "class"],
  ALLOWED_URI_REGEXP: /^(?:https?|mailto):/i,
  RETURN_TRUSTED_TYPE: true,
};

/** `h("li", {class: "x", "aria-label": "y"}, child, "text")`: an element; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  el.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return el;
}

/** Markdown rendered into `el`; links open through the host (`openLink`), never inside the view. */
export function renderMarkdown(el, source, openLink) {
  el.innerHTML = DOMPurify.sanitize(marked.parse(String(source)), PURIFY);
  el.classList.add("md");
  for (const link of el.querySelectorAll("a[href]")) {
    const url = link.getAttribute("href");
    link.addEventListener("click", (event) => {
      event.preventDefault();
      openLink(url);
    });
  }
  for (const table of el.querySelectorAll("table")) {
    const scroll = h("div", { class: "scroll" });
    table.before(scroll);
    scroll.append(table);
  }
}

/** RFC 4180 CSV (quoted fields, doubled quotes, CRLF), at most `maxRows` rows. */
export function parseCsv(text, maxRows) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field); rows.push(row); row = []; field = "";
    } else field += c;
  }
  if ((field !== "" || row.length) && rows.length < maxRows) { row.push(field); rows.push(row); }
  return rows;
}

/** A table element from CSV text: the first row as header, cells as text. */
export function csvTable(text, label) {
  const MAX_ROWS = 200;
  const [head = [], ...body] = parseCsv(text, MAX_ROWS + 1);
  const table = h("table", { "aria-label": label },
    h("thead", {}, h("tr", {}, ...head.map((cell) => h("th", { scope: "col" }, cell)))),
    h("tbody", {}, ...body.map((cells) => h("tr", {}, ...cells.map((cell) => h("td", {}, cell))))));
  return h("div", { class: "scroll" }, table);
}
