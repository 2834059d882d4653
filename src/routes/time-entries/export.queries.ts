import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { callerRole, memberCte, type Role } from "../../db/membership";
import { queryRows } from "../../db/query";
import { isoUtcText } from "../../db/sql-fragments";
import { withTimeZoneErrors } from "../../db/time-zone";
import type { Caller } from "../../lib/verify-token";
import { dateRangeBounds, type EntryFilter, entryConditions } from "./entry-filter";
import { entryJsonText, relationJson } from "./entry-json";
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
  /** Entries the page holds: fewer than `limits.entries` with `more` when `limits.bytes` cut it short. */
  entries: number;
  /** Whether entries follow the page (up to `until`, when the page had one). */
  more: boolean;
  /**
   * Asked with `ahead`: where each of the next `ahead` full pages ends (the entries `limits.entries`,
   * 2 × `limits.entries`… places after the page's last one, as far as there are that many), null when none
   * is full. Those pages, each ending at one and starting after the one before, can be asked for at once.
   */
  ahead: ExportCursor[] | null;
  /** Whether entries follow the last of them. */
  ahead_more: boolean;
  /** Where the filter's dates start and end, resolved (`EntryFilter.resolvedRange`) for the pages that follow. */
  range_start: string | null;
  range_end: string | null;
};

/**
 * Text people type, neutralised against formula injection as `neutralizeFormula` does, then a CSV field as
 * `csvField` (src/lib/csv.ts) writes it: quoted when it holds , " ; tab CR or LF, quotes doubled. The quote a
 * formula gets needs no quoting, so the text itself says whether to quote (each check made once).
 */
const typedCsvField = (value: string) => {
  const text = `coalesce(${value}, '')`;
  const neutralised = `(case when ${text} ~ E'^[=+@\\t\\r-]' then '''' || ${text} else ${text} end)`;
  return `case when ${text} ~ E'[",;\\t\\r\\n]' then '"' || replace(${neutralised}, '"', '""') || '"' else ${neutralised} end`;
};

/**
 * An entry's relations as parts of its line, each over its own alias (`u` the membership; `p` with `c`; `i`): written once a
 * page for the few users, projects and invoices its entries share, not once for every entry.
 */
const relationParts = {
  csv: {
    user: `concat_ws(',', ${typedCsvField("u.email")}, ${typedCsvField("u.full_name")})`,
    project: `concat_ws(',', ${[
      typedCsvField("p.name"),
      "coalesce(p.customer_id::text, '')",
      typedCsvField("c.name"),
      "coalesce(p.hourly_rate::text, '')",
      "coalesce(p.currency, '')",
    ].join(", ")})`,
    invoice: typedCsvField("i.number"),
  },
  json: relationJson,
} as const satisfies Record<ExportFormat, Record<keyof typeof relationJson, string>>;

/** The text people type of each relation, in bytes, for `lineBound`. */
const relationBytes = {
  user: "octet_length(u.email) + coalesce(octet_length(u.full_name), 0)",
  project: "octet_length(p.name) + coalesce(octet_length(c.name), 0)",
  invoice: "octet_length(i.number)",
} as const satisfies Record<keyof typeof relationJson, string>;

/** Where a line finds its relations' parts: columns of the page's `joined` rows. */
const partColumns = { user: "te.user_part", project: "te.project_part", invoice: "te.invoice_part" } as const;

/**
 * An entry of `te` (a `joined` row) as one CSV record, in the columns of `csvColumns` (export.schemas.ts),
 * which the tests hold this to. Everything but typed text is written by the API (UUIDs, UTC timestamps,
 * whole seconds, true/false, a numeric(12,2) rate, an ISO 4217 code) and needs neither quotes nor neutralising.
 */
const csvRecord = `concat_ws(',', ${[
  "te.id::text",
  isoUtcText("te.start_time"),
  `coalesce(${isoUtcText("te.end_time")}, '')`,
  "coalesce(te.duration::text, '')",
  typedCsvField("te.description"),
  "te.billable::text",
  "te.user_id::text",
  partColumns.user,
  "coalesce(te.project_id::text, '')",
  // No project: its five columns, empty.
  `coalesce(${partColumns.project}, ',,,,')`,
  "coalesce(te.invoice_id::text, '')",
  `coalesce(${partColumns.invoice}, '')`,
].join(", ")})`;

/** An entry's line (a `joined` row's), ended. */
const lineOf = {
  csv: sql.raw(`${csvRecord} || E'\\r\\n'`),
  json: sql.raw(`${entryJsonText(partColumns)} || E'\\n'`),
} as const satisfies Record<ExportFormat, unknown>;

