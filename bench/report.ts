// bench/RESULTS.md: the table, and what it was measured on.
import { readFileSync } from "node:fs";
import { cpus, freemem, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import type { Stats } from "./load";
import type { Run, SeedSize } from "./seed";

export type Row = { name: string; connections: number; api: Stats; floor: Stats };

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

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

export async function report(options: {
  rows: Row[];
  backend: string;
  run: Run;
  size: SeedSize;
  seedSeconds?: number;
  /** GET /healthz through the Worker, per number of connections. */
  runtime: Record<number, Stats>;
  duration: number;
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
    `- Machine: ${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory (${(freemem() / 2 ** 30).toFixed(0)} GiB free at the end), ${osName()}, Linux ${release()}.`,
    `- Database: ${options.backend === "postgres" ? String(server?.[0]).split(" on ")[0] : `PGlite ${version("@electric-sql/pglite")} (${String(server?.[0]).split(" on ")[0]})`}, through the local SQL-over-HTTP endpoint (\`dev/sql-http-endpoint.ts\`, Node.js, node-postgres pool of 20).`,
    `- Data: ${size.entries.toLocaleString("en")} time entries over ${size.users} users, ${size.projects} projects and ${size.organizations} organizations${options.seedSeconds ? `, seeded in ${options.seedSeconds.toFixed(1)} s` : ""}. The caller is the owner of the first organization (about a third of the entries).`,
    `- Worker: \`wrangler dev\` (wrangler ${version("wrangler")}, workerd ${version("workerd")}), the Worker's own wrangler.toml minus the rate limiter; Node.js ${process.version}; autocannon ${version("autocannon")}.`,
    `- Load: autocannon with 1 connection (latency: one request at a time) and with 10 (throughput), ${options.duration} s per measurement (patch and delete: one request per pooled row, a fresh row each time); everything on this one machine, so the load generator, workerd, the endpoint and Postgres share its cores.`,
    "- Floor: the SQL statement the API sent for the same request (captured at the endpoint), posted straight to the endpoint's `POST /sql` with the same parameters: the database work and the endpoint, without the Worker.",
    "",
    ...[...new Set(rows.map((row) => row.connections))].flatMap((connections) => [
      `## Results, ${connections} connection${connections === 1 ? "" : "s"}`,
      "",
      "| Operation | API req/s | API p50 ms | API p99 ms | API errors | Floor req/s | Floor p50 ms | Floor p99 ms | Floor errors | p50 API / floor |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...(options.runtime[connections]
        ? [
            `| GET /healthz (no token, no SQL: the local runtime's own cost) | ${options.runtime[connections].rps.toFixed(0)} | ${ms(options.runtime[connections].p50)} | ${ms(options.runtime[connections].p99)} | ${options.runtime[connections].errors} | | | | | |`,
          ]
        : []),
      ...rows
        .filter((row) => row.connections === connections)
        .map(
          ({ name, api, floor }) =>
            `| ${name} | ${api.rps.toFixed(0)} | ${ms(api.p50)} | ${ms(api.p99)} | ${api.errors} | ${floor.rps.toFixed(0)} | ${ms(floor.p50)} | ${ms(floor.p99)} | ${floor.errors} | ${(api.p50 / floor.p50).toFixed(2)} |`,
        ),
      "",
    ]),
  ];
  return lines.join("\n");
}
