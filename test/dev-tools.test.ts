// The local tools refuse what cannot work with the reason and nothing left behind, instead of a stack trace, a hang,
// or a server that answers 500 to everything after saying it is ready.
import { spawn } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readMigrationFiles } from "drizzle-orm/migrator";
import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { unstable_getVarsForDev } from "wrangler";
import { openDevDatabase } from "../dev/database";
import { MIGRATIONS_FOLDER, migrate } from "../dev/migrate";
import { portIsFree } from "../dev/port";
import { openPglite } from "../dev/sql-backends";
import { dotenvLine, localSetting, projectVars, workerVarsArgs } from "../dev/worker-vars";
import { liveDocument } from "../scripts/gen-client";
import { configurationProblems } from "../src/lib/config";
import type { Bindings } from "../src/lib/types";
import { createDatabase, dropDatabase, withDatabase } from "./support/postgres";

const root = fileURLToPath(new URL("..", import.meta.url));
const SECRET = "a-test-secret-that-is-at-least-32-bytes-long";

/** Runs `tsx <script> ...args` in the repository as npm would, and what it printed and exited with. */
function run(script: string, args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const child = spawn(`${root}node_modules/.bin/tsx`, [script, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      out += chunk;
    });
    child.on("exit", (code) => resolve({ code, out }));
  });
}

