// bench/RESULTS.md: the tables, and what they were measured on.
import { readFileSync } from "node:fs";
import { cpus, freemem, loadavg, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import type { ColdWork } from "./cold-work";
import type { ExportCpu, ExportResult, ExportRun } from "./export";
import type { Measured } from "./interleaved";
import type { Stats } from "./load";
import type { Run, SeedSize } from "./seed";

export type Row = Measured & { name: string; connections: number; latencyMs: number };
export type RuntimeRow = { latencyMs: number; connections: number; stats: Stats };

const version = (pkg: string) => {
  const path = fileURLToPath(new URL(`../node_modules/${pkg}/package.json`, import.meta.url));
  return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
};

const osName = () => {
  try {
    return /PRETTY_NAME="([^"]+)"/.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? process.platform;
  } catch {
    return process.platform;
  }
};

/** Below this line RESULTS.md holds what was measured apart (by hand, with the bench's tools); a new run keeps it. */
export const KEPT_MARKER = "<!-- Measured apart: npm run bench keeps everything below this line. -->";

/** What an earlier RESULTS.md holds below KEPT_MARKER, marker included; empty when none. */
export function keptPart(previous: string | undefined) {
  const at = previous?.indexOf(KEPT_MARKER) ?? -1;
  return previous && at >= 0 ? previous.slice(at) : "";
}

const ms = (value: number) => value.toFixed(2);
const ratio = (value: number, base: number) => (value / base).toFixed(3);
const optional = (value: number | undefined) => (value === undefined ? "–" : value.toFixed(2));
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

function table(rows: Row[], runtime: RuntimeRow | undefined) {
  return [
    "| Operation | API p50 ms | Floor p50 ms | Relay p50 ms | p50 API / floor | p50 API − relay ms | SQL requests / request | Worker CPU / request ms (API / relay) | API p99 ms | API req/s | Errors (API / floor / relay) |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...(runtime
      ? [
          `| GET /healthz (no token, no SQL: the runtime's own cost) | ${ms(runtime.stats.p50)} | | | | | 0 | | ${ms(runtime.stats.p99)} | ${runtime.stats.rps.toFixed(0)} | ${runtime.stats.errors} |`,
        ]
      : []),
    ...rows.map(
      ({ name, api, floor, relay, sqlPerRequest, cpu }) =>
        `| ${name} | ${ms(api.p50)} | ${ms(floor.p50)} | ${ms(relay.p50)} | ${ratio(api.p50, floor.p50)} | ${ms(api.p50 - relay.p50)} | ${sqlPerRequest.toFixed(2)} | ${optional(cpu.api)} / ${optional(cpu.relay)} | ${ms(api.p99)} | ${api.rps.toFixed(0)} | ${api.errors} / ${floor.errors} / ${relay.errors} |`,
    ),
    "",
  ];
}

const mib = (bytes: number | undefined) => (bytes === undefined ? "–" : (bytes / 2 ** 20).toFixed(1));

/** The CPU account of the median download of `runs`. */
const medianCpu = (runs: ExportRun[]) => [...runs].sort((a, b) => a.seconds - b.seconds)[(runs.length - 1) >> 1]?.cpu;

/** The machine's busy share of its cores during a download, in percent. */
const busyPercent = (cpu: ExportCpu) => `${((100 * cpu.busy) / cpu.available).toFixed(0)}%`;

/** One line per export measurement, for the console. */
export function exportSummary(result: ExportResult) {
  const line = (format: string, runs: ExportRun[]) => {
    const seconds = median(runs.map((run) => run.seconds));
    const cpu = medianCpu(runs);
    const busy = cpu
      ? `, CPU ${busyPercent(cpu)} busy: ${cpu.rest.toFixed(2)} s Postgres & rest, ${cpu.workerd.toFixed(2)} s workerd, ${cpu.benchProcess.toFixed(2)} s endpoint & client`
      : "";
    return `${format} ${seconds.toFixed(3)} s (${Math.round(result.entries / seconds).toLocaleString("en")} entries/s, peak RSS growth ${mib(Math.max(...runs.map((run) => run.peakRssGrowth ?? 0)))} MiB${busy})`;
  };
  const copy = result.copy.length > 0 ? `COPY ${median(result.copy).toFixed(3)} s` : result.copyNote;
  return `${result.latencyMs} ms, export of ${result.entries.toLocaleString("en")} entries: ${line("CSV", result.csv)}, ${line("NDJSON", result.json)}; ${copy}`;
}

