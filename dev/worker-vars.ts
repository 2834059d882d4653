// The Worker's settings for `wrangler dev`, in a file only this user may read instead of `--var NAME:value`
// arguments, which every user of the machine sees in `ps` (the session secret, the password of a DATABASE_URL).
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * One line of an .env file that wrangler reads back as `value`: dotenv keeps a quoted value as it is but for the
 * quotes (and `\n`, `\r` between double quotes), then dotenv-expand replaces `$NAME` unless the `$` is escaped.
 */
export function dotenvLine(name: string, value: string) {
  if (/[\r\n]/.test(value)) throw new Error(`${name} has a line break, which wrangler's .env files cannot carry`);
  const quote = ["'", "`", '"'].find((q) => !value.includes(q) && (q !== '"' || !/\\[nr]/.test(value)));
  if (!quote) throw new Error(`${name} holds every kind of quote, which wrangler's .env files cannot carry`);
  return `${name}=${quote}${value.replaceAll("$", "\\$")}${quote}`;
}

/**
 * Writes `vars` (unset ones left out) to `<dataDir>/worker-vars.env`, readable by this user only, and returns the
 * `--env-file` arguments for wrangler: a `.dev.vars` the developer keeps in the project first (wrangler reads it only
 * when no env file is named), then these, which take precedence.
 */
export function workerVarsArgs(root: string, dataDir: string, vars: Record<string, string | undefined>) {
  const lines = Object.entries(vars).flatMap(([name, value]) => (value ? [dotenvLine(name, value)] : []));
  const path = join(dataDir, "worker-vars.env");
  writeFileSync(path, `${lines.join("\n")}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // a file left by an earlier start keeps its mode through writeFileSync
  const devVars = join(root, ".dev.vars");
  return [...(existsSync(devVars) ? ["--env-file", devVars] : []), "--env-file", path];
}
