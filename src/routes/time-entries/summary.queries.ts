import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { callerRole, memberCte, type Role } from "../../db/membership";
import { queryOne } from "../../db/query";
import { amountOfRatedSeconds, jsonArrayTextSql, jsonObjectTextSql } from "../../db/sql-fragments";
import { timeZoneOf, withTimeZoneErrors } from "../../db/time-zone";
import { WEEK_DAYS, type WeekDay } from "../../db/week-days";
import type { JsonText } from "../../lib/json-text";
import type { Caller } from "../../lib/verify-token";
import { type EntryFilter, entryConditions } from "./entry-filter";
import type { Dimension, Summary } from "./summary.schemas";

export type SummaryOptions = {
  groupBy: Dimension[];
  rounding?: { mode: "up" | "down" | "nearest"; minutes: number };
  /** The day weeks start on; omitted: the organization's `week_start`. */
  weekStart?: WeekDay;
};

/**
 * SQL: days from the week's first day on to the next Monday (0 for Monday), which moves a week starting on that day
 * onto an ISO week; the day a request names, or else its organization's (`organizations.week_start`).
 */
const weekShiftOf = (caller: Caller, weekStart: WeekDay | undefined) => {
  const day =
    weekStart === undefined
      ? sql`(select o.week_start from organizations o where o.id = ${caller.organizationId}::uuid)`
      : sql`${weekStart}::text`;
  const days = sql.raw(`array[${WEEK_DAYS.map((name) => `'${name}'`).join(", ")}]`);
  return sql`(8 - array_position(${days}, ${day})) % 7`;
};

/** The first and last local days the API takes (as Timestamp and CalendarDate do). */
const FIRST_DAY = "timestamp '0001-01-01'";
const LAST_DAY = "timestamp '9999-12-31'";

/**
 * Each dimension's key, as grouped per entry and as the API shows it, and its label. Per entry over `e` (the
 * entry), `p`, `c` and `local_start` (start_time in the zone): `key` is a plain value, cheap to hash for
 * every entry of a year; `text` and `labelOf` turn a group's key (`k`) into text, once per group.
 * Names of projects and customers (`label`) are grouped with their id; a period's label, and a person's, comes from
 * its key.
 */
const dimensions: Record<
  Dimension,
  { key: string; text: (k: string) => string; label?: string; labelOf?: (k: string) => string }
> = {
  project: { key: "p.id", text: (k) => `${k}::text`, label: "coalesce(p.name, 'No project')" },
  customer: { key: "c.id", text: (k) => `${k}::text`, label: "coalesce(c.name, 'No customer')" },
  // A name as the organization knows the person, looked up once per group.
  user: {
    key: "e.user_id",
    text: (k) => `${k}::text`,
    labelOf: (k) => `(select coalesce(nullif(u.full_name, ''), u.email) from organization_members u, member
      where u.organization_id = member.organization_id and u.user_id = ${k})`,
  },
  day: {
    key: "date_trunc('day', local_start)",
    text: (k) => `to_char(${k}, 'YYYY-MM-DD')`,
    labelOf: (k) => `to_char(${k}, 'YYYY-MM-DD')`,
  },
  // date_trunc('week') starts weeks on Monday, as ISO 8601 does. A week from another day is the ISO week of each
  // start moved `shift` days on (that day onto a Monday), shown moved back: per entry one addition of a value the
  // statement computes once (a join with it, or make_interval per entry, doubled the cost of a year by week).
  // Labelled by the ISO week when weeks start on Monday, else by its first and last day as an ISO 8601 interval
  // (both sort chronologically). A week is cut at the first and last days the API takes, so that its days are dates
  // it writes (not 1 BC, which to_char would write as year 1, nor year 10000).
  week: {
    key: "date_trunc('week', local_start + (select shift_interval from week))",
    text: (k) => `to_char(greatest(${k} - (select shift_interval from week), ${FIRST_DAY}), 'YYYY-MM-DD')`,
    labelOf: (k) =>
      `case when (select shift from week) = 0 then to_char(${k}, 'IYYY-"W"IW')
        else to_char(greatest(${k} - (select shift_interval from week), ${FIRST_DAY}), 'YYYY-MM-DD') || '/' ||
          to_char(least(${k} - (select shift_interval from week) + interval '6 days', ${LAST_DAY}), 'YYYY-MM-DD') end`,
  },
  month: {
    key: "date_trunc('month', local_start)",
    text: (k) => `to_char(${k}, 'YYYY-MM')`,
    labelOf: (k) => `to_char(${k}, 'YYYY-MM')`,
  },
};

