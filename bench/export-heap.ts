// `npx tsx bench/export-heap.ts` (after `npm run bench` has seeded its database; DATABASE_URL as for the bench):
// whether the export's memory is flat, asked of V8 itself rather than read from workerd's resident memory, which
// grows as the heap's collector pleases. Each download runs in a fresh workerd whose heap for old objects is capped
// (`--max-old-space-size`): the export of 100,000 entries that `npm run bench` downloads beside the export of the
// organization's every entry (BENCH_HEAP_MB, default 10 and 12 MB): a streamed export needs the same heap whatever
// its size, one that held its pages would run out. Then the worst text a page can hold (BENCH_HEAP_LONG_MB, default
// 24, 32 and 48 MB): an organization made on the first run and kept, whose 5,040 entries each describe
// themselves in 3,000 characters, 2,999 of them control characters (six bytes each in JSON, escaped again in the SQL
// answer) and a euro sign (which makes every string holding it two bytes a character). bench/RESULTS.md ("The
// export's memory under a capped heap") holds its runs.
import { randomUUID } from "node:crypto";
import type { Query } from "../dev/sql-backends";
import { startSqlHttpEndpoint } from "../dev/sql-http-endpoint";
import { signSessionToken } from "../dev/tokens";
import { openBenchBackend, seededBenchOrganization } from "./database";
import { rangeOf } from "./export";
import { residentBytes, startWorker } from "./workerd";

const SECRET = "bench-heap-secret-that-is-at-least-32-bytes";
const capsOf = (value: string) => value.split(",").map(Number);

type Download = { name: string; query: string };
type Case = { capsMb: number[]; token: string; downloads: Download[] };

const backend = await openBenchBackend(8);
const run = (query: Query) => backend.query(query);
const endpoint = await startSqlHttpEndpoint(backend);

async function seededCase(): Promise<Case> {
  const org = await seededBenchOrganization(run);
  const { range, entries } = await rangeOf(run, org);
  return {
    capsMb: capsOf(process.env.BENCH_HEAP_MB ?? "10,12"),
    token: await signSessionToken(SECRET, { userId: org.ownerId, organizationId: org.id }, "2h"),
    downloads: [
      {
        name: `NDJSON, ${entries.toLocaleString("en")} entries (the bench's)`,
        query: `format=json&start_date=${range.start}&end_date=${range.end}`,
      },
      { name: "NDJSON, every entry", query: "format=json" },
      { name: "CSV, every entry", query: "format=csv" },
    ],
  };
}

const LONG_TEXT_ORGANIZATION = "Bench heap organization, long text";

/**
 * An organization whose entries hold the most text a description may: made on the first run and kept beside the
 * bench's own (an organization's last owner cannot be removed, and the bench's never are either).
 */
async function longTextCase(): Promise<Case> {
  const existing = await run({
    query: `select o.id, m.user_id from organizations o join organization_members m on m.organization_id = o.id
      where o.name = $1 and m.role = 'owner' limit 1`,
    params: [LONG_TEXT_ORGANIZATION],
  });
  let [organizationId, userId] = (existing.rows[0] ?? []) as string[];
  if (!organizationId || !userId) {
    [organizationId, userId] = [randomUUID(), randomUUID()];
    await backend.transaction([
      {
        query: "insert into organizations (id, name) values ($1, $2)",
        params: [organizationId, LONG_TEXT_ORGANIZATION],
      },
      {
        query: "insert into users (id, email) values ($1, $2)",
        params: [userId, `heap-${userId}@bench.example`],
      },
      {
        query:
          "insert into organization_members (organization_id, user_id, role, full_name) values ($1, $2, 'owner', repeat('€', 200))",
        params: [organizationId, userId],
      },
      {
        query: `insert into time_entries (organization_id, user_id, start_time, end_time, description)
          select $1, $2, timestamptz '2026-01-01' + g * interval '10 minutes',
            timestamptz '2026-01-01' + g * interval '10 minutes' + interval '5 minutes', repeat(E'\\x01', 2999) || '€'
          from generate_series(0, 5039) g`,
        params: [organizationId, userId],
      },
    ]);
  }
  return {
    capsMb: capsOf(process.env.BENCH_HEAP_LONG_MB ?? "24,32,48"),
    token: await signSessionToken(SECRET, { userId, organizationId }, "2h"),
    downloads: [
      { name: "NDJSON, 5,040 entries of 3,000 characters", query: "format=json" },
      { name: "CSV, 5,040 entries of 3,000 characters", query: "format=csv" },
    ],
  };
}

/** One download in a fresh workerd with `capMb` of old space: how it ended, and what it took. */
async function download(capMb: number, token: string, { name, query }: Download) {
  const { worker, port } = await startWorker({
    sqlHttpEndpoint: endpoint.url,
    sessionSecret: SECRET,
    v8Flags: [`--max-old-space-size=${capMb}`],
  });
  let peak = 0;
  const watch = setInterval(() => {
    peak = Math.max(peak, residentBytes(worker.pid) ?? 0);
  }, 10);
  const started = performance.now();
  let [bytes, lines, status] = [0, 0, ""];
  try {
    const response = await fetch(`http://127.0.0.1:${port}/v1/time-entries/export?${query}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    status = String(response.status);
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const byte of chunk) if (byte === 10) lines++;
    }
    status += " complete";
  } catch (error) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    status = worker.exitCode === null ? `failed: ${String(error)}` : "workerd ran out of heap";
  }
  clearInterval(watch);
  worker.kill();
  const mib = (value: number) => (value / 2 ** 20).toFixed(1);
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  console.log(
    `| ${capMb} MB | ${name} | ${status} | ${lines.toLocaleString("en")} | ${mib(bytes)} | ${seconds} | ${mib(peak)} |`,
  );
}

console.log("| V8 old space | Export | Status | Lines | MiB | Seconds | workerd peak RSS MiB |");
console.log("| ---: | --- | --- | ---: | ---: | ---: | ---: |");
const seeded = await seededCase();
for (const capMb of seeded.capsMb) {
  for (const each of seeded.downloads) await download(capMb, seeded.token, each);
}
const longText = await longTextCase();
for (const capMb of longText.capsMb) {
  for (const each of longText.downloads) await download(capMb, longText.token, each);
}
await endpoint.close();
await backend.close();
