import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { callerRole, memberCte, type Role } from "../../db/membership";
import { queryRows } from "../../db/query";
import { isoUtcText } from "../../db/sql-fragments";
import { withTimeZoneErrors } from "../../db/time-zone";
import type { Caller } from "../../lib/verify-token";
import { type EntryFilter, entryConditions } from "./entry-filter";
import { entryJson, withRelations } from "./entry-json";
import type { ExportFormat } from "./export.schemas";

/** Lines per row of a page's answer. */
const LINES_PER_ROW = 100;

type ExportPageRow = Omit<ExportPage, "text"> & { text: string | null };

/** A place in the export's order: an entry's start time and id. */
export type ExportCursor = { startTime: string; id: string };

/** A page of an export: its text (CSV rows or NDJSON lines), ready to send, and where the next page starts. */
export type ExportPage = {
  role: Role | null;
  text: string;
  /** The last entry written, for the next page's keyset; null for an empty page. */
  last_start_time: string | null;
  last_id: string | null;
  /** Whether entries follow the page (up to `until`, when the page had one). */
  more: boolean;
  /**
   * Asked with `ahead`: the entry `limits.entries` places after the page's last one, null when fewer follow.
   * The next page then ends there, and the page after it can be asked for at the same time.
   */
  ahead_start_time: string | null;
  ahead_id: string | null;
  /** Whether entries follow that one. */
  ahead_more: boolean;
};

/** One CSV field as `csvField` (src/lib/csv.ts) writes it: quoted when it holds , " ; tab CR or LF, quotes doubled. */
const csvField = (value: string) =>
  `case when ${value} ~ E'[",;\\t\\r\\n]' then '"' || replace(${value}, '"', '""') || '"' else ${value} end`;

/** Text people type, neutralised against formula injection as `neutralizeFormula` does, then a CSV field. */
const typedCsvField = (value: string) => {
  const text = `coalesce(${value}, '')`;
  return csvField(`(case when ${text} ~ E'^[=+@\\t\\r-]' then '''' || ${text} else ${text} end)`);
};

/**
 * An entry of `te` (with `u`, `p`, `c`, `i`) as one CSV record, in the columns of `csvColumns`
 * (export.schemas.ts), which the tests hold this to. Everything but typed text is written by the API
 * (UUIDs, UTC timestamps, whole seconds, true/false, a numeric(12,2) rate, an ISO 4217 code) and
 * needs neither quotes nor neutralising.
 */
const csvRecord = `concat_ws(',', ${[
  "te.id::text",
  isoUtcText("te.start_time"),
  `coalesce(${isoUtcText("te.end_time")}, '')`,
  "coalesce(te.duration::text, '')",
  typedCsvField("te.description"),
  "te.billable::text",
  "te.user_id::text",
  typedCsvField("u.email"),
  typedCsvField("u.full_name"),
  "coalesce(te.project_id::text, '')",
  typedCsvField("p.name"),
  "coalesce(p.customer_id::text, '')",
  typedCsvField("c.name"),
  "coalesce(p.hourly_rate::text, '')",
  "coalesce(p.currency, '')",
  "coalesce(te.invoice_id::text, '')",
  typedCsvField("i.number"),
].join(", ")})`;

/** The text people type of an entry (with `u`, `p`, `c`, `i`), in bytes. */
const typedBytes = `octet_length(te.description) + octet_length(u.email) + octet_length(u.full_name)
  + coalesce(octet_length(p.name), 0) + coalesce(octet_length(c.name), 0) + coalesce(octet_length(i.number), 0)`;

/**
 * The most bytes an entry's line can take: the API's own fields (UUIDs, timestamps, numbers, keys) and each
 * byte of typed text twice in CSV (a doubled quote) or six times in JSON (a control character as \u0000).
 */
const lineBound = {
  csv: sql.raw(`(400 + 2 * (${typedBytes}))`),
  json: sql.raw(`(800 + 6 * (${typedBytes}))`),
} as const satisfies Record<ExportFormat, unknown>;