/** The text people type of an entry of `te` with its relations' parts `pu`, `pp`, `pi`, in bytes. */
const typedBytes = "octet_length(te.description) + pu.bytes + coalesce(pp.bytes, 0) + coalesce(pi.bytes, 0)";

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
    /** How many of the pages that follow to find the ends of (`ahead`): an index read, no line built. */
    ahead?: number;
    limits: { entries: number; bytes: number };
  },
) {
  const aheadPages = page.ahead ?? 0;
  /** `columns` of the filter's entries within `keyset`, in the export's order, one select per role's branch. */
  const inOrder = (columns: SQL, keyset: SQL[], rest: SQL) =>
    sql.join(
      entryConditions(caller, filter, { keyset }).map(
        (conditions) => sql`(select ${columns} from time_entries te
          where ${sql.join(conditions, sql` and `)}
          order by te.start_time desc, te.id desc ${rest})`,
      ),
      sql` union all `,
    );
  const keysAfter = (key: SQL, rest: SQL) =>
    inOrder(sql`te.start_time, te.id`, [sql`(te.start_time, te.id) < ${key}`], rest);
  // Where the pages that follow end, asked with `ahead`: from the page's last entry (level 0), the index read on
  // `limits.entries` entries at a time, no line built; then whether any entry follows the last end found.
  const aheadRows = aheadPages
    ? sql`select 0, start_time, id from last_kept
        union all
        select a.level + 1, k.start_time, k.id from ahead a
        cross join lateral (${keysAfter(sql`(a.start_time, a.id)`, sql`offset ${page.limits.entries - 1} limit 1`)}) k
        where a.level < ${aheadPages}`
    : sql`select 0, null::timestamptz, null::uuid where false`;
  const aheadMore = aheadPages
    ? sql`exists (${keysAfter(sql`(select start_time, id from ahead order by level desc limit 1)`, sql`limit 1`)})`
    : sql`false`;
  const keysetAfter = page.cursor
    ? [sql`(te.start_time, te.id) < (${page.cursor.startTime}::timestamptz, ${page.cursor.id}::uuid)`]
    : [];
  if (page.until) {
    keysetAfter.push(sql`(te.start_time, te.id) >= (${page.until.startTime}::timestamptz, ${page.until.id}::uuid)`);
  }
  const range = dateRangeBounds(caller, filter);
  const rows = await withTimeZoneErrors(() =>
    queryRows<ExportPageRow>(
      db,
      sql`with recursive ${memberCte(caller)},
      page as (${inOrder(sql`te.*`, keysetAfter, sql`limit ${page.limits.entries + 1}`)}),
      -- The page's users, projects and invoices as parts of its lines, each written once.
      page_users as (
        select u.user_id as id, ${sql.raw(relationParts[format].user)} as part, ${sql.raw(relationBytes.user)} as bytes
        from organization_members u
        where u.organization_id = ${caller.organizationId} and u.user_id in (select user_id from page)
      ),
      page_projects as (
        select p.organization_id, p.id, ${sql.raw(relationParts[format].project)} as part,
          ${sql.raw(relationBytes.project)} as bytes
        from projects p left join customers c on c.organization_id = p.organization_id and c.id = p.customer_id
        where p.organization_id = ${caller.organizationId} and p.id in (select project_id from page)
      ),
      page_invoices as (
        select i.organization_id, i.id, ${sql.raw(relationParts[format].invoice)} as part,
          ${sql.raw(relationBytes.invoice)} as bytes
        from invoices i where i.organization_id = ${caller.organizationId} and i.id in (select invoice_id from page)
      ),
      joined as (
        select te.*, pu.part as user_part, pp.part as project_part, pi.part as invoice_part, ${lineBound[format]} as bound
        from page te
        join page_users pu on pu.id = te.user_id
        left join page_projects pp on pp.organization_id = te.organization_id and pp.id = te.project_id
        left join page_invoices pi on pi.organization_id = te.organization_id and pi.id = te.invoice_id
      ),
      -- Each entry's place and the most its line can take, before any line is written.
      sized as (
        select x.id, x.start_time, row_number() over w as n, sum(x.bound) over w as upto
        from joined x
        window w as (order by x.start_time desc, x.id desc)
      ),
      -- A prefix of the page, whatever the bounds: an entry after one left out would move the cursor past it.
      kept as (
        select id, n from sized
        where n <= ${page.limits.entries}
          and n < coalesce((select min(n) from sized where n > 1 and (upto > ${page.limits.bytes} or upto is null)), n + 1)
      ),
      last_kept as (select s.start_time, s.id from sized s where s.n = (select max(n) from kept)),
      -- Where each of the next pages ends, after the page's last entry (level 0).
      ahead(level, start_time, id) as (${aheadRows}),
      head as (
        select ${callerRole} as role, last.id as last_id, ${sql.raw(isoUtcText("last.start_time"))} as last_start_time,
          k.entries, (select count(*) from sized) > k.entries as more,
          (select json_agg(json_build_object('startTime', ${sql.raw(isoUtcText("a.start_time"))}, 'id', a.id) order by a.level)
            from ahead a where a.level > 0) as ahead,
          ${aheadMore} as ahead_more,
          ${range.start ?? sql`null`}::text as range_start, ${range.end ?? sql`null`}::text as range_end
        from (select count(*)::int as entries from kept) k
        left join last_kept last on true
      )
      -- In chunks of ${sql.raw(String(LINES_PER_ROW))} lines, the head on each: one huge value is slow to read for some drivers.
      select h.*, c.text from head h
      left join lateral (
        select (k.n - 1) / ${sql.raw(String(LINES_PER_ROW))} as chunk, string_agg(x.entry, '' order by k.n) as text
        from (select te.id, ${lineOf[format]} as entry from joined te) x join kept k on k.id = x.id
        group by chunk order by chunk
      ) c on true`,
    ),
  );
  const [head] = rows as [ExportPageRow];
  return { ...head, text: rows.map((row) => row.text ?? "").join("") } satisfies ExportPage;
}
