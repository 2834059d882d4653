// Keeps the Worker of `npm start` coming back. `wrangler dev` rebuilds and reloads on every change, but exits when the
// Worker throws while it loads (a half-saved edit): the database, the local issuer and the crons stay up then, and
// the Worker starts again at the next change of what it is built from, as the reload would have.
import type { ChildProcess } from "node:child_process";
import { type FSWatcher, readFileSync, watch } from "node:fs";

export interface WorkerSupervisor {
  /** Resolves once the first Worker answers `healthUrl`; rejects if it exits first (start-up failed). */
  ready: Promise<void>;
  /** Whether a Worker is up and answering (false while waiting for a fix). */
  serving(): boolean;
  /** Stops the Worker for good: no restart after this. */
  stop(): Promise<void>;
}

export async function waitUntilServing(url: string, worker: ChildProcess, timeoutMs = 120_000) {
  for (const started = Date.now(); Date.now() - started < timeoutMs; ) {
    if (exited(worker)) throw new Error(`wrangler dev exited with code ${worker.exitCode ?? worker.signalCode}`);
    try {
      // Our Worker's answer, not any server's: another one that took the port first would pass for it, and
      // wrangler's failure to listen would come after "ready" and the tokens.
      // Each attempt bounded: wrangler holds requests open while its build is broken (a syntax error saved), and
      // one fetch that never returned kept this from ever reaching the time limit.
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (response.ok && (await response.text()) === '{"status":"ok"}') return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 60_000} minutes`);
}

const exited = (worker: ChildProcess) => worker.exitCode !== null || worker.signalCode !== null;

async function terminate(worker: ChildProcess) {
  if (exited(worker)) return;
  await new Promise((resolve) => {
    worker.once("exit", resolve);
    worker.kill("SIGTERM");
  });
}

export function superviseWorker(options: {
  spawnWorker: () => ChildProcess;
  healthUrl: string;
  /** Files and folders the Worker is built from; a change after a crash starts it again. */
  watchPaths: string[];
  log?: (message: string) => void;
  debounceMs?: number;
  graceMs?: number;
  /** How long a started Worker has to answer `healthUrl` before it counts as not starting. */
  startTimeoutMs?: number;
}): WorkerSupervisor {
  const { spawnWorker, healthUrl, watchPaths, log = console.error, debounceMs = 300, graceMs = 500 } = options;
  const { startTimeoutMs = 120_000 } = options;
  let worker = spawnWorker();
  let up = false;
  let stopping = false;
  let watchers: FSWatcher[] = [];
  let pending: NodeJS.Timeout | undefined;

  const unwatch = () => {
    for (const watcher of watchers) watcher.close();
    watchers = [];
    clearTimeout(pending);
  };
  const restart = async () => {
    unwatch();
    worker = spawnWorker();
    try {
      await waitUntilServing(healthUrl, worker, startTimeoutMs);
      up = true;
      log(`\nThe Worker is serving again at ${new URL(healthUrl).origin}.`);
      supervise(worker);
    } catch {
      // Loaded but never healthy (every request throws, say): stopped, or it would hold the port the next one needs.
      await terminate(worker);
      if (!stopping) awaitChange("It still does not start (the error is above)");
    }
  };
  const awaitChange = (what: string) => {
    if (stopping) return;
    log(
      `\n${what}. npm start keeps the database, tokens and crons, and starts the Worker again when you save a change. Ctrl-C stops everything.`,
    );
    watchers = watchPaths.map((path) =>
      watch(path, { recursive: true }, () => {
        clearTimeout(pending);
        pending = setTimeout(() => void restart(), debounceMs);
      }),
    );
  };
  const supervise = (child: ChildProcess) => {
    const stopped = () => {
      up = false;
      const how = child.exitCode ?? child.signalCode;
      // Ctrl-C reaches wrangler and npm start together, and wrangler may be seen to exit first: a moment's grace
      // lets stop() say so, rather than announcing a crash on the way out.
      setTimeout(() => {
        if (!stopping) awaitChange(`The Worker stopped (wrangler dev exited with ${how}; the error is above)`);
      }, graceMs);
    };
    if (exited(child)) stopped();
    else child.once("exit", stopped);
  };

  const ready = waitUntilServing(healthUrl, worker).then(() => {
    up = true;
    supervise(worker);
  });
  return {
    ready,
    serving: () => up,
    stop: async () => {
      stopping = true;
      unwatch();
      await terminate(worker);
    },
  };
}

/**
 * Calls `stop` once this process is orphaned. npm runs a script through `sh -c`, and a SIGTERM sent to npm alone (a
 * process manager, `timeout`, an editor's stop button) kills npm and that shell without reaching their child, which
 * the system then adopts; a SIGKILL to npm alone leaves the shell waiting for us, itself adopted, so on Linux the
 * shell's parent is watched too. Ctrl-C signals the whole group and never gets here.
 */
export function stopWhenOrphaned(stop: () => unknown, intervalMs = 1_000) {
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  const timer = setInterval(() => {
    if (process.ppid === parent && (grandparent === undefined || parentOf(parent) === grandparent)) return;
    clearInterval(timer);
    void stop();
  }, intervalMs);
  timer.unref();
}

/** The parent of process `pid` (Linux: /proc/<pid>/stat, whose fourth field follows the command in parentheses). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined; // no /proc (macOS), or the parent is gone: then process.ppid tells
  }
}