/**
 * Seconds an entry counts for: its duration, or up to now while it runs (never below 0), then
 * rounded to a multiple of the step when asked. Numeric arithmetic, so no float is involved.
 */
function secondsOf(rounding: SummaryOptions["rounding"]) {
  const exact = sql`greatest(coalesce(e.duration, floor(extract(epoch from now() - e.start_time))), 0)`;
  if (!rounding) return exact;
  const step = rounding.minutes * 60;
  const round = { up: "ceil", down: "floor", nearest: "round" }[rounding.mode];
  return sql`(${sql.raw(round)}(${exact}::numeric / ${sql.raw(String(step))}) * ${sql.raw(String(step))})`;
}

/** A group's totals (of `alias`, a `grouped` row) as the members of its JSON text. */
const totalsMembers = (alias: string) =>
  [
    ["entry_count", `${alias}.entry_count::text`],
    ["total_seconds", `${alias}.total_seconds::text`],
    ["billable_seconds", `${alias}.billable_seconds::text`],
    ["amounts", `${alias}.amounts`],
  ] as const;

const noTotals = jsonObjectTextSql([
  ["entry_count", "'0'"],
  ["total_seconds", "'0'"],
  ["billable_seconds", "'0'"],
  ["amounts", "'[]'"],
]);

/** A currency's amount of a `by_currency` row, rounded to its minor unit once on the group's total, as JSON text. */
const amountText = jsonObjectTextSql([
  ["currency", "to_json(currency)::text"],
  ["amount", `'"' || ${amountOfRatedSeconds("rated_seconds", "currency")}::text || '"'`],
]);

/**
 * Totals of the entries `filter` selects, grouped by one or two dimensions, in ONE statement. Each
 * row of `by_currency` holds one group (or the grand total, by grouping sets) and one currency;
 * Σ seconds × rate stays exact numeric, divided by 3600 and rounded to the currency's minor unit once per group total.
 */
