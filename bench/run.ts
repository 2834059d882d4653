// `npm run bench` (never part of the tests): seeds 1,000,000 time entries over
// 50 users, 40 projects and 3 organizations into DATABASE_URL (a Postgres
// server) or, when unset, embedded PGlite in .data/bench-pglite; runs the Worker's
// production bundle in workerd on it; drives each operation with autocannon, and the
// same SQL straight at the SQL-over-HTTP endpoint (the floor); prints the table
// and writes bench/RESULTS.md.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { unstable_readConfig } from "wrangler";
import { LOCAL_DRIVER_URL } from "../dev/database";
import { migrate } from "../dev/migrate";
import { openPglite, openPostgres, type Query, type SqlBackend } from "../dev/sql-backends";
import { startSqlHttpEndpoint } from "../dev/sql-http-endpoint";
import { signSessionToken } from "../dev/tokens";
import { measure, progressBar, type Sample, type Stats, summarize } from "./load";
import { type Row, report } from "./report";
import { removePools, scenarios } from "./scenarios";
import { type Run, type SeededOrganization, seed } from "./seed";

const root = fileURLToPath(new URL("..", import.meta.url));
const SIZE = { organizations: 3, users: 50, projects: 40, entries: Number(process.env.BENCH_ENTRIES ?? 1_000_000) };
const LABEL = "Bench";
const SECRET = "bench-session-secret-that-is-at-least-32-bytes";
/** Each pass runs every scenario at one concurrency: 1 connection for latency, 10 for throughput. */
const PASSES = (process.env.BENCH_CONNECTIONS ?? "1,10").split(",").map(Number);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
/** Each measurement is taken in this many rounds, interleaved with the other two of its operation. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function openBackend(): Promise<SqlBackend> {
  const url = process.env.DATABASE_URL?.trim();
  if (url) return openPostgres(url, { max: 20 });
  // PGlite creates its own directory but not the parents: a fresh clone has no .data yet.
  mkdirSync(join(root, ".data"), { recursive: true });
  return openPglite({ dataDir: join(root, ".data", "bench-pglite") });
}

/** The bench organizations from an earlier run, if complete; otherwise a fresh seed (old bench rows removed). */
async function seeded(run: Run): Promise<{ organizations: SeededOrganization[]; seconds?: number }> {
  const existing = await run({
    query: `select o.id, (select count(*) from time_entries t where t.organization_id = o.id)::int as entries
      from organizations o where o.name like $1 order by o.name`,
    params: [`${LABEL} organization %`],
  });
  const total = existing.rows.reduce((sum, row) => sum + Number(row[1]), 0);
  if (existing.rows.length === SIZE.organizations && total >= SIZE.entries && !process.env.BENCH_RESEED) {
    console.log(`Reusing ${total.toLocaleString("en")} seeded entries (BENCH_RESEED=1 to seed afresh)`);
    return {
      organizations: await describe(
        run,
        existing.rows.map((row) => row[0] as string),
      ),
    };
  }
  if (existing.rows.length > 0) {
    console.log("Removing an incomplete earlier bench seed");
    const ids = `{${existing.rows.map((row) => row[0]).join(",")}}`;
    for (const table of ["time_entries", "invoices", "projects", "customers", "organization_members"]) {
      await run({ query: `delete from ${table} where organization_id = any($1::uuid[])`, params: [ids] });
    }
    await run({ query: "delete from organizations where id = any($1::uuid[])", params: [ids] });
  }
  const started = Date.now();
  const onServer = Boolean(process.env.DATABASE_URL?.trim());
  const organizations = await seed(run, SIZE, {
    label: LABEL,
    progress: progressBar("Seeding time entries", started),
    // A server inserts chunks on all its cores; embedded PGlite has one connection, a superuser one.
    concurrency: onServer ? availableParallelism() : 1,
    withoutTriggers: !onServer,
  });
  return { organizations, seconds: (Date.now() - started) / 1000 };
}

/** Who is who in existing bench organizations (as `seed` returns it). */
async function describe(run: Run, ids: string[]): Promise<SeededOrganization[]> {
  const members = await run({
    query: `select organization_id, user_id, role from organization_members where organization_id = any($1::uuid[]) order by user_id`,
    params: [`{${ids.join(",")}}`],
  });
  const projects = await run({
    query: "select organization_id, id from projects where organization_id = any($1::uuid[]) order by id",
    params: [`{${ids.join(",")}}`],
  });
  return ids.map((id) => {
    const people = members.rows.filter((row) => row[0] === id);
    const ofRole = (role: string) => people.filter((row) => row[2] === role).map((row) => row[1] as string);
    return {
      id,
      ownerId: ofRole("owner")[0] as string,
      memberId: ofRole("member")[0] as string,
      otherMemberId: ofRole("member")[1] as string,
      projectIds: projects.rows.filter((row) => row[0] === id).map((row) => row[1] as string),
    };
  });
}

/**
 * The production bundle (`npm run build`, as `wrangler deploy` would upload it) served by workerd itself, the
 * runtime `wrangler dev` bundles, with wrangler.toml's compatibility settings and vars. Not `wrangler dev`: its
 * local proxy (a proxy Worker in a second workerd, the inspector, request logging) costs more per request than
 * most of the database work measured here, and production has none of it. No rate limiter binding: its 600
 * requests/minute per organization would turn a load test into a test of 429s.
 */
async function startWorker(port: number, relayPort: number, sqlHttpEndpoint: string): Promise<ChildProcess> {
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
    SESSION_JWT_SECRET: SECRET,
  };
  const text = (value: string) => JSON.stringify(value);
  const config = join(root, "dist", "bench-workerd.capnp");
  writeFileSync(
    config,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
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
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return worker;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("workerd did not answer within a minute");
}

