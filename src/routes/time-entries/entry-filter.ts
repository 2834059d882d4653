import { type SQL, sql } from "drizzle-orm";
import { callerIsManager, callerIsMember, isManager, type Role, requireMember } from "../../db/membership";
import { containsPattern } from "../../db/sql-fragments";
import { timeZoneOf } from "../../db/time-zone";
import { ApiError } from "../../lib/errors";
import type { Caller } from "../../lib/verify-token";
import type { EntryFilterQuery } from "./entry-filter.schemas";

/** Which live entries a read asks for; built from the query string by `entryFilterOf`. */
export type EntryFilter = {
  /** Calendar dates in `timezone`, both inclusive. */
  startDate?: string;
  endDate?: string;
  /** An IANA name; Postgres refuses one it does not know (see `withTimeZoneErrors`). Default: the organization's. */
  timezone?: string;
  q?: string;
  projectId?: string;
  customerId?: string;
  billable?: boolean;
  invoiced?: boolean;
  invoiceId?: string;
  /** A user id; undefined for everything the caller may see. */
  userId?: string;
  /**
   * The instants the dates start and end at, once an earlier statement resolved them (`dateRangeBounds`, as
   * Postgres writes a timestamptz): an export's pages after the first read their range by these.
   */
  resolvedRange?: ResolvedRange;
};

/** The instants a filter's dates start and end at (the end excluded), null for a date not given. */
export type ResolvedRange = { start: string | null; end: string | null };

/** The filter a query string of `entryFilterFields` asks for; `user_id=me` is the caller. */
export function entryFilterOf(caller: Caller, query: EntryFilterQuery): EntryFilter {
  return {
    startDate: query.start_date,
    endDate: query.end_date,
    timezone: query.timezone,
    q: query.q,
    projectId: query.project_id,
    customerId: query.customer_id,
    billable: query.billable,
    invoiced: query.invoiced,
    invoiceId: query.invoice_id,
    userId: query.user_id === "me" ? caller.userId : query.user_id?.toLowerCase(),
  };
}

/** A member may ask for their own entries only; owner and admin for anyone's. Call with the statement's role. */
export function requireFilterAllowed(role: Role | null, caller: Caller, filter: EntryFilter) {
  const known = requireMember(role);
  if (filter.userId && filter.userId !== caller.userId && !isManager(known)) {
    throw new ApiError("FORBIDDEN", "Members can only read their own time entries");
  }
  return known;
}

/**
 * The instants the filter's dates start and end at (the end excluded): local midnight in `timezone`, daylight
 * saving time included, or the filter's `resolvedRange`. Resolved, the bounds are values the planner estimates
 * from the statistics: of the organization's time zone it knows nothing, and for an organization of 20,000
 * entries (PostgreSQL 18) it guessed a year's range so small that every export page after the first read the rest
 * of the range whole and sorted it, instead of reading its 2,000 entries from the index in order.
 */
export function dateRangeBounds(caller: Caller, filter: EntryFilter): { start?: SQL; end?: SQL } {
  const instant = (text: string | null) => (text === null ? undefined : sql`${text}::timestamptz`);
  if (filter.resolvedRange)
    return { start: instant(filter.resolvedRange.start), end: instant(filter.resolvedRange.end) };
  const tz = timeZoneOf(caller, filter.timezone);
  return {
    start: filter.startDate ? localMidnight(sql`${filter.startDate}::date`, tz) : undefined,
    end: filter.endDate ? localMidnight(sql`(${filter.endDate}::date + 1)`, tz) : undefined,
  };
}

/**
 * The first instant of `date` (SQL, a date) in the time zone `tz`. Where the clocks go back at midnight
 * (Atlantic/Azores and America/Havana: 01:00 back to 00:00), midnight happens twice and `AT TIME ZONE` takes the
 * second, which would give the hour between them to the day before (its range) while its entries show the new date
 * (their summary group); so the first is taken: midnight at the offset in force a day earlier, when that instant
 * falls on `date` already. Elsewhere both are the same instant. Immutable functions of constants: still constants.
 */
function localMidnight(date: SQL, tz: SQL) {
  const local = sql`(${date})::timestamp`;
  const second = sql`(${local} at time zone ${tz})`;
  const dayBefore = sql`(${second} - interval '1 day')`;
  const offsetBefore = sql`((${dayBefore} at time zone ${tz}) - (${dayBefore} at time zone 'UTC'))`;
  const first = sql`((${local} - ${offsetBefore}) at time zone 'UTC')`;
  return sql`(case when (${first} at time zone ${tz}) >= ${local} then least(${first}, ${second}) else ${second} end)`;
}