async function portInUse() {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

describe("npm start", () => {
  it("refuses a PORT that is no port, naming what was given", async () => {
    for (const port of ["abc", "0", "70000", "1e4"]) {
      const { code, out } = await run("dev/start.ts", [], { PORT: port, SESSION_JWT_SECRET: SECRET });
      expect([code, out.trim()]).toEqual([1, `PORT must be a whole number from 1 to 65535, not "${port}"`]);
    }
  });

  it("on a port in use, names a free one to use instead", async () => {
    const busy = await portInUse();
    try {
      // Open to all first, as an earlier version left it: npm start must close it again.
      mkdirSync(join(root, ".data"), { recursive: true });
      chmodSync(join(root, ".data"), 0o755);
      const { code, out } = await run("dev/start.ts", [], { PORT: String(busy.port), SESSION_JWT_SECRET: SECRET });
      const suggested = Number(out.match(/: PORT=([0-9]+) npm start$/m)?.[1]);
      expect([code, out.trim()]).toEqual([
        1,
        `Port ${busy.port} on 127.0.0.1 is already in use (another npm start?). Stop that server, or start on another port: PORT=${suggested} npm start`,
      ]);
      expect(suggested).toBeGreaterThan(busy.port);
      expect(await portIsFree(suggested)).toBe(true);
      // .data, made or kept before the port is checked, is for its user only: PGlite makes its files readable by all.
      expect((statSync(join(root, ".data")).mode & 0o777).toString(8)).toBe("700");
    } finally {
      busy.close();
    }
  });

  it("refuses what the Worker would refuse on every request, before opening or starting anything", async () => {
    const free = await portInUse();
    free.close();
    const short = await run("dev/start.ts", [], { PORT: String(free.port), SESSION_JWT_SECRET: "short" });
    expect([short.code, short.out.trim()]).toEqual([
      1,
      "The Worker's configuration is invalid:\n  SESSION_JWT_SECRET must be at least 32 bytes",
    ]);
    const loopback = await run("dev/start.ts", [], {
      PORT: String(free.port),
      SESSION_JWT_SECRET: SECRET,
      WEBHOOK_ALLOW_LOOPBACK: "yes",
    });
    expect([loopback.code, loopback.out.trim()]).toEqual([
      1,
      "The Worker's configuration is invalid:\n  WEBHOOK_ALLOW_LOOPBACK must be true or false",
    ]);
    const partial = await run("dev/start.ts", [], {
      PORT: String(free.port),
      SESSION_JWT_SECRET: SECRET,
      OAUTH_ISSUER: "https://issuer.example",
    });
    expect([partial.code, partial.out.trim()]).toEqual([
      1,
      "The Worker's configuration is invalid:\n  OAUTH_ISSUER, OAUTH_AUDIENCE and OAUTH_JWKS_URL must be set together",
    ]);
  });
});

describe("the Worker's settings under npm start", () => {
  it("reach wrangler in a file only its user reads, not on its command line, each as wrangler reads it back", () => {
    const dir = mkdtempSync(join(tmpdir(), "worker-vars-"));
    try {
      const vars = {
        DATABASE_URL: "postgres://app:pa$$word'\"#x@db.example:5432/app?sslmode=require",
        SESSION_JWT_SECRET: "$HOME $\u007bPATH} \\$x \\n '# not a comment'  ",
        OAUTH_ISSUER: "http://127.0.0.1:8788/",
        OAUTH_AUDIENCE: undefined,
      };
      const devVars = join(dir, ".dev.vars");
      writeFileSync(devVars, 'CORS_ALLOWED_ORIGINS="https://app.example"\nSESSION_JWT_SECRET=overridden\n');
      const args = workerVarsArgs(dir, dir, vars);
      const files = args.filter((_, i) => args[i - 1] === "--env-file");
      expect(args).toEqual(["--env-file", devVars, "--env-file", join(dir, "worker-vars.env")]);
      expect(statSync(join(dir, "worker-vars.env")).mode & 0o777).toBe(0o600);
      const read = Object.fromEntries(
        Object.entries(unstable_getVarsForDev(undefined, files, {}, undefined, true)).map(([name, binding]) => [
          name,
          (binding as { value: unknown }).value,
        ]),
      );
      expect(read).toEqual({
        CORS_ALLOWED_ORIGINS: "https://app.example",
        DATABASE_URL: vars.DATABASE_URL,
        SESSION_JWT_SECRET: vars.SESSION_JWT_SECRET,
        OAUTH_ISSUER: vars.OAUTH_ISSUER,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("are written anew at each start of the Worker: a .dev.vars deleted, or the data folder, since the last start", () => {
    const dir = mkdtempSync(join(tmpdir(), "worker-vars-"));
    try {
      writeFileSync(join(dir, ".dev.vars"), "CORS_ALLOWED_ORIGINS=https://app.example\n");
      expect(workerVarsArgs(dir, join(dir, ".data"), {})).toContain(join(dir, ".dev.vars"));
      rmSync(join(dir, ".dev.vars"));
      rmSync(join(dir, ".data"), { recursive: true });
      expect(workerVarsArgs(dir, join(dir, ".data"), { PORT: "1" })).toEqual([
        "--env-file",
        join(dir, ".data", "worker-vars.env"),
      ]);
      expect(readFileSync(join(dir, ".data", "worker-vars.env"), "utf8")).toBe("PORT='1'\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("are checked with what wrangler.toml and .dev.vars give the Worker, and .dev.vars holds npm start's own", async () => {
    const dir = mkdtempSync(join(tmpdir(), "project-vars-"));
    const saved = process.env.DATABASE_URL;
    try {
      copyFileSync(join(root, "wrangler.toml"), join(dir, "wrangler.toml"));
      // Without one, none: not wrangler's fallback to a .dev.vars in the working directory.
      expect((await projectVars(dir)).devVars).toEqual({});
      writeFileSync(
        join(dir, ".dev.vars"),
        'RATE_LIMIT_PERIOD_SECONDS=30\nWEBHOOK_TIMEOUT_MS=2000\nDATABASE_URL="postgres://dev@127.0.0.1/dev"\n',
      );
      const { worker, devVars } = await projectVars(dir);
      expect(worker).toMatchObject({ RATE_LIMIT_PERIOD_SECONDS: "30", WEBHOOK_TIMEOUT_MS: "2000", OAUTH_ISSUER: "" });
      expect(worker.WEBHOOK_ALLOW_LOOPBACK).toBe("false"); // wrangler.toml's, which npm start sets over
      expect(devVars).toEqual({
        RATE_LIMIT_PERIOD_SECONDS: "30",
        WEBHOOK_TIMEOUT_MS: "2000",
        DATABASE_URL: "postgres://dev@127.0.0.1/dev",
      });
      // What start.ts checks before it opens anything: the Worker would answer 500 to every request.
      expect(configurationProblems({ ...worker, SESSION_JWT_SECRET: SECRET } as Bindings)).toEqual([
        "RATE_LIMIT_PERIOD_SECONDS must be 10 or 60",
      ]);
      delete process.env.DATABASE_URL;
      expect(await localSetting(dir, "DATABASE_URL")).toBe("postgres://dev@127.0.0.1/dev");
      process.env.DATABASE_URL = "postgres://env@127.0.0.1/env";
      expect(await localSetting(dir, "DATABASE_URL")).toBe("postgres://env@127.0.0.1/env");
      // Set empty, the environment still wins: unset, the development default (the embedded database).
      process.env.DATABASE_URL = "";
      expect(await localSetting(dir, "DATABASE_URL")).toBeUndefined();
      expect(await localSetting(dir, "SESSION_JWT_SECRET")).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses a value an .env file cannot carry, naming the setting", () => {
    expect(() => dotenvLine("SESSION_JWT_SECRET", "two\nlines")).toThrow(
      "SESSION_JWT_SECRET has a line break, which wrangler's .env files cannot carry",
    );
    expect(() => dotenvLine("SESSION_JWT_SECRET", "'`\"")).toThrow("SESSION_JWT_SECRET holds every kind of quote");
  });
});

describe("DATABASE_URL for npm start and db:migrate", () => {
  it("must be a Postgres URL whose server answers, or the error says which setting and why", async () => {
    await expect(openDevDatabase({ databaseUrl: "mysql://u:p@127.0.0.1/db", dataDir: "" })).rejects.toThrow(
      "DATABASE_URL must be a postgres:// or postgresql:// URL (a Neon one, or any Postgres server)",
    );
    const closed = await portInUse();
    closed.close();
    await expect(
      openDevDatabase({ databaseUrl: `postgres://u:p@127.0.0.1:${closed.port}/db`, dataDir: "" }),
    ).rejects.toThrow(
      `DATABASE_URL: the Postgres server at 127.0.0.1:${closed.port} could not be reached: connect ECONNREFUSED`,
    );
  });

  it("names Neon and its host when a Neon URL does not answer, rather than the driver's bare fetch error", async () => {
    // No such endpoint: the name does not resolve (or, where Neon's DNS has a wildcard, nothing there answers).
    const host = "ep-nowhere-00000000.nowhere-1.aws.neon.tech";
    const { code, out } = await run("dev/db-migrate.ts", [], { DATABASE_URL: `postgresql://u:p@${host}/neondb` });
    expect(code).toBe(1);
    expect(out.trim()).toMatch(
      new RegExp(`^DATABASE_URL: Neon at ${host.replaceAll(".", "\\.")} (could not be reached|did not answer): `),
    );
  });
});

describe.skipIf(!process.env.TEST_DATABASE_URL)(
  "DATABASE_URL naming a server that refuses us (TEST_DATABASE_URL's)",
  () => {
    it("lets two db:migrate runs at once take turns: every migration applied once, none failing", async () => {
      const server = process.env.TEST_DATABASE_URL as string;
      const name = `migrate_twice_${crypto.randomUUID().slice(0, 8)}`;
      await createDatabase(server, name);
      // One endpoint for both (the driver's endpoint is one setting per process, and each endpoint serves only its own
      // connection string); its pool gives each run a connection of its own, as two processes would have.
      const database = await openDevDatabase({ databaseUrl: withDatabase(server, name), dataDir: "" });
      try {
        const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).length;
        const applied = await Promise.all([1, 2].map(() => migrate(database.databaseUrl, database.sqlHttpEndpoint)));
        expect(applied.reduce((sum, count) => sum + count, 0)).toBe(migrations);
        expect(await migrate(database.databaseUrl, database.sqlHttpEndpoint)).toBe(0);
      } finally {
        await database.close();
        await dropDatabase(server, name);
      }
    });

    it("says the server did not let us in, with Postgres' SQLSTATE", async () => {
      const url = new URL(process.env.TEST_DATABASE_URL as string);
      url.password = "not-the-password";
      await expect(openDevDatabase({ databaseUrl: url.href, dataDir: "" })).rejects.toThrow(
        /^DATABASE_URL: the Postgres server at .+ did not let us in: .+ \(SQLSTATE 28P01\)$/,
      );
    });
  },
);

describe("the embedded database", () => {
  it("that cannot be opened says which folder to delete to start afresh", async () => {
    const root = mkdtempSync(join(tmpdir(), "pglite-damaged-"));
    try {
      const dataDir = join(root, "pglite");
      writeFileSync(dataDir, "not a database directory");
      await expect(openPglite({ dataDir })).rejects.toThrow(
        new RegExp(
          `^The embedded database in ${dataDir} could not be opened \\(.+\\)\\. If it is damaged, delete that folder: npm start then migrates and seeds a new one\\.$`,
        ),
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("npm run token", () => {
  const ada = "de000000-0000-4000-8000-000000000101";
  const org = "de000000-0000-4000-8000-000000000001";

  it("signs a session token with the local secret for the lifetime asked", async () => {
    const { code, out } = await run("dev/token.ts", [ada, org, "2h"], { SESSION_JWT_SECRET: SECRET });
    expect(code).toBe(0);
    const { payload } = await jwtVerify(out.trim(), new TextEncoder().encode(SECRET));
    expect(payload).toMatchObject({ sub: ada, org_id: org });
    expect((payload.exp as number) - (payload.iat as number)).toBe(7200);
  });

  it("refuses ids that are not UUIDs and lifetimes jose would not read or that end before they start", async () => {
    for (const [args, problem] of [
      [[ada], "expected 2 or 3 arguments, got 1"],
      [["not-a-uuid", org], 'the user id is not a UUID: "not-a-uuid"'],
      [[ada, org, "2x"], 'expires-in must be a positive lifetime such as 90s, 30m, 2h or 7d, not "2x"'],
      [[ada, org, "-5m"], 'expires-in must be a positive lifetime such as 90s, 30m, 2h or 7d, not "-5m"'],
    ] as const) {
      const { code, out } = await run("dev/token.ts", [...args], { SESSION_JWT_SECRET: SECRET });
      expect([code, out.split("\n")[0]]).toEqual([2, problem]);
    }
  });

  it("refuses a secret the Worker would refuse", async () => {
    const { code, out } = await run("dev/token.ts", [ada, org], { SESSION_JWT_SECRET: "short" });
    expect([code, out.trim()]).toEqual([1, "SESSION_JWT_SECRET must be at least 32 bytes, as the Worker requires"]);
  });

  it("answers --help with its usage", async () => {
    const { code, out } = await run("dev/token.ts", ["--help"], { SESSION_JWT_SECRET: SECRET });
    expect([code, out.split("\n")[0]]).toEqual([
      0,
      "usage: npm run token -- <user-id> <organization-id> [expires-in: 90s, 30m, 2h, 7d]",
    ]);
  });
});

describe("npm run webhooks:listen", () => {
  it("takes the token from TOKEN, as npm start's export line sets it, so that it stays out of ps", async () => {
    const free = await portInUse();
    free.close();
    const args = ["--port", String(free.port)];
    const fromEnvironment = await run("dev/webhooks-listen.ts", args, { API: "http://127.0.0.1:9", TOKEN: "t" });
    expect(fromEnvironment.out).toContain("POST http://127.0.0.1:9/v1/webhooks failed");
    const none = await run("dev/webhooks-listen.ts", args, { API: "http://127.0.0.1:9", TOKEN: "" });
    expect([none.code, none.out.split("\n")[0]]).toEqual([
      1,
      "Give an owner's or admin's token (TOKEN, or --token) to subscribe, or --secret whsec_…",
    ]);
  });

  it("listens before it subscribes: a port in use stops it before it asks the API for anything", async () => {
    const busy = await portInUse();
    try {
      // Nothing serves this API: had it subscribed first, the error would be the failed POST.
      const { code, out } = await run("dev/webhooks-listen.ts", ["--token", "t", "--port", String(busy.port)], {
        API: "http://127.0.0.1:9",
      });
      expect([code, out.trim()]).toEqual([1, `Port ${busy.port} is in use: give another with --port`]);
    } finally {
      busy.close();
    }
  });

  it("says where it sent a request that found no API, and how to name another", async () => {
    const { code, out } = await run("dev/webhooks-listen.ts", ["--token", "t", "--port", "0"], {
      API: "http://127.0.0.1:9",
    });
    expect(code).toBe(2);
    expect(out).toContain('--port must be a whole number from 1 to 65535, not "0"');
    const free = await portInUse();
    free.close();
    const down = await run("dev/webhooks-listen.ts", ["--token", "t", "--port", String(free.port)], {
      API: "http://127.0.0.1:9",
    });
    expect(down.code).toBe(1);
    expect(down.out).toContain(
      "POST http://127.0.0.1:9/v1/webhooks failed (is npm start running there? --api or API names it)",
    );
  });
});

describe("npm run gen:client -- <url>", () => {
  it("says why a URL gives no document, without a stack: nothing listening, or no OpenAPI 3 document", async () => {
    const closed = await portInUse();
    closed.close();
    await expect(liveDocument(`http://127.0.0.1:${closed.port}/openapi.json`)).rejects.toThrow(
      `GET http://127.0.0.1:${closed.port}/openapi.json failed: connect ECONNREFUSED`,
    );
    const server = createHttpServer((_, res) => res.end('{"ok":true}'));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/healthz`;
    try {
      await expect(liveDocument(url)).rejects.toThrow(`GET ${url} answered no OpenAPI 3 document`);
    } finally {
      server.close();
    }
  });
});
