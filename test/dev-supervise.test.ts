import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { stopWhenOrphaned, superviseWorker } from "../dev/supervise-worker";

// A stand-in for `wrangler dev`, a real process: it serves /healthz unless `state` says "broken", in which case it
// exits with 1 as wrangler does when the Worker throws while it loads, at start or later; "sick" loads but answers 500.
const fakeWrangler = `
const fs = require("node:fs");
const [state, port] = process.argv.slice(1);
const broken = () => fs.readFileSync(state, "utf8") === "broken";
if (broken()) { console.error("Uncaught Error: half-saved edit"); process.exit(1); }
const sick = fs.readFileSync(state, "utf8") === "sick";
require("node:http").createServer((_, res) => { res.statusCode = sick ? 500 : 200; res.end('{"status":"ok"}'); })
  .listen(Number(port), "127.0.0.1")
  .on("error", () => process.exit(1)); // the port taken, as wrangler exits when it cannot listen
setInterval(() => { if (broken()) process.exit(1); }, 20);
`;

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function until(condition: () => boolean, what: string) {
  for (const started = Date.now(); Date.now() - started < 10_000; ) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("npm start's Worker supervisor", () => {
  const dir = mkdtempSync(join(tmpdir(), "supervise-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps running when the Worker dies at load, and starts it again at the next change of its source", async () => {
    const state = join(dir, "state");
    const source = join(dir, "src");
    writeFileSync(state, "ok");
    rmSync(source, { recursive: true, force: true });
    mkdirSync(source);
    const port = await freePort();
    const logs: string[] = [];
    let spawned = 0;
    const worker = superviseWorker({
      spawnWorker: () => {
        spawned++;
        return spawn(process.execPath, ["-e", fakeWrangler, state, String(port)], { stdio: "ignore" });
      },
      healthUrl: `http://127.0.0.1:${port}/healthz`,
      watchPaths: [source],
      log: (message) => logs.push(message.trim()),
      debounceMs: 50,
      graceMs: 50,
    });
    try {
      await worker.ready;
      expect(worker.serving()).toBe(true);

      writeFileSync(state, "broken");
      await until(() => !worker.serving(), "the Worker to stop");
      await until(() => logs.length === 1, "the stop to be told");
      expect(logs[0]).toMatch(
        /^The Worker stopped \(wrangler dev exited with 1; the error is above\)\. npm start keeps/,
      );
      expect(spawned).toBe(1);

      // A change that does not fix it: one more try, which fails, and it waits again.
      writeFileSync(join(source, "index.ts"), "still broken");
      await until(() => logs.length === 2, "the second failure to be told");
      expect(logs[1]).toMatch(/^It still does not start \(the error is above\)\./);
      expect(spawned).toBe(2);
      expect(worker.serving()).toBe(false);

      writeFileSync(state, "ok");
      writeFileSync(join(source, "index.ts"), "fixed");
      await until(() => worker.serving(), "the Worker to serve again");
      expect(logs[2]).toBe(`The Worker is serving again at http://127.0.0.1:${port}.`);
      expect(spawned).toBe(3);
      expect(await (await fetch(`http://127.0.0.1:${port}/healthz`)).text()).toBe(`{"status":"ok"}`);
    } finally {
      await worker.stop();
    }
    expect(worker.serving()).toBe(false);
    writeFileSync(join(source, "index.ts"), "after stop");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(spawned).toBe(3);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });

  it("stops a restarted Worker that never answers, so that the next start has the port to itself", async () => {
    const state = join(dir, "state-sick");
    const source = join(dir, "src-sick");
    writeFileSync(state, "ok");
    mkdirSync(source, { recursive: true });
    const port = await freePort();
    const logs: string[] = [];
    const children: ChildProcess[] = [];
    const worker = superviseWorker({
      spawnWorker: () => {
        const child = spawn(process.execPath, ["-e", fakeWrangler, state, String(port)], { stdio: "ignore" });
        children.push(child);
        return child;
      },
      healthUrl: `http://127.0.0.1:${port}/healthz`,
      watchPaths: [source],
      log: (message) => logs.push(message.trim()),
      debounceMs: 50,
      graceMs: 50,
      startTimeoutMs: 1_000,
    });
    try {
      await worker.ready;
      writeFileSync(state, "broken");
      await until(() => logs.length === 1, "the stop to be told");
      writeFileSync(state, "sick");
      writeFileSync(join(source, "index.ts"), "loads, but every request throws");
      await until(() => logs.length === 2, "the sick start to be told");
      expect(logs[1]).toMatch(/^It still does not start/);
      expect(children[1]?.signalCode).toBe("SIGTERM");

      writeFileSync(state, "ok");
      writeFileSync(join(source, "index.ts"), "fixed");
      await until(() => worker.serving(), "the Worker to serve again");
      expect(children).toHaveLength(3);
    } finally {
      await worker.stop();
    }
    expect(children.map((child) => child.exitCode !== null || child.signalCode !== null)).toEqual([true, true, true]);
  });

  /** Start-up of a fake wrangler in `state` on `port`: it must fail as wrangler's exit says, not be taken as ready. */
  async function expectStartUpToFail(state: string, port: number) {
    const worker = superviseWorker({
      spawnWorker: () => spawn(process.execPath, ["-e", fakeWrangler, state, String(port)], { stdio: "ignore" }),
      healthUrl: `http://127.0.0.1:${port}/healthz`,
      watchPaths: [dir],
      log: () => {},
    });
    await expect(worker.ready).rejects.toThrow("wrangler dev exited with code 1");
    await worker.stop();
  }

  it("fails start-up when the first Worker exits before it serves", async () => {
    const state = join(dir, "state-broken");
    writeFileSync(state, "broken");
    await expectStartUpToFail(state, await freePort());
  });

  it("is not ready on another server's answer when the port was taken between the check and wrangler", async () => {
    const state = join(dir, "state-taken");
    writeFileSync(state, "ok");
    const port = await freePort();
    // Answers 200 to everything, as a dev server of another project might.
    const other = createHttpServer((_, res) => res.end("<!doctype html>")).listen(port, "127.0.0.1");
    try {
      await expectStartUpToFail(state, port);
    } finally {
      other.close();
    }
  });
});

/** A node program that writes "stopped" to `stopped` and exits once it is orphaned (`stopWhenOrphaned`). */
const orphanWatcher = (stopped: string) => {
  const module = fileURLToPath(new URL("../dev/supervise-worker.ts", import.meta.url));
  return `import(${JSON.stringify(module)}).then(({ stopWhenOrphaned }) => {
      stopWhenOrphaned(() => { require("node:fs").writeFileSync(${JSON.stringify(stopped)}, "stopped"); process.exit(0); }, 50);
      setInterval(() => {}, 1000);
    })`;
};

describe("npm start when npm alone is stopped", () => {
  it("stops once its shell dies and it is orphaned, as a SIGTERM to npm leaves it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orphan-"));
    const stopped = join(dir, "stopped");
    const script = orphanWatcher(stopped);
    // The shell stays between, as npm's `sh -c` does (the trailing command keeps it from exec'ing node).
    const shell = spawn("sh", ["-c", `node --import tsx -e '${script}'; exit $?`], { stdio: "ignore" });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(existsSync(stopped)).toBe(false);
      shell.kill("SIGTERM");
      await until(() => existsSync(stopped), "the orphan to stop");
      expect(readFileSync(stopped, "utf8")).toBe("stopped");
    } finally {
      shell.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("stops once npm above its shell is killed outright, which leaves the shell waiting for it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "orphan-"));
    const stopped = join(dir, "stopped");
    const script = orphanWatcher(stopped);
    // npm (the outer shell), then npm's shell, then node; each shell kept from exec'ing by its trailing command.
    const shellScript = join(dir, "script.sh");
    writeFileSync(shellScript, `node --import tsx -e '${script}'; exit $?\n`);
    const npm = spawn("sh", ["-c", `sh ${shellScript}; exit $?`], { stdio: "ignore" });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(existsSync(stopped)).toBe(false);
      npm.kill("SIGKILL");
      await until(() => existsSync(stopped), "the process under a killed npm to stop");
      expect(readFileSync(stopped, "utf8")).toBe("stopped");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("does nothing while its parent lives", async () => {
    let calls = 0;
    stopWhenOrphaned(() => calls++, 10);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(calls).toBe(0);
  });
});