export async function summarizeTimeEntries(db: Db, caller: Caller, filter: EntryFilter, options: SummaryOptions) {
  const [first, second] = options.groupBy.map((dimension) => dimensions[dimension]);
  const byWeek = options.groupBy.includes("week");
  type Spec = (typeof dimensions)[Dimension] | undefined;
  const keyed = (n: 1 | 2, dimension: Spec) =>
    sql.raw(
      dimension
        ? `${dimension.key} as k${n}, ${dimension.label ?? "null::text"} as l${n}`
        : `null::text as k${n}, null::text as l${n}`,
    );
  const sets: SQL[] = [sql`(currency)`];
  if (first) sets.unshift(sql`(k1, l1, currency)`);
  if (second) sets.unshift(sql`(k1, l1, k2, l2, currency)`);
  // A dimension not asked for is in no grouping set, so it may not be selected as a column.
  const grouped = (n: 1 | 2, dimension: Spec) =>
    sql.raw(dimension ? `k${n}, l${n}` : `null::text as k${n}, null::text as l${n}`);
  // A group's key and label as text, from its grouped key (and name).
  const shown = (n: 1 | 2, dimension: Spec) =>
    sql.raw(
      dimension
        ? `${dimension.text(`k${n}`)} as k${n}, ${dimension.labelOf?.(`k${n}`) ?? `l${n}`} as l${n}`
        : `k${n}, l${n}`,
    );
  // 0: a subgroup, 3: a group, 15: the grand total (GROUPING names only columns the sets use).
  const level = second ? sql`grouping(k1, l1, k2, l2)` : first ? sql`grouping(k1, l1) * 4 + 3` : sql`15`;

  // Only what the totals need: with it, the organization's (organization_id, start_time) covering index
  // answers a year of entries without reading the table (migration 0005).
  const selects = entryConditions(caller, filter, { range: "whole" }).map(
    (conditions) =>
      sql`(select te.organization_id, te.user_id, te.project_id, te.start_time, te.duration, te.billable
        from time_entries te where ${sql.join(conditions, sql` and `)})`,
  );
  // Key null (no project, no customer) last; names A to Z whatever the case, as the lists have them (nameOrder);
  // periods' labels (digits and one letter case) chronologically.
  const order = (n: 1 | 2, alias: string) =>
    `${alias}.k${n} is null, lower(${alias}.l${n} collate "C"), ${alias}.l${n} collate "C", ${alias}.k${n}`;
  const groupText = (n: 1 | 2, alias: string, subgroups?: string) =>
    jsonObjectTextSql([
      ["key", `to_json(${alias}.k${n})::text`],
      ["label", `to_json(${alias}.l${n})::text`],
      ...totalsMembers(alias),
      ...(subgroups ? [["groups", subgroups] as const] : []),
    ]);
  const subgroups = second
    ? `(select ${jsonArrayTextSql(groupText(2, "s"), order(2, "s"))}
      from grouped s where s.level = 0 and s.k1 is not distinct from g.k1)`
    : undefined;

  return withTimeZoneErrors(() =>
    queryOne<{ role: Role | null; summary: JsonText<Summary> }>(
      db,
      sql`with ${memberCte(caller)},
      entries as (${sql.join(selects, sql` union all `)}),
      ${
        byWeek
          ? sql`week as (select shift, make_interval(days => shift) as shift_interval
              from (select ${weekShiftOf(caller, options.weekStart)} as shift) s),`
          : sql``
      }
      measured as (
        select ${keyed(1, first)}, ${keyed(2, second)},
          e.billable, p.hourly_rate, p.currency, ${secondsOf(options.rounding)} as seconds
        from entries e
        cross join lateral (select e.start_time at time zone ${timeZoneOf(caller, filter.timezone)} as local_start) z
        left join projects p on p.organization_id = e.organization_id and p.id = e.project_id
        left join customers c on c.organization_id = p.organization_id and c.id = p.customer_id
      ),
      by_currency as (
        select ${level} as level, ${grouped(1, first)}, ${grouped(2, second)}, currency,
          count(*) as entry_count,
          sum(seconds) as total_seconds,
          coalesce(sum(seconds) filter (where billable), 0) as billable_seconds,
          sum(seconds * hourly_rate) filter (where billable and hourly_rate is not null) as rated_seconds
        from measured
        group by grouping sets (${sql.join(sets, sql`, `)})
      ),
      grouped as (
        select level, ${shown(1, first)}, ${shown(2, second)},
          sum(entry_count)::bigint as entry_count,
          sum(total_seconds)::bigint as total_seconds,
          sum(billable_seconds)::bigint as billable_seconds,
          ${sql.raw(jsonArrayTextSql(amountText, "currency", "rated_seconds is not null"))} as amounts
        from by_currency
        group by level, by_currency.k1, by_currency.l1, by_currency.k2, by_currency.l2
      )
      select ${callerRole} as role, ${sql.raw(
        jsonObjectTextSql([
          [
            "groups",
            `(select ${jsonArrayTextSql(groupText(1, "g", subgroups), order(1, "g"))}
            from grouped g where g.level = 3)`,
          ],
          [
            "totals",
            `coalesce((select ${jsonObjectTextSql(totalsMembers("t"))} from grouped t where t.level = 15), ${noTotals})`,
          ],
        ]),
      )} as summary`,
    ),
  );
}
