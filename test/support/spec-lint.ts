// `npm run spec:lint` (part of `npm test`): writes the app's /openapi.json, as
// production serves it, to a temporary file and lints it with Redocly and with
// Spectral's OpenAPI + OWASP API Security rules (.spectral.mjs; Redocly's recommended rules).
// Errors fail; warnings are printed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import app from "../../src/app";

const res = await app.request("https://time-entries.example.com/openapi.json", {}, {});
if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
const dir = mkdtempSync(join(tmpdir(), "openapi-lint-"));
const file = join(dir, "openapi.json");
writeFileSync(file, await res.text());

const env = { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" };
const run = (command: string, args: string[]) => {
  console.log(`$ ${command} ${args.join(" ")}`);
  return spawnSync(command, args, { stdio: "inherit", env }).status === 0;
};
let ok = false;
try {
  const redocly = run("redocly", ["lint", "--format", "stylish", file]);
  const spectral = run("spectral", ["lint", "--ruleset", ".spectral.mjs", "--fail-severity", "error", file]);
  ok = redocly && spectral;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(ok ? "The OpenAPI document passes Redocly and Spectral (OWASP)" : "The OpenAPI document has lint errors");
process.exit(ok ? 0 : 1);
