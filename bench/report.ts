// bench/RESULTS.md: the table, and what it was measured on.
import { readFileSync } from "node:fs";
import { cpus, freemem, loadavg, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import type { Stats } from "./load";
import type { Run, SeedSize } from "./seed";

export type Row = { name: string; connections: number; api: Stats; floor: Stats; relay: Stats };

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

const ms = (value: number) => value.toFixed(2);
const ratio = (value: number, base: number) => (value / base).toFixed(2);

export async function report(options: {
  rows: Row[];
  backend: string;
  run: Run;
  size: SeedSize;
  seedSeconds?: number;
  /** GET /healthz through the Worker, per number of connections. */
  runtime: Record<number, Stats>;
  duration: number;
  rounds: number;
  /** The machine's load average (1 min) when the bench started: other work on the machine skews the numbers. */
  loadAtStart: number;
}) {
  const { rows, size } = options;
  const [server] = (await options.run({ query: "select version()", params: [] })).rows;
  const cpu = cpus();
  const lines = [
    "# Benchmark results",
    "",
    `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Regenerate with \`npm run bench\` (see bench/run.ts); nothing here is part of \`npm test\`.`,
    "",
    "## Setup",
    "",
    `- Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory (${(freemem() / 2 ** 30).toFixed(0)} GiB free at the end), ${osName()}, Linux ${release()}; load average ${options.loadAtStart.toFixed(2)} when the bench started, ${loadavg()[0]?.toFixed(2)} at the end.`,
    `- Database: ${options.backend === "postgres" ? String(server?.[0]).split(" on ")[0] : `PGlite ${version("@electric-sql/pglite")} (${String(server?.[0]).split(" on ")[0]})`}, through the local SQL-over-HTTP endpoint (\`dev/sql-http-endpoint.ts\`, Node.js, ${options.backend === "postgres" ? "node-postgres pool of 20" : "one embedded connection"}).`,
    `- Data: ${size.entries.toLocaleString("en")} time entries over ${size.users} users, ${size.projects} projects and ${size.organizations} organizations${options.seedSeconds ? `, seeded in ${options.seedSeconds.toFixed(1)} s` : ""}. The caller is the owner of the first organization (about a third of the entries).`,
    `- Worker: the production bundle (\`npm run build\`: wrangler ${version("wrangler")}, minified) served by workerd ${version("workerd")} (the runtime wrangler bundles) with wrangler.toml's compatibility date, flags and vars, minus the rate limiter; not \`wrangler dev\`, whose local proxy adds more per request than most of the database work here. Node.js ${process.version}; autocannon ${version("autocannon")}.`,
    `- Load: autocannon with 1 connection (latency: one request at a time) and with 10 (throughput), ${options.duration} s per measurement, taken in ${options.rounds} rounds interleaved with the other two measurements of the operation, the order turning each round (patch and delete: one request per pooled row, a fresh row each time); req/s is connections ÷ mean latency; everything on this one machine, so the load generator, workerd, the endpoint and Postgres share its cores.`,
    "- Floor: the SQL statement the API sent for the same request (captured at the endpoint), posted straight to the endpoint's `POST /sql` with the same parameters: the database work and the endpoint, without the Worker.",
    "- Latencies: each successful response's own time in fractional milliseconds, from autocannon's `response` events (its summary percentiles are whole milliseconds, too coarse at this scale).",
    "",
    "## Reading the numbers",
    "",
    "- The figure that matters is **p50 API / floor**; the goal is below 1.5. The first row of each table is what the runtime costs with no work at all (an HTTP request into workerd and the router).",
    "- Relay: the floor's very request sent through a Worker that only passes it on to the endpoint and the answer back (`bench/relay-worker.js`, in the same workerd). **p50 relay / floor** is what the runtime's two local HTTP hops cost, a bound below which no Worker's API / floor can go on this machine; **p50 API / relay** is what the API's own code adds (token, validation, query building, the Neon driver, JSON).",
    "- Deep pages: page 5,000 (after 99,980 entries) must cost what page 1 costs; keyset pagination reads the same index range either way.",
    "- Everything runs on one small machine at once; other work on it (see the load average above) shows up as noise, most in the p99 and the 10-connection runs.",
    "",
    ...[...new Set(rows.map((row) => row.connections))].flatMap((connections) => [
      `## Results, ${connections} connection${connections === 1 ? "" : "s"}`,
      "",
      "| Operation | API req/s | API p50 ms | API p99 ms | Floor req/s | Floor p50 ms | Floor p99 ms | Relay p50 ms | Errors (API / floor / relay) | p50 API / floor | p50 relay / floor | p50 API / relay |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...(options.runtime[connections]
        ? [
            `| GET /healthz (no token, no SQL: the runtime's own cost) | ${options.runtime[connections].rps.toFixed(0)} | ${ms(options.runtime[connections].p50)} | ${ms(options.runtime[connections].p99)} | | | | | ${options.runtime[connections].errors} | | | |`,
          ]
        : []),
      ...rows
        .filter((row) => row.connections === connections)
        .map(
          ({ name, api, floor, relay }) =>
            `| ${name} | ${api.rps.toFixed(0)} | ${ms(api.p50)} | ${ms(api.p99)} | ${floor.rps.toFixed(0)} | ${ms(floor.p50)} | ${ms(floor.p99)} | ${ms(relay.p50)} | ${api.errors} / ${floor.errors} / ${relay.errors} | ${ratio(api.p50, floor.p50)} | ${ratio(relay.p50, floor.p50)} | ${ratio(api.p50, relay.p50)} |`,
        ),
      "",
    ]),
  ];
  return lines.join("\n");
}