async function main() {
  const loadAtStart = loadavg()[0] ?? 0;
  const backend = await openBackend();
  const endpoint = await startSqlHttpEndpoint(backend);
  await migrate(LOCAL_DRIVER_URL, endpoint.url);
  const run: Run = (query) => backend.query(query);
  const { organizations, seconds: seedSeconds } = await seeded(run);
  const [org] = organizations as [SeededOrganization];

  // Every statement the endpoint runs while `captured` is set is recorded: the floor replays them.
  let captured: Query[] | undefined;
  const query = backend.query.bind(backend);
  backend.query = (q) => {
    captured?.push(q);
    return query(q);
  };

  const [port, relayPort] = [await freePort(), await freePort()];
  const worker = await startWorker(port, relayPort, endpoint.url);
  const base = `http://127.0.0.1:${port}`;
  const owner = await signSessionToken(SECRET, { userId: org.ownerId, organizationId: org.id }, "2h");
  const headers = { Authorization: `Bearer ${owner}`, "Content-Type": "application/json" };
  const neonHeaders = { "Content-Type": "application/json", "Neon-Array-Mode": "true", "Neon-Raw-Text-Output": "true" };

  const rows: Row[] = [];
  const runtime: Record<number, Stats> = {};
  try {
    for (const connections of PASSES) {
      // The local runtime's own cost per request: GET /healthz, no token, no SQL.
      runtime[connections] = summarize([
        await measure({ url: `${base}/healthz`, method: "GET", headers: {}, connections, duration: DURATION }),
      ]);
      for (const scenario of await scenarios({ run, org })) {
        const { pool } = scenario;
        const at = (id: string) => scenario.path.replace("{id}", id);
        // Stragglers of the previous measurement must not be taken for the probe's SQL.
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        // One request through the API tells which SQL the floor must send.
        captured = [];
        const probe = await fetch(`${base}${pool ? at(pool.probe) : scenario.path}`, {
          method: scenario.method,
          headers,
          body: scenario.body,
        });
        const statements = captured;
        captured = undefined;
        if (probe.status >= 300 || statements.length !== 1) {
          throw new Error(
            `${scenario.name}: ${probe.status} with ${statements.length} statements: ${await probe.text()}`,
          );
        }
        const statement = statements[0] as Query;
        // The floor and the relay: the same statement, with the row of each request in place of the probe's.
        const withId = (id: string) =>
          JSON.stringify({ query: statement.query, params: statement.params.map((p) => (p === pool?.probe ? id : p)) });
        const sql = { method: "POST", headers: neonHeaders, body: JSON.stringify(statement) } as const;
        const targets = {
          api: (rows?: string[]) => ({
            url: `${base}${pool ? at(pool.probe) : scenario.path}`,
            method: scenario.method,
            headers,
            body: scenario.body,
            each: rows && { paths: rows.map(at) },
          }),
          floor: (rows?: string[]) => ({ ...sql, url: endpoint.url, each: rows && { bodies: rows.map(withId) } }),
          // Through a Worker that only passes the request on (bench/relay-worker.js).
          relay: (rows?: string[]) => ({
            ...sql,
            url: `http://127.0.0.1:${relayPort}/sql`,
            each: rows && { bodies: rows.map(withId) },
          }),
        };
        // Interleaved in short rounds, the order turning each round, so that drift in what else the machine does
        // falls on all three alike instead of on whichever ran during a noisy stretch.
        const kinds = ["api", "floor", "relay"] as const;
        const samples = { api: [] as Sample[], floor: [] as Sample[], relay: [] as Sample[] };
        for (let round = 0; round < ROUNDS; round++) {
          for (const [i] of kinds.entries()) {
            const kind = kinds[(i + round) % kinds.length] as (typeof kinds)[number];
            const rows = pool?.[kind].filter((_, n) => n % ROUNDS === round);
            samples[kind].push(
              await measure({
                ...targets[kind](rows),
                connections,
                ...(rows ? { amount: rows.length } : { duration: DURATION / ROUNDS }),
              }),
            );
          }
        }
        const [api, floor, relay] = kinds.map((kind) => summarize(samples[kind])) as [Stats, Stats, Stats];
        rows.push({ name: scenario.name, connections, api, floor, relay });
        console.log(
          `${connections} × ${scenario.name.padEnd(30)} p50 API ${api.p50.toFixed(2)} ms, floor ${floor.p50.toFixed(2)} ms, relay ${relay.p50.toFixed(2)} ms; API / floor ${(api.p50 / floor.p50).toFixed(2)}, API / relay ${(api.p50 / relay.p50).toFixed(2)}; errors ${api.errors}/${floor.errors}/${relay.errors}`,
        );
      }
    }
  } finally {
    worker.kill("SIGTERM");
    await endpoint.close();
    await removePools(run, org);
  }
  const markdown = await report({
    rows,
    backend: backend.kind,
    run,
    size: SIZE,
    seedSeconds,
    runtime,
    loadAtStart,
    duration: DURATION,
    rounds: ROUNDS,
  });
  await backend.close();
  const results = join(root, "bench", "RESULTS.md");
  writeFileSync(results, markdown);
  // Aligned the way `npm run lint` wants it.
  execFileSync(join(root, "node_modules", ".bin", "biome"), ["format", "--write", results], {
    cwd: root,
    stdio: "ignore",
  });
  console.log(`\n${markdown}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
