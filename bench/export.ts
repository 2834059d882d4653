// The export at a million entries: 100,000 entries of the largest organization as CSV and
// as NDJSON, end to end through the Worker, against what Postgres itself needs to produce
// the same rows as CSV (`COPY (…) TO STDOUT`), with workerd's resident memory watched.
import { spawnSync } from "node:child_process";
import { LOCAL_DRIVER_HEADERS } from "../dev/database";
import type { Query } from "../dev/sql-backends";
import { removePools } from "./scenarios";
import type { Run, SeededOrganization } from "./seed";
import { cpuMilliseconds, machineCpuMilliseconds, residentBytes } from "./workerd";

export const EXPORT_ENTRIES = Number(process.env.BENCH_EXPORT_ENTRIES ?? 100_000);

export type ExportRun = {
  seconds: number;
  bytes: number;
  lines: number;
  peakRssGrowth: number | undefined;
  /** Where the machine's CPU went during the download, in seconds; undefined where there is no /proc. */
  cpu?: ExportCpu;
};

/**
 * CPU seconds spent during a download: the machine's busy time over all its cores (`busy`, of `available`),
 * workerd's, this process's (the SQL endpoint and the downloading client), and the rest: Postgres, mostly.
 */
export type ExportCpu = { available: number; busy: number; workerd: number; benchProcess: number; rest: number };
export type ExportResult = {
  latencyMs: number;
  entries: number;
  range: { start: string; end: string };
  csv: ExportRun[];
  json: ExportRun[];
  /**
   * The export's own SQL requests (captured from its first download), sent again one after the other straight
   * to the endpoint, in seconds per run: what its pages cost without the Worker, the export's floor.
   */
  pages: Record<ExportFormat, { count: number; seconds: number[] }>;
  /** COPY's own times (psql's \timing), in seconds; empty when psql or a server is missing. */
  copy: number[];
  copyNote?: string;
};

/** A date range from the day of the EXPORT_ENTRIES-th newest entry of `org` to its last day, and its entries. */
export async function rangeOf(run: Run, org: SeededOrganization) {
  const day = (text: unknown) => String(text).slice(0, 10);
  const [first] = (
    await run({
      query: `select (start_time at time zone 'UTC')::date::text from time_entries
        where organization_id = $1 and deleted_at is null order by start_time desc, id desc offset $2 limit 1`,
      params: [org.id, String(EXPORT_ENTRIES - 1)],
    })
  ).rows;
  const [last] = (
    await run({
      query: `select (max(start_time) at time zone 'UTC')::date::text from time_entries where organization_id = $1`,
      params: [org.id],
    })
  ).rows;
  const range = { start: day(first?.[0]), end: day(last?.[0]) };
  const [count] = (
    await run({
      query: `select count(*) from time_entries where organization_id = $1 and deleted_at is null
        and start_time >= $2::date::timestamptz and start_time < $3::date::timestamptz + interval '1 day'`,
      params: [org.id, range.start, range.end],
    })
  ).rows;
  return { range, entries: Number(count?.[0]) };
}

/** Downloads one export, watching workerd's memory every 10 ms. */
async function download(url: string, headers: Record<string, string>, workerPid: number | undefined) {
  const before = residentBytes(workerPid);
  let peak = before ?? 0;
  const watch = setInterval(() => {
    peak = Math.max(peak, residentBytes(workerPid) ?? 0);
  }, 10);
  const machineBefore = machineCpuMilliseconds();
  const workerdBefore = cpuMilliseconds(workerPid);
  const processBefore = process.cpuUsage();
  const started = performance.now();
  let bytes = 0;
  let lines = 0;
  try {
    const res = await fetch(url, { headers });
    if (res.status !== 200 || !res.body) throw new Error(`export answered ${res.status}: ${await res.text()}`);
    for await (const chunk of res.body) {
      bytes += chunk.byteLength;
      // indexOf is native: a byte loop in JavaScript would slow the endpoint, which shares this process.
      const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      for (let at = buffer.indexOf(10); at !== -1; at = buffer.indexOf(10, at + 1)) lines++;
    }
  } finally {
    clearInterval(watch);
  }
  const seconds = (performance.now() - started) / 1000;
  const machineAfter = machineCpuMilliseconds();
  const workerdAfter = cpuMilliseconds(workerPid);
  const processUsed = process.cpuUsage(processBefore);
  let cpu: ExportCpu | undefined;
  if (machineBefore && machineAfter && workerdBefore !== undefined && workerdAfter !== undefined) {
    const busy = (machineAfter.busy - machineBefore.busy) / 1000;
    const workerd = (workerdAfter - workerdBefore) / 1000;
    const benchProcess = (processUsed.user + processUsed.system) / 1e6;
    cpu = {
      available: (machineAfter.total - machineBefore.total) / 1000,
      busy,
      workerd,
      benchProcess,
      rest: Math.max(0, busy - workerd - benchProcess),
    };
  }
  return { seconds, bytes, lines, peakRssGrowth: before === undefined ? undefined : peak - before, cpu };
}