/**
 * One page of an export in ONE statement (membership included): up to `limits.entries` entries after
 * `cursor` in the list's order, as text Postgres writes itself, so the Worker sends it on without
 * parsing or building anything per entry. A page also stops before it passes `limits.bytes` of text
 * (at least one entry), so that an answer stays well inside what an SQL-over-HTTP response may carry
 * whatever the descriptions hold.
 */
export async function exportPage(
  db: Db,
  caller: Caller,
  filter: EntryFilter,
  format: ExportFormat,
  page: {
    /** The page starts after this entry (from the first entry when none)… */
    cursor?: ExportCursor;
    /** …and ends at this one, included (at the end of the export when none). */
    until?: ExportCursor;
    /** Whether to find where the page after next starts (`ahead_start_time`, `ahead_id`). */
    ahead?: boolean;
    limits: { entries: number; bytes: number };
  },
) {
  const after = page.cursor
    ? [sql`(te.start_time, te.id) < (${page.cursor.startTime}::timestamptz, ${page.cursor.id}::uuid)`]
    : [];
  if (page.until) {
    after.push(sql`(te.start_time, te.id) >= (${page.until.startTime}::timestamptz, ${page.until.id}::uuid)`);
  }
  // Where the page after next starts: the index read on from the page's last entry, no line built.
  const aheads = entryConditions(caller, filter).map(
    (conditions) => sql`(select te.start_time, te.id from time_entries te
      where ${sql.join([...conditions, sql`(te.start_time, te.id) < (select start_time, id from last_kept)`], sql` and `)}
      order by te.start_time desc, te.id desc
      offset ${page.limits.entries - 1} limit 2)`,
  );
  const selects = entryConditions(caller, filter).map(
    (conditions) => sql`(select te.* from time_entries te
      where ${sql.join([...conditions, ...after], sql` and `)}
      order by te.start_time desc, te.id desc
      limit ${page.limits.entries + 1})`,
  );
  const line = format === "csv" ? sql.raw(`${csvRecord} || E'\\r\\n'`) : sql`${entryJson}::text || E'\\n'`;
  const rows = await withTimeZoneErrors(() =>
    queryRows<ExportPageRow>(
      db,
      sql`with ${memberCte(caller)},
      page as (${sql.join(selects, sql` union all `)}),
      -- Each entry's place and the most its line can take, before any line is built.
      sized as (
        select x.id, x.start_time, row_number() over w as n, sum(x.entry) over w as upto
        from (${withRelations("page", lineBound[format])}) x
        window w as (order by x.start_time desc, x.id desc)
      ),
      kept as (select id, n from sized where n <= ${page.limits.entries} and (n = 1 or upto <= ${page.limits.bytes})),
      kept_entries as (select te.* from page te where te.id in (select id from kept)),
      last_kept as (select s.start_time, s.id from sized s where s.n = (select max(n) from kept)),
      ahead as (${page.ahead ? sql.join(aheads, sql` union all `) : sql`select null::timestamptz as start_time, null::uuid as id where false`}),
      head as (
        select ${callerRole} as role, last.id as last_id, ${sql.raw(isoUtcText("last.start_time"))} as last_start_time,
          (select count(*) from sized) > (select count(*) from kept) as more,
          a.id as ahead_id, ${sql.raw(isoUtcText("a.start_time"))} as ahead_start_time,
          (select count(*) from ahead) > 1 as ahead_more
        from (select 1) one
        left join last_kept last on true
        left join (select * from ahead order by start_time desc, id desc limit 1) a on true
      )
      -- In chunks of ${sql.raw(String(LINES_PER_ROW))} lines, the head on each: one huge value is slow to read for some drivers.
      select h.*, c.text from head h
      left join lateral (
        select (k.n - 1) / ${sql.raw(String(LINES_PER_ROW))} as chunk, string_agg(x.entry, '' order by k.n) as text
        from (${withRelations("kept_entries", line)}) x join kept k on k.id = x.id
        group by chunk order by chunk
      ) c on true`,
    ),
  );
  const [head] = rows as [ExportPageRow];
  return { ...head, text: rows.map((row) => row.text ?? "").join("") } satisfies ExportPage;
}
