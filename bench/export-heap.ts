// `npx tsx bench/export-heap.ts` (after `npm run bench` has seeded its database; DATABASE_URL as for the bench):
// whether the export's memory is flat, asked of V8 itself rather than read from workerd's resident memory, which
// grows as the heap's collector pleases. Each download runs in a fresh workerd whose heap for old objects is capped
// (`--max-old-space-size`, BENCH_HEAP_MB, default 10 and 12 MB), the export of 100,000 entries that `npm run bench`
// downloads beside the export of the organization's every entry: a streamed export needs the same heap whatever
// its size, one that held its pages would run out. bench/RESULTS.md ("The export's memory under a capped heap")
// holds its runs.
import type { Query } from "../dev/sql-backends";
import { startSqlHttpEndpoint } from "../dev/sql-http-endpoint";
import { signSessionToken } from "../dev/tokens";
import { openBenchBackend, seededBenchOrganization } from "./database";
import { rangeOf } from "./export";
import { residentBytes, startWorker } from "./workerd";

const SECRET = "bench-heap-secret-that-is-at-least-32-bytes";
const CAPS_MB = (process.env.BENCH_HEAP_MB ?? "10,12").split(",").map(Number);

const backend = await openBenchBackend(8);
const run = (query: Query) => backend.query(query);
const org = await seededBenchOrganization(run);
const { range, entries } = await rangeOf(run, org);
const endpoint = await startSqlHttpEndpoint(backend);
const token = await signSessionToken(SECRET, { userId: org.ownerId, organizationId: org.id }, "2h");
const downloads = [
  {
    name: `NDJSON, ${entries.toLocaleString("en")} entries (the bench's)`,
    query: `format=json&start_date=${range.start}&end_date=${range.end}`,
  },
  { name: "NDJSON, every entry", query: "format=json" },
  { name: "CSV, every entry", query: "format=csv" },
];

console.log("| V8 old space | Export | Status | Lines | MiB | Seconds | workerd peak RSS MiB |");
console.log("| ---: | --- | --- | ---: | ---: | ---: | ---: |");
for (const capMb of CAPS_MB) {
  for (const download of downloads) {
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
      const response = await fetch(`http://127.0.0.1:${port}/v1/time-entries/export?${download.query}`, {
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
    const seconds = (performance.now() - started) / 1000;
    const mib = (value: number) => (value / 2 ** 20).toFixed(1);
    console.log(
      `| ${capMb} MB | ${download.name} | ${status} | ${lines.toLocaleString("en")} | ${mib(bytes)} | ${seconds.toFixed(2)} | ${mib(peak)} |`,
    );
  }
}
await endpoint.close();
await backend.close();