/** The export's rows and columns as Postgres' own CSV, timed by psql (`\timing`, output to /dev/null). */
function copyFloor(databaseUrl: string, org: SeededOrganization, range: { start: string; end: string }) {
  const utc = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  // Inlined values: COPY takes no parameters; these come from the bench's own database.
  const query = `copy (
    select te.id, ${utc("te.start_time")}, ${utc("te.end_time")}, te.duration, te.description, te.billable,
      te.user_id, u.email, u.full_name, te.project_id, p.name, p.customer_id, c.name, p.hourly_rate, p.currency,
      te.invoice_id, i.number
    from time_entries te
    join organization_members u on u.organization_id = te.organization_id and u.user_id = te.user_id
    left join projects p on p.organization_id = te.organization_id and p.id = te.project_id
    left join customers c on c.organization_id = p.organization_id and c.id = p.customer_id
    left join invoices i on i.organization_id = te.organization_id and i.id = te.invoice_id
    where te.organization_id = '${org.id}' and te.deleted_at is null
      and te.start_time >= '${range.start}'::date::timestamptz and te.start_time < '${range.end}'::date::timestamptz + interval '1 day'
    order by te.start_time desc, te.id desc
  ) to stdout with (format csv, header)`;
  const psql = spawnSync("psql", [databaseUrl, "-X", "-q", "-c", "\\timing on", "-c", "\\o /dev/null", "-c", query], {
    encoding: "utf8",
  });
  const ms = /Time: ([\d.]+) ms/.exec(psql.stdout ?? "")?.[1];
  if (psql.error || psql.status !== 0 || !ms) throw new Error(`psql: ${psql.error?.message ?? psql.stderr}`);
  return Number(ms) / 1000;
}

type ExportFormat = "csv" | "json";

/** The statements in sequence, each waiting for the answer before the next, as the export's pages do. */
async function replay(endpointUrl: string, statements: Query[]) {
  const started = performance.now();
  for (const statement of statements) {
    const res = await fetch(endpointUrl, {
      method: "POST",
      headers: LOCAL_DRIVER_HEADERS,
      body: JSON.stringify(statement),
    });
    if (res.status !== 200) throw new Error(`the endpoint answered ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  }
  return (performance.now() - started) / 1000;
}

/** `runs` downloads of each format, interleaved with the COPY floor when a server and psql are there. */
export async function measureExports(options: {
  run: Run;
  org: SeededOrganization;
  base: string;
  headers: Record<string, string>;
  workerPid: number | undefined;
  databaseUrl: string | undefined;
  latencyMs: number;
  runs: number;
  endpointUrl: string;
  capture: (action: () => Promise<void>) => Promise<Query[]>;
}): Promise<ExportResult> {
  // The seeded entries only: what the write scenarios added is gone (removePools).
  await removePools(options.run, options.org);
  const { range, entries } = await rangeOf(options.run, options.org);
  const result: ExportResult = {
    latencyMs: options.latencyMs,
    entries,
    range,
    csv: [],
    json: [],
    pages: { csv: { count: 0, seconds: [] }, json: { count: 0, seconds: [] } },
    copy: [],
  };
  const statements: Partial<Record<ExportFormat, Query[]>> = {};
  if (!options.databaseUrl) result.copyNote = "no COPY floor: embedded PGlite (set DATABASE_URL to a server)";
  for (let i = 0; i < options.runs; i++) {
    for (const format of ["csv", "json"] as const) {
      const url = `${options.base}/v1/time-entries/export?format=${format}&start_date=${range.start}&end_date=${range.end}`;
      const captured = statements[format];
      if (captured) {
        result[format].push(await download(url, options.headers, options.workerPid));
        result.pages[format].seconds.push(await replay(options.endpointUrl, captured));
      } else {
        statements[format] = await options.capture(async () => {
          result[format].push(await download(url, options.headers, options.workerPid));
        });
        result.pages[format].count = statements[format]?.length ?? 0;
        result.pages[format].seconds.push(await replay(options.endpointUrl, statements[format] ?? []));
      }
    }
    if (options.databaseUrl && !result.copyNote) {
      try {
        result.copy.push(copyFloor(options.databaseUrl, options.org, range));
      } catch (error) {
        result.copyNote = `no COPY floor: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
  }
  return result;
}
