// The Worker's settings for `wrangler dev`, in a file only this user may read instead of `--var NAME:value`
// arguments, which every user of the machine sees in `ps` (the session secret, the password of a DATABASE_URL).
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
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
  mkdirSync(dataDir, { recursive: true, mode: 0o700 }); // written anew at each start of the Worker: .data may be gone meanwhile
  writeFileSync(path, `${lines.join("\n")}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // a file left by an earlier start keeps its mode through writeFileSync
  const devVars = devVarsFile(root);
  return [...(devVars ? ["--env-file", devVars] : []), "--env-file", path];
}

/** The developer's `.dev.vars` in the project, if there is one (never wrangler's fallback to the working directory). */
function devVarsFile(root: string) {
  const path = join(root, ".dev.vars");
  return existsSync(path) ? path : undefined;
}

const textValues = (bindings: Record<string, { value: unknown }>) =>
  Object.fromEntries(
    Object.entries(bindings).map(([name, { value }]) => [
      name,
      typeof value === "string" ? value : JSON.stringify(value),
    ]),
  );

/** The developer's `.dev.vars`, read as wrangler reads it; empty when there is none (wrangler is then not loaded). */
export async function devVarsOf(root: string): Promise<Record<string, string>> {
  const path = devVarsFile(root);
  if (!path) return {};
  const { unstable_getVarsForDev } = await import("wrangler");
  return textValues(unstable_getVarsForDev(undefined, [path], {}, undefined, true));
}

/**
 * The Worker's settings the project holds, as `wrangler dev` reads them: `worker` is wrangler.toml's `[vars]` with
 * the developer's `.dev.vars` over them, what the Worker gets but for what npm start sets itself; `devVars` is
 * `.dev.vars` alone, whose values npm start takes as its own settings when the environment has none.
 */
export async function projectVars(root: string) {
  const { unstable_getVarsForDev, unstable_readConfig } = await import("wrangler");
  const configPath = join(root, "wrangler.toml");
  const devVars = devVarsFile(root);
  const { vars } = unstable_readConfig({ config: configPath });
  return {
    worker: textValues(unstable_getVarsForDev(configPath, devVars ? [devVars] : [], vars, undefined, true)),
    devVars: await devVarsOf(root),
  };
}

/**
 * A setting of the local tools (npm start, db:migrate, token): from the environment, or else from `.dev.vars`, where
 * a wrangler developer keeps them. Set in the environment, even empty, it is the environment's (empty is unset: the
 * development default), so `NAME= npm start` overrides a `.dev.vars` line.
 */
export function settingOf(devVars: Record<string, string>, name: string) {
  const value = process.env[name];
  return (value === undefined ? devVars[name] : value)?.trim() || undefined;
}

export const localSetting = async (root: string, name: string) => settingOf(await devVarsOf(root), name);
