// The Worker as the bench runs it: the production bundle served by workerd itself,
// beside the relay, and what the workerd process spends (CPU time, resident memory).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_readConfig } from "wrangler";
import { LOCAL_DRIVER_URL } from "../dev/database";

const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * The production bundle (`npm run build`, as `wrangler deploy` would upload it) served by workerd itself, the
 * runtime `wrangler dev` bundles, with wrangler.toml's compatibility settings and vars. Not `wrangler dev`: its
 * local proxy (a proxy Worker in a second workerd, the inspector, request logging) costs more per request than
 * most of the database work measured here, and production has none of it. No rate limiter binding: its 600
 * requests/minute per organization would turn a load test into a test of 429s.
 */
export async function startWorker(options: {
  sqlHttpEndpoint: string;
  sessionSecret: string;
  /** V8 flags for the whole process (`bench/export-heap.ts` caps the heap with `--max-old-space-size`). */
  v8Flags?: string[];
}): Promise<{ worker: ChildProcess; port: number; relayPort: number }> {
  const { sqlHttpEndpoint } = options;
  const [port, relayPort] = [await freePort(), await freePort()];
  const env = { ...process.env, WRANGLER_SEND_METRICS: "false" };
  execFileSync("npm", ["run", "-s", "build"], { cwd: root, stdio: ["ignore", "ignore", "inherit"], env });
  const modules = readdirSync(join(root, "dist")).filter((file) => /\.m?js$/.test(file));
  if (modules.length !== 1 || modules[0] !== "index.js") {
    throw new Error(`Expected dist/index.js alone from npm run build, found: ${modules.join(", ")}`);
  }
  const wrangler = unstable_readConfig({ config: join(root, "wrangler.toml") });
  const vars: Record<string, string> = {
    ...Object.fromEntries(Object.entries(wrangler.vars).map(([name, value]) => [name, String(value)])),
    DATABASE_URL: LOCAL_DRIVER_URL,
    SQL_HTTP_ENDPOINT: sqlHttpEndpoint,
    SESSION_JWT_SECRET: options.sessionSecret,
  };
  const text = (value: string) => JSON.stringify(value);
  const config = join(root, "dist", "bench-workerd.capnp");
  writeFileSync(
    config,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  v8Flags = [${(options.v8Flags ?? []).map(text).join(", ")}],
  services = [
    (name = "api", worker = (
      modules = [(name = "index.js", esModule = embed "index.js")],
      compatibilityDate = ${text(wrangler.compatibility_date ?? "")},
      compatibilityFlags = [${wrangler.compatibility_flags.map(text).join(", ")}],
      bindings = [${Object.entries(vars)
        .map(([name, value]) => `(name = ${text(name)}, text = ${text(value)})`)
        .join(", ")}],
      globalOutbound = "network",
    )),
    (name = "relay", worker = (
      modules = [(name = "relay-worker.js", esModule = embed "../bench/relay-worker.js")],
      compatibilityDate = ${text(wrangler.compatibility_date ?? "")},
      bindings = [(name = "SQL_HTTP_ENDPOINT", text = ${text(sqlHttpEndpoint)})],
      globalOutbound = "network",
    )),
    (name = "network", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:${port}", http = (), service = "api"),
    (name = "relay", address = "127.0.0.1:${relayPort}", http = (), service = "relay"),
  ],
);
`,
  );
  // The workerd that wrangler itself runs, so the bench measures the runtime `wrangler dev` uses.
  const fromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler"));
  const workerd = (fromWrangler("workerd") as { default: string }).default;
  const worker = spawn(workerd, ["serve", config, "--experimental"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (const started = Date.now(); Date.now() - started < 60_000; ) {
    if (worker.exitCode !== null) throw new Error(`workerd exited with code ${worker.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return { worker, port, relayPort };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("workerd did not answer within a minute");
}

/** A port free on loopback, for workerd to listen on. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/** Clock ticks per second of /proc's CPU times (USER_HZ): 100 on Linux, whatever the kernel's HZ. */
const USER_HZ = 100;

/**
 * CPU time the process has used so far (user + system, all its threads), in milliseconds, from
 * /proc/<pid>/stat; undefined where there is no /proc. Resolution 10 ms: read over a whole measurement.
 */
export function cpuMilliseconds(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

/**
 * The machine's CPU time so far, all cores together, in milliseconds: `busy` (user, system, interrupts, and time
 * the hypervisor gave to others) and `total` (busy and idle); undefined where there is no /proc.
 */
export function machineCpuMilliseconds(): { busy: number; total: number } | undefined {
  try {
    const [, ...ticks] = (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").trim().split(/\s+/).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = ticks;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy: (busy * 1000) / USER_HZ, total: ((busy + idle + iowait) * 1000) / USER_HZ };
  } catch {
    return undefined;
  }
}

/** The process's resident memory in bytes (VmRSS), or undefined where there is no /proc. */
export function residentBytes(pid: number | undefined): number | undefined {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/** workerd's CPU use while idle, in milliseconds per second, over `seconds`: subtracted from each measurement. */
export async function idleCpuRate(pid: number | undefined, seconds = 3) {
  const before = cpuMilliseconds(pid);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = cpuMilliseconds(pid);
  return before === undefined || after === undefined ? undefined : (after - before) / seconds;
}
