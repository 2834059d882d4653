// `npx tsx bench/warm.ts` (after `npm run bench` has seeded its database; DATABASE_URL as for the bench): API − relay
// with the database's wait taken out. At 0 ms and one connection the Worker still idles while Postgres works
// (1–5 ms a request here), and on this machine the same work costs more after such a pause (bench/cold-work.ts), the
// API's code more than the relay's. Here every SQL request is answered by the database once and then from memory
// (the same bytes), so the Worker idles only while the load generator and this process turn a request around; the
// API, the relay and the floor (the answer from memory alone) are measured as `npm run bench` measures them
// (bench/interleaved.ts), in the same production bundle on workerd. It prints a table; bench/RESULTS.md ("API − relay
// with the database's wait taken out") holds its runs.
import { createServer } from "node:http";
import type { Query } from "../dev/sql-backends";
import { startSqlHttpEndpoint } from "../dev/sql-http-endpoint";
import { signSessionToken } from "../dev/tokens";
import { openBenchBackend, seededBenchOrganization } from "./database";
import { measureInterleaved, statementRecorder } from "./interleaved";
import { removePools, scenarios } from "./scenarios";
import { idleCpuRate, startWorker } from "./workerd";

const SECRET = "bench-warm-secret-that-is-at-least-32-bytes";
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const ONLY = new RegExp(process.env.BENCH_ONLY ?? "");
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 1);
/** `BENCH_REVERSE=1` measures the operations last to first, to see whether a position in the run costs anything. */
const REVERSE = process.env.BENCH_REVERSE === "1";
/** Requests of each GET operation sent through the API before any is measured. */
const WARM_UP = Number(process.env.BENCH_WARM_UP ?? 1_000);
/** Rows or keys per kind for the writes that take a fresh one per request; their answers are canned too. */
const POOL = 2_000;

const backend = await openBenchBackend(4);
const run = (query: Query) => backend.query(query);
const org = await seededBenchOrganization(run);
const database = await startSqlHttpEndpoint(backend);

/**
 * The canned endpoint: each answer's bytes kept, not its rows, since the endpoint would serialize rows again on
 * every request (Node.js 22 escapes text full of quotes at about 140 MB/s: half a millisecond for a list of 100),
 * time the Worker would spend idle. A write that takes a fresh row or key per request sends a statement that
 * differs only by that value, so the values of the operation's pool are read as its probe's: every request gets
 * the probe's answer.
 */
let sameAs: { values: Set<string>; probe: string } | undefined;
const canned = new Map<string, { status: number; type: string; body: Buffer }>();
const { record, capture } = statementRecorder();
let requests = 0;
const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString();
  requests++;
  record(JSON.parse(body) as Query);
  const same = sameAs;
  const key = same
    ? body.replace(/[0-9a-f-]{36}/g, (uuid: string) => (same.values.has(uuid) ? same.probe : uuid))
    : body;
  let answer = canned.get(key);
  if (!answer) {
    const headers = Object.entries(req.headers).filter(([name]) => name.startsWith("neon-") || name === "content-type");
    const response = await fetch(database.url, { method: "POST", headers: headers as [string, string][], body: key });
    answer = {
      status: response.status,
      type: response.headers.get("content-type") ?? "application/json",
      body: Buffer.from(await response.arrayBuffer()),
    };
    canned.set(key, answer);
  }
  res.writeHead(answer.status, { "content-type": answer.type, "content-length": answer.body.length });
  res.end(answer.body);
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const endpoint = {
  url: `http://127.0.0.1:${(server.address() as { port: number }).port}/sql`,
  get requests() {
    return requests;
  },
  latencyMs: 0,
  close: async () => {},
};

const { worker, port, relayPort } = await startWorker({ sqlHttpEndpoint: endpoint.url, sessionSecret: SECRET });
const owner = await signSessionToken(SECRET, { userId: org.ownerId, organizationId: org.id }, "2h");
const headers = { Authorization: `Bearer ${owner}`, "Content-Type": "application/json" };

console.log(
  "| Operation | API p50 ms | Relay p50 ms | Floor (canned) p50 ms | p50 API − relay ms | Worker CPU / request ms (API / relay) | Errors |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
try {
  const chosen = (await scenarios({ run, org, poolSize: POOL })).filter((s) => ONLY.test(s.name));
  // A Worker in production has served many requests before this one: its JIT has compiled what every request
  // runs. Without this the first operation measured would pay for that compilation.
  for (const { method, path } of chosen.filter((s) => s.method === "GET")) {
    for (let i = 0; i < WARM_UP; i++)
      await (await fetch(`http://127.0.0.1:${port}${path}`, { method, headers })).arrayBuffer();
  }
  const idle = await idleCpuRate(worker.pid);
  for (const scenario of REVERSE ? [...chosen].reverse() : chosen) {
    const { pool } = scenario;
    sameAs = pool && { values: new Set([...pool.api, ...pool.floor, ...pool.relay]), probe: pool.probe };
    const measured = await measureInterleaved(scenario, {
      base: `http://127.0.0.1:${port}`,
      relayUrl: `http://127.0.0.1:${relayPort}/sql`,
      endpoint,
      headers,
      workerPid: worker.pid,
      idleCpuRate: idle,
      connections: CONNECTIONS,
      duration: DURATION,
      rounds: ROUNDS,
      capture,
    });
    const { api, relay, floor, cpu } = measured;
    const ms = (value: number | undefined) => value?.toFixed(2) ?? "?";
    console.log(
      `| ${scenario.name} | ${ms(api.p50)} | ${ms(relay.p50)} | ${ms(floor.p50)} | ${ms(api.p50 - relay.p50)} | ${ms(cpu.api)} / ${ms(cpu.relay)} | ${api.errors} / ${floor.errors} / ${relay.errors} |`,
    );
  }
} finally {
  worker.kill("SIGTERM");
  server.close();
  await removePools(run, org);
  await database.close();
  await backend.close();
}
