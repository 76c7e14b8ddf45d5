// Builds ../run-viewer.html: src/view.html with the bundled script (esbuild) and minified CSS inlined, and a
// content security policy that allows exactly those two inline blocks (by hash) and data: images, nothing else.
// Deterministic: the same sources and lock file give the same bytes (tests/viewer checks the committed file).
//   npm ci && npm run build            (or: node build.mjs --out /some/file.html)
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outArg = process.argv.indexOf("--out");
const out = outArg > 0 ? process.argv[outArg + 1] : join(here, "..", "run-viewer.html");
const sha256 = (data) => createHash("sha256").update(data).digest();

/** The digest of everything the build reads (mirrored by tests/viewer/test_viewer_build.py). */
function sourcesDigest() {
  const files = ["build.mjs", "package-lock.json", "package.json",
    ...readdirSync(join(here, "src")).map((name) => `src/${name}`)].sort();
  const lines = files.map((file) => `${file} ${sha256(readFileSync(join(here, file))).toString("hex")}\n`);
  return sha256(lines.join("")).toString("hex").slice(0, 32);
}

const bundle = await esbuild.build({
  entryPoints: [join(here, "src", "main.js")], bundle: true, format: "iife", minify: true, target: "es2022",
  platform: "browser", legalComments: "eof", write: false, charset: "utf8",
});
const script = bundle.outputFiles[0].text.trim().replaceAll("</script", "<\\/script").replaceAll("<!--", "<\\!--");
const css = (await esbuild.transform(readFileSync(join(here, "src", "view.css"), "utf8"),
  { loader: "css", minify: true })).code.trim().replaceAll("</style", "<\\/style");
const hash = (text) => `'sha256-${sha256(text).toString("base64")}'`;
const csp = ["default-src 'none'", `script-src ${hash(script)}`, `style-src ${hash(css)}`, "img-src data:",
  "base-uri 'none'", "form-action 'none'", "require-trusted-types-for 'script'", "trusted-types dompurify"].join("; ");
const html = readFileSync(join(here, "src", "view.html"), "utf8")
  .replace("{{CSP}}", csp).replace("{{SOURCES}}", sourcesDigest())
  .replace("{{STYLE}}", () => css).replace("{{SCRIPT}}", () => script);
writeFileSync(out, html);
console.log(`wrote ${out}: ${html.length} bytes`);
