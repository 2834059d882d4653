// `npx tsx bench/in-process.ts` (after `npm run bench` has seeded its database; DATABASE_URL as for the bench):
// the API's own CPU per request with nothing else in the way. The app runs in this Node.js process (the
// source, not the bundle), its one SQL answer per operation fetched once from the database and then handed back
// by a stubbed `fetch`: no HTTP, no workerd, no database. Each operation is timed back to back and after a pause of
// each distance, since at a distance the Worker waits for the network between requests and on this machine the
// same work then costs more CPU (bench/cold-work.ts).
import { LOCAL_DRIVER_URL } from "../dev/database";
import { startSqlHttpEndpoint } from "../dev/sql-http-endpoint";
import { signSessionToken } from "../dev/tokens";
import app from "../src/app";
import { openBenchBackend } from "./database";

const PAUSES_MS = (process.env.BENCH_LATENCIES ?? "0,25").split(",").map(Number);
const REQUESTS_BACK_TO_BACK = 3_000;
const REQUESTS_AFTER_PAUSE = 200;
const ROUNDS = 3;
const SECRET = "bench-in-process-secret-that-is-at-least-32-bytes";

const backend = await openBenchBackend(2);
const [caller] = (
  await backend.query({
    query: `select o.id, m.user_id,
        (select t.id from time_entries t where t.organization_id = o.id order by t.start_time desc, t.id desc limit 1)
      from organizations o join organization_members m on m.organization_id = o.id and m.role = 'owner'
      where o.name like 'Bench organization %' order by o.name limit 1`,
    params: [],
  })
).rows as [string, string, string][];
if (!caller) throw new Error("No bench organization: run `npm run bench` first to seed its database");
const [organizationId, userId, entryId] = caller;
const endpoint = await startSqlHttpEndpoint(backend);
const token = await signSessionToken(SECRET, { userId, organizationId }, "2h");
const env = { DATABASE_URL: LOCAL_DRIVER_URL, SQL_HTTP_ENDPOINT: "http://sql.invalid/sql", SESSION_JWT_SECRET: SECRET };
const executionContext = { waitUntil() {}, passThroughOnException() {}, props: {} };

/** Every SQL request gets the answer the endpoint gave the operation's first one. */
let canned: { body: ArrayBuffer; status: number; headers: [string, string][] } | undefined;
const fetchFromEndpoint = globalThis.fetch;
globalThis.fetch = async (_input, init) => {
  if (!canned) {
    const response = await fetchFromEndpoint(endpoint.url, init);
    canned = { body: await response.arrayBuffer(), status: response.status, headers: [...response.headers] };
  }
  return new Response(canned.body.slice(0), { status: canned.status, headers: canned.headers });
};

const operations = [
  { name: "get", path: `/v1/time-entries/${entryId}` },
  { name: "page 1 (limit 20)", path: "/v1/time-entries?limit=20" },
  { name: "list (limit 100)", path: "/v1/time-entries?limit=100" },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cpuMicroseconds = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

async function cpuPerRequestMs(path: string, pauseMs: number, requests: number) {
  let busy = 0;
  for (let i = 0; i < requests; i++) {
    if (pauseMs > 0) await sleep(pauseMs);
    const started = cpuMicroseconds();
    const response = await app.request(path, { headers: { Authorization: `Bearer ${token}` } }, env, executionContext);
    await response.arrayBuffer();
    busy += cpuMicroseconds() - started;
    if (response.status !== 200) throw new Error(`${path}: ${response.status}`);
  }
  return busy / requests / 1000;
}

console.log(
  "| Operation | CPU / request back to back ms | " +
    PAUSES_MS.filter((ms) => ms > 0)
      .map((ms) => `after ${ms} ms idle ms`)
      .join(" | ") +
    " |",
);
for (const { name, path } of operations) {
  canned = undefined;
  await cpuPerRequestMs(path, 0, 2_000);
  const results = new Map<number, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const pauseMs of PAUSES_MS) {
      const requests = pauseMs > 0 ? REQUESTS_AFTER_PAUSE : REQUESTS_BACK_TO_BACK;
      results.set(pauseMs, [...(results.get(pauseMs) ?? []), await cpuPerRequestMs(path, pauseMs, requests)]);
    }
  }
  const range = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
  console.log(`| ${name} | ${[...results.values()].map(range).join(" | ")} |`);
}
await endpoint.close();
await backend.close();