function exportTable(exports: ExportResult[]) {
  if (exports.length === 0) return [];
  const rows = exports.flatMap((result) =>
    (["csv", "json"] as const).map((format) => {
      const runs = result[format];
      const seconds = median(runs.map((run) => run.seconds));
      const copy = result.copy.length > 0 ? median(result.copy) : undefined;
      const [run] = runs;
      const pages = result.pages[format];
      const pagesSeconds = pages.seconds.length > 0 ? median(pages.seconds) : undefined;
      const cpu = medianCpu(runs);
      const cpuColumns = cpu
        ? `${busyPercent(cpu)} | ${cpu.rest.toFixed(2)} / ${cpu.workerd.toFixed(2)} / ${cpu.benchProcess.toFixed(2)}`
        : "– | –";
      return `| ${result.latencyMs} ms | ${format === "csv" ? "CSV" : "NDJSON"} | ${result.entries.toLocaleString("en")} | ${(run?.lines ?? 0).toLocaleString("en")} | ${mib(run?.bytes)} | ${seconds.toFixed(3)} | ${Math.round(result.entries / seconds).toLocaleString("en")} | ${pages.count} | ${pagesSeconds === undefined ? "–" : pagesSeconds.toFixed(3)} | ${pagesSeconds === undefined ? "–" : (seconds / pagesSeconds).toFixed(2)} | ${copy === undefined ? (result.copyNote ?? "–") : copy.toFixed(3)} | ${copy === undefined ? "–" : (seconds / copy).toFixed(2)} | ${copy === undefined || pagesSeconds === undefined ? "–" : (pagesSeconds / copy).toFixed(2)} | ${mib(Math.max(...runs.map((r) => r.peakRssGrowth ?? 0)))} | ${cpuColumns} |`;
    }),
  );
  const [first] = exports;
  return [
    "## Export of 100,000 entries",
    "",
    `The largest organization's entries from ${first?.range.start} to ${first?.range.end} (\`GET /v1/time-entries/export\` with that date range), downloaded whole through the Worker, ${first?.csv.length} times per format and distance (median shown), interleaved with the floor: Postgres' own \`COPY (the same rows and columns, joined and ordered as the export) TO STDOUT WITH (FORMAT csv)\`, timed by psql's \`\\timing\` with its output to /dev/null. Pages in sequence: the export's own SQL requests (captured from its first download, one per page), sent again one after the other straight to the endpoint without the Worker: what the pages cost the database and the local endpoint (which, like Neon's proxy, turns each answer into JSON), the least any Worker reading them in order could take. Peak RSS growth: workerd's resident memory sampled every 10 ms during a download, highest minus before (the most of any run). CPU busy: the machine's CPU time over all its cores during the median download, as a share of what the cores had (time the hypervisor gave to other machines counts as busy); CPU seconds: of that time, the rest (Postgres, mostly) / workerd / the bench's own process (the SQL endpoint and the downloading client).`,
    "",
    "| Distance | Format | Entries | Lines | MiB | Seconds (p50) | Entries/s | Pages | Pages in sequence s (p50) | Export / pages | COPY seconds (p50) | Export / COPY | Pages / COPY | Peak RSS growth MiB | CPU busy | CPU s: Postgres & rest / workerd / endpoint & client |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
  ];
}

/** The Setup line for what a pause costs the next piece of work on this machine. */
function coldWorkLine({ backToBackMs, afterPauseMs }: ColdWork) {
  const pauses = Object.entries(afterPauseMs).map(
    ([ms, after]) => `${after.toFixed(3)} ms after ${ms} ms idle (${(after / backToBackMs).toFixed(1)}×)`,
  );
  return `- Pauses: a fixed piece of CPU work in Node.js (a 30 KB SQL answer parsed, its text spliced into a body, the body encoded; no HTTP, no Worker, no database) took ${backToBackMs.toFixed(3)} ms back to back${pauses.length > 0 ? ` and ${pauses.join(", ")}` : ""}, measured before the passes: on this virtual machine the same work takes longer after a pause (caches gone cold, the host's scheduling of its cores), which every process here pays at a distance.`;
}

