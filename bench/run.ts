// `npm run bench` (never part of the tests): seeds 1,000,000 time entries over
// 50 users, 40 projects and 3 organizations into DATABASE_URL (a Postgres
// server) or, when unset, embedded PGlite in .data/bench-pglite; runs the Worker's
// production bundle in workerd on it; drives each operation with autocannon, and the
// same SQL straight at the SQL-over-HTTP endpoint (the floor); prints the table
// and writes bench/RESULTS.md.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_DRIVER_URL } from "../dev/database";
import { migrate } from "../dev/migrate";
import { startSqlHttpEndpoint } from "../dev/sql-http-endpoint";
import { signSessionToken } from "../dev/tokens";
import { measureColdWork } from "./cold-work";
import { describeOrganizations, openBenchBackend } from "./database";
import { type ExportResult, measureExports } from "./export";
import { measureInterleaved, statementRecorder } from "./interleaved";
import { measure, progressBar, summarize } from "./load";
import { exportSummary, keptPart, type Row, type RuntimeRow, report } from "./report";
import { removePools, scenarios } from "./scenarios";
import { type Run, type SeededOrganization, seed } from "./seed";
import { idleCpuRate, startWorker } from "./workerd";

const root = fileURLToPath(new URL("..", import.meta.url));
const SIZE = { organizations: 3, users: 50, projects: 40, entries: Number(process.env.BENCH_ENTRIES ?? 1_000_000) };
const LABEL = "Bench";
const SECRET = "bench-session-secret-that-is-at-least-32-bytes";
/** Each pass runs every scenario at one concurrency: 1 connection for latency, 10 for throughput. */
const PASSES = (process.env.BENCH_CONNECTIONS ?? "1,10").split(",").map(Number);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
/** Each measurement is taken in this many rounds, interleaved with the other two of its operation. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/**
 * Every operation again at each network distance (ms added to every SQL request by the endpoint, standing for
 * the network between an edge location and the database); at a distance one connection, as the goal is latency.
 */
const LATENCIES = (process.env.BENCH_LATENCIES ?? "0,25").split(",").map(Number);
const DISTANT_PASSES = (process.env.BENCH_DISTANT_CONNECTIONS ?? "1").split(",").map(Number);
const POOL = Number(process.env.BENCH_POOL ?? 3_000);
/** Only the operations whose name matches (a regular expression), to measure some again. */
const ONLY = new RegExp(process.env.BENCH_ONLY ?? "");
/** Downloads of the 100,000-entry export per format and distance (0: none). */
const EXPORT_RUNS = Number(process.env.BENCH_EXPORT_RUNS ?? 5);

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
      organizations: await describeOrganizations(
        run,
        existing.rows.map((row) => row[0] as string),
      ),
    };
  }
  if (existing.rows.length > 0) {
    console.log("Removing an incomplete earlier bench seed");
    await run({
      query: "select delete_organizations($1::uuid[])",
      params: [`{${existing.rows.map((row) => row[0]).join(",")}}`],
    });
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

async function main() {
  const loadAtStart = loadavg()[0] ?? 0;
  const coldWork = await measureColdWork(LATENCIES);
  const backend = await openBenchBackend(20);
  const endpoint = await startSqlHttpEndpoint(backend);
  await migrate(LOCAL_DRIVER_URL, endpoint.url);
  const run: Run = (query) => backend.query(query);
  const { organizations, seconds: seedSeconds } = await seeded(run);
  const [org] = organizations as [SeededOrganization];

  // Every statement the endpoint runs is seen by the recorder: the floor and the relay send the probe's again.
  const { record, capture } = statementRecorder();
  const query = backend.query.bind(backend);
  backend.query = (q) => {
    record(q);
    return query(q);
  };

  const { worker, port, relayPort } = await startWorker({ sqlHttpEndpoint: endpoint.url, sessionSecret: SECRET });
  const base = `http://127.0.0.1:${port}`;
  const owner = await signSessionToken(SECRET, { userId: org.ownerId, organizationId: org.id }, "2h");
  const headers = { Authorization: `Bearer ${owner}`, "Content-Type": "application/json" };

  const rows: Row[] = [];
  const runtime: RuntimeRow[] = [];
  const exports: ExportResult[] = [];
  try {
    for (const latencyMs of LATENCIES) {
      endpoint.latencyMs = latencyMs;
      for (const connections of latencyMs > 0 ? DISTANT_PASSES : PASSES) {
        const idleCpu = await idleCpuRate(worker.pid);
        // The local runtime's own cost per request: GET /healthz, no token, no SQL.
        runtime.push({
          latencyMs,
          connections,
          stats: summarize([
            await measure({ url: `${base}/healthz`, method: "GET", headers: {}, connections, duration: DURATION }),
          ]),
        });
        // At a distance each request waits for the network: fewer fresh rows fill a measurement.
        const poolSize = latencyMs > 0 ? Math.ceil((DURATION * 1000) / latencyMs / connections) * connections : POOL;
        const chosen = (await scenarios({ run, org, poolSize: Math.min(POOL, poolSize) })).filter((scenario) =>
          ONLY.test(scenario.name),
        );
        for (const scenario of chosen) {
          const measured = await measureInterleaved(scenario, {
            base,
            relayUrl: `http://127.0.0.1:${relayPort}/sql`,
            endpoint,
            headers,
            workerPid: worker.pid,
            idleCpuRate: idleCpu,
            connections,
            duration: DURATION,
            rounds: ROUNDS,
            capture,
          });
          rows.push({ name: scenario.name, connections, latencyMs, ...measured });
          const { api, floor, relay, sqlPerRequest, cpu } = measured;
          console.log(
            `${latencyMs} ms, ${connections} × ${scenario.name.padEnd(36)} p50 API ${api.p50.toFixed(2)} ms, floor ${floor.p50.toFixed(2)} ms, relay ${relay.p50.toFixed(2)} ms; API / floor ${(api.p50 / floor.p50).toFixed(3)}, API − relay ${(api.p50 - relay.p50).toFixed(2)} ms; SQL/request ${sqlPerRequest.toFixed(2)}; CPU/request ${cpu.api?.toFixed(2) ?? "?"} ms (relay ${cpu.relay?.toFixed(2) ?? "?"}); errors ${api.errors}/${floor.errors}/${relay.errors}`,
          );
        }
      }
      if (EXPORT_RUNS > 0) {
        const result = await measureExports({
          run,
          org,
          base,
          headers,
          workerPid: worker.pid,
          databaseUrl: process.env.DATABASE_URL?.trim() || undefined,
          latencyMs,
          runs: EXPORT_RUNS,
          endpointUrl: endpoint.url,
          capture,
        });
        exports.push(result);
        console.log(exportSummary(result));
      }
    }
  } finally {
    worker.kill("SIGTERM");
    await endpoint.close();
    await removePools(run, org);
  }
  const results = join(root, "bench", "RESULTS.md");
  const markdown = await report({
    rows,
    exports,
    backend: backend.kind,
    run,
    size: SIZE,
    seedSeconds,
    runtime,
    loadAtStart,
    coldWork,
    duration: DURATION,
    rounds: ROUNDS,
    kept: keptPart(existsSync(results) ? readFileSync(results, "utf8") : undefined),
  });
  await backend.close();
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