/** The smallest uuid: `(start_time, id) >= (t, NIL_UUID)` holds exactly when `start_time >= t`. */
const NIL_UUID = sql`'00000000-0000-0000-0000-000000000000'::uuid`;

/**
 * The conditions on `te` (time_entries) that select the live entries of the caller's organization
 * matching `filter` and visible to the caller: one list per visibility branch, to be joined with
 * `union all`. Which rows the caller may see depends on their role, known only inside the statement
 * (the `member` CTE); each visibility is its own branch behind a one-time filter, so Postgres runs
 * just the branch that applies, each on its best index. Every read of a set of entries (list,
 * summary, export) selects them with this.
 */
export function entryConditions(
  caller: Caller,
  filter: EntryFilter,
  options: {
    includeDeleted?: boolean;
    /**
     * `whole`: the caller reads every entry of the range (the summary, through a covering index that has no id),
     * so the date bounds are plain comparisons; otherwise entries are read in (start_time, id) order until a page
     * is full (see below).
     */
    range?: "whole";
    /**
     * Row comparisons on `(te.start_time, te.id)` that bound a keyset page (after a cursor, up to an entry).
     * They come before the date bounds, row comparisons on the same columns: a btree index cannot tell which of
     * two such bounds is the tighter and starts its scan at the first it is given, and the planner gives them in
     * the order written when they cost the same to check (constants, or subqueries both). Written after, a list
     * page 10,000 entries deep in a range with an explicit `timezone` read the index from the range's end down
     * to its cursor, and each export page read it from the range's end or start (the query-plan budgets).
     */
    keyset?: readonly SQL[];
  } = {},
): SQL[][] {
  const conditions: SQL[] = [sql`te.deleted_at is null`, ...(options.keyset ?? [])];
  // Each bound is written as a row comparison with the smallest uuid, which selects exactly the same entries
  // (every id is at least that), because the organization's time zone is a subquery the planner cannot see
  // through: it takes a range `start_time >= x and start_time < y` of unknown bounds for 0.5% of the
  // organization, so a long range was read whole by a bitmap scan and sorted (an export page over a year of
  // 100,000 entries: 110 ms instead of 7), whereas row comparisons are estimated one by one and still bound the
  // index scan.
  const startTimeIs = (operator: ">=" | "<", instant: SQL) =>
    options.range === "whole"
      ? sql`te.start_time ${sql.raw(operator)} ${instant}`
      : sql`(te.start_time, te.id) ${sql.raw(operator)} (${instant}, ${NIL_UUID})`;
  const range = dateRangeBounds(caller, filter);
  if (range.start) conditions.push(startTimeIs(">=", range.start));
  if (range.end) conditions.push(startTimeIs("<", range.end));
  if (filter.q) conditions.push(sql`te.description ilike ${containsPattern(filter.q)}`);
  if (filter.projectId) conditions.push(sql`te.project_id = ${filter.projectId}::uuid`);
  if (filter.customerId) {
    conditions.push(sql`te.project_id in (
      select p.id from projects p
      where p.organization_id = ${caller.organizationId}::uuid and p.customer_id = ${filter.customerId}::uuid
    )`);
  }
  if (filter.billable !== undefined) conditions.push(sql`te.billable = ${filter.billable}::boolean`);
  if (filter.invoiceId) conditions.push(sql`te.invoice_id = ${filter.invoiceId}::uuid`);
  if (filter.invoiced !== undefined) {
    conditions.push(filter.invoiced ? sql`te.invoice_id is not null` : sql`te.invoice_id is null`);
  }
  // Sync's tombstones: a deleted entry keeps nothing to filter on, so every visible one qualifies.
  const live = options.includeDeleted
    ? [sql`(te.deleted_at is not null or (${sql.join(conditions, sql` and `)}))`]
    : conditions;
  const branches: SQL[][] = filter.userId
    ? [[sql`te.user_id = ${filter.userId}::uuid`, filter.userId === caller.userId ? callerIsMember : callerIsManager]]
    : [[callerIsManager], [sql`(select role from member) = 'member'`, sql`te.user_id = ${caller.userId}::uuid`]];
  // A time zone given without dates selects nothing, but is still checked: one that only the runtime's Intl knows is
  // refused by Postgres here too (`withTimeZoneErrors`), as it is when dates use it. A constant: a one-time filter.
  const zoneCheck =
    filter.timezone !== undefined && !range.start && !range.end && !filter.resolvedRange
      ? [sql`(now() at time zone ${filter.timezone}::text) is not null`]
      : [];
  return branches.map((visibility) => [
    sql`te.organization_id = ${caller.organizationId}::uuid`,
    ...zoneCheck,
    ...live,
    ...visibility,
  ]);
}