export async function report(options: {
  rows: Row[];
  exports: ExportResult[];
  backend: string;
  run: Run;
  size: SeedSize;
  seedSeconds?: number;
  /** GET /healthz through the Worker, per distance and number of connections. */
  runtime: RuntimeRow[];
  duration: number;
  rounds: number;
  /** The machine's load average (1 min) when the bench started: other work on the machine skews the numbers. */
  loadAtStart: number;
  /** A fixed piece of CPU work back to back and after each distance's pause. */
  coldWork: ColdWork;
  /** What the previous RESULTS.md kept below KEPT_MARKER. */
  kept: string;
}) {
  const { rows, size } = options;
  const [server] = (await options.run({ query: "select version()", params: [] })).rows;
  const cpu = cpus();
  const passes = [...new Map(rows.map((row) => [`${row.latencyMs}/${row.connections}`, row])).values()];
  const lines = [
    "# Benchmark results",
    "",
    `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Regenerate with \`npm run bench\` (see bench/run.ts); nothing here is part of \`npm test\`.`,
    "",
    "## Setup",
    "",
    `- Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory (${(freemem() / 2 ** 30).toFixed(0)} GiB free at the end), ${osName()}, Linux ${release()}; load average ${options.loadAtStart.toFixed(2)} when the bench started, ${loadavg()[0]?.toFixed(2)} at the end.`,
    coldWorkLine(options.coldWork),
    `- Database: ${options.backend === "postgres" ? String(server?.[0]).split(" on ")[0] : `PGlite ${version("@electric-sql/pglite")} (${String(server?.[0]).split(" on ")[0]})`}, through the local SQL-over-HTTP endpoint (\`dev/sql-http-endpoint.ts\`, Node.js, ${options.backend === "postgres" ? "node-postgres pool of 20" : "one embedded connection"}).`,
    `- Data: ${size.entries.toLocaleString("en")} time entries over ${size.users} users, ${size.projects} projects and ${size.organizations} organizations${options.seedSeconds ? `, seeded in ${options.seedSeconds.toFixed(1)} s` : ""}. The caller is the owner of the first organization (about a third of the entries).`,
    `- Worker: the production bundle (\`npm run build\`: wrangler ${version("wrangler")}, minified) served by workerd ${version("workerd")} (the runtime wrangler bundles) with wrangler.toml's compatibility date, flags and vars, minus the rate limiter; not \`wrangler dev\`, whose local proxy adds more per request than most of the database work here. Node.js ${process.version}; autocannon ${version("autocannon")}.`,
    `- Distance: the endpoint waits the given milliseconds (\`SQL_HTTP_LATENCY_MS\`) before each answer, standing for the network between an edge location and the database's region; floor and relay pay the same.`,
    `- Load: autocannon, about ${options.duration} s per measurement, taken in ${options.rounds} rounds interleaved with the other two measurements of the operation, the order turning each round; each round a fixed number of requests (as many as fill ${options.duration / options.rounds} s at the API's pace, from three warm-up requests; patch, delete and the idempotent create: one request per pooled row or fresh key), so that no request is cut off; req/s is connections ÷ mean latency; everything on this one machine, so the load generator, workerd, the endpoint and Postgres share its cores.`,
    "- Floor: the SQL statement the API sent for the same request (captured at the endpoint), posted straight to the endpoint's `POST /sql` with the same parameters: the database work, the endpoint and the distance, without the Worker.",
    "- SQL requests / request: requests the endpoint served during the API rounds ÷ API responses.",
    "- Worker CPU / request: workerd's CPU time (user + system, /proc/<pid>/stat) over the API rounds (or the relay's), minus its idle use over as long (measured before each pass), ÷ responses. It is the whole runtime's time, HTTP parsing included, not only the JavaScript.",
    "- Latencies: each successful response's own time in fractional milliseconds, from autocannon's `response` events.",
    "",
    "## Reading the numbers",
    "",
    "- **p50 API / floor** at a distance: what the Worker adds to a request that must cross the network once anyway (goal ≤ 1.05 at 25 ms, the export aside). Each request there finds the core idle for as long as the distance, and the same work costs more after a pause (Setup, Pauses): the Worker's CPU per request, the relay's too, grows from its 0 ms figure by about that ratio, so API − relay at 25 ms is API − relay at 0 ms times it, not a different cost of the API's code.",
    "- **p50 API − relay** at 0 ms: what the API's own code costs (token, validation, query building, the Neon driver, JSON) above a Worker that only passes the floor's request on (`bench/relay-worker.js`), i.e. above the runtime's two local HTTP hops (goal ≤ 0.5 ms).",
    "- Deep pages: page 5,000 (after 99,980 entries) must cost what page 1 costs; keyset pagination reads the same index range either way. A rare word in `q` must cost at most twice page 1 (the trigram index).",
    "- Everything runs on one small machine at once; other work on it (see the load average above) shows up as noise, most in the p99 and the 10-connection runs.",
    "",
    ...passes.flatMap(({ latencyMs, connections }) => [
      `## Results, ${latencyMs} ms to the database, ${connections} connection${connections === 1 ? "" : "s"}`,
      "",
      ...table(
        rows.filter((row) => row.latencyMs === latencyMs && row.connections === connections),
        options.runtime.find((r) => r.latencyMs === latencyMs && r.connections === connections),
      ),
    ]),
    ...exportTable(options.exports),
    ...(options.kept ? [options.kept] : []),
  ];
  return lines.join("\n");
}
