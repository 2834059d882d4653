import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { callerIsMember, callerRole, memberCte, type Role, visibleTo } from "../../db/membership";
import { queryOne, queryOneAfter } from "../../db/query";
import { isoUtcText } from "../../db/sql-fragments";
import { timeZoneOf, withTimeZoneErrors } from "../../db/time-zone";
import type { JsonText } from "../../lib/json-text";
import type { Caller } from "../../lib/verify-token";
import { type EntryFilter, entryConditions } from "./entry-filter";
import { changeJson, entryJson, entryOf, withRelations } from "./entry-json";
import type { Departure, TimeEntry, Tombstone } from "./time-entries.schemas";

// Reads of time entries: each one SQL statement (one round trip) that also reads the caller's membership and
// returns the caller's role (null when not a member) so handlers can tell 403 from 404.

export type PageRequest = { cursor?: { startTime: string; id: string }; limit: number };

/**
 * A page of entries as the response carries it: the entries as one JSON array, compact, in Postgres' own
 * text (the handler sends it on without parsing it), and what the next cursor needs.
 */
export type EntryPage<T> = {
  role: Role | null;
  entries: JsonText<T[]>;
  count: number;
  /** The sort key of the page's last entry (its start_time, or in a sync listing its updated_at) when more follow. */
  next: { time: string; id: string } | null;
  /** The time zone the filter's dates were read in (the organization's when it named none); null without dates. */
  timezone: string | null;
};

const datesZone = (caller: Caller, filter: EntryFilter) =>
  filter.startDate || filter.endDate ? timeZoneOf(caller, filter.timezone) : sql`null`;

/**
 * The final query of a page statement: `page` (a CTE of up to `limit + 1` entries) with their relations as
 * JSON text, at most `limit` of them in `order`; the extra entry only tells that more follow.
 */
const entryPageOf = (page: { limit: number; order: "start_time" | "updated_at"; entry: SQL; zone: SQL }) => {
  const order = page.order === "start_time" ? "x.start_time desc, x.id desc" : "x.updated_at, x.id";
  return sql`, listed as (
      select x.${sql.raw(page.order)} as sort_time, x.id, x.entry, row_number() over (order by ${sql.raw(order)}) as n
      from (${withRelations("page", page.entry)}) x
    )
    select ${callerRole} as role,
      '[' || coalesce((select string_agg(entry::text, ',' order by n) from listed where n <= ${page.limit}), '') || ']'
        as entries,
      (select count(*)::int from listed where n <= ${page.limit}) as count,
      (select json_build_object('time', ${sql.raw(isoUtcText("sort_time"))}, 'id', id) from listed
        where n = ${page.limit} and exists (select 1 from listed where n > ${page.limit})) as next,
      ${page.zone} as timezone`;
};

export async function listTimeEntries(db: Db, caller: Caller, filter: EntryFilter, page: PageRequest) {
  const after = page.cursor
    ? [sql`(te.start_time, te.id) < (${page.cursor.startTime}::timestamptz, ${page.cursor.id}::uuid)`]
    : [];
  const pageSize = page.limit + 1; // one more than asked tells whether another page follows
  const selects = entryConditions(caller, filter, { keyset: after }).map(
    (conditions) => sql`(select te.* from time_entries te
      where ${sql.join(conditions, sql` and `)}
      order by te.start_time desc, te.id desc
      limit ${pageSize})`,
  );

  return withTimeZoneErrors(() =>
    queryOne<EntryPage<TimeEntry>>(
      db,
      sql`with ${memberCte(caller)},
      page as (${sql.join(selects, sql` union all `)})
      ${entryPageOf({ limit: page.limit, order: "start_time", entry: entryJson, zone: datesZone(caller, filter) })}`,
    ),
  );
}

export type ChangePageRequest = {
  updatedSince: string;
  cursor?: { updatedAt: string; id: string };
  limit: number;
  includeDeleted: boolean;
  includeDepartures: boolean;
};

/**
 * The sync feed's horizon, set for the statement after it: an entry's `updated_at` is its writing transaction's start
 * (`now()`), so a write still running (waiting on a lock, say) commits later with a time older than changes already
 * committed. The feed answers only changes older than the start of every transaction in progress in this database,
 * and than this statement's own start (a transaction that begins after it is later still), read before the feed's
 * snapshot is taken (the batch runs READ COMMITTED): whatever commits later has an `updated_at` at or after the
 * horizon, so the greatest `updated_at` a client received is a mark nothing can fall behind. The horizon is cut to the
 * millisecond, as `updated_at` is stored rounded to one. `query_start` covers a transaction in the instant before its
 * start is reported; a transaction running for over a minute (no statement of the API does; an operator's session
 * left open might) stops holding the feed back, which would otherwise stall. Sessions of other roles show no times,
 * and no API write runs under them. The function under `pg_stat_activity`, without the view's joins: a tenth of a
 * millisecond less to plan and run, on every page of the feed.
 */
const syncHorizon = sql`select set_config('time_entries.sync_horizon', (
    select date_trunc('milliseconds', greatest(least(min(coalesce(a.xact_start, a.query_start)), statement_timestamp()),
      statement_timestamp() - interval '1 minute'))
    from pg_stat_get_activity(null) a
    where a.datid = (select oid from pg_database where datname = current_database()) and a.pid <> pg_backend_pid()
      and a.backend_type = 'client backend' and a.state <> 'idle'
  )::text, true)`;

/** The columns of a sync page's rows, the same for an entry, a tombstone and a departure (`departed`). */
const changeColumns = `te.id, te.organization_id, te.user_id, te.project_id, te.start_time, te.end_time, te.duration,
  te.description, te.billable, te.invoice_id, te.created_at, te.updated_at, te.version, te.deleted_at`;

/**
 * A departure (of time_entry_departures, migration 0038, as `alias`) as `te`: the entry's fields before the change that
 * took it away under time_entries' names, so that the filters and the caller's visibility read against them as
 * against an entry, and `updated_at` the time of that change.
 */
const departureAsEntry = (alias: string) => `time_entry_departures ${alias} cross join lateral (select ${alias}.id,
  ${alias}.organization_id, ${alias}.user_id, ${alias}.project_id, ${alias}.start_time, null::timestamptz as end_time,
  null::bigint as duration, ${alias}.description, ${alias}.billable, ${alias}.invoice_id,
  null::timestamptz as created_at, ${alias}.left_at as updated_at, ${alias}.version,
  null::timestamptz as deleted_at) te`;

/**
 * Whether the filter narrows what the caller sees: any field set but the time zone its dates are read in (alone it
 * selects everything) and the instants an export resolved them to.
 */
const narrows = (filter: EntryFilter) =>
  Object.entries(filter).some(
    ([field, value]) => value !== undefined && field !== "timezone" && field !== "resolvedRange",
  );

/**
 * Sync: entries changed after `updatedSince` and before the horizon, oldest change first, on the
 * (organization, [user,] updated_at, id) indexes. The filter narrows the live
 * entries; tombstones (with `includeDeleted`) are every deleted entry the
 * caller could see, since a deleted entry keeps nothing to filter on. Departures (with `includeDepartures`) are the
 * changes (or deletions) in the same window whose entry matched the filter and was visible to the caller before
 * them, and that the feed does not list now (as an entry or a tombstone, whatever its time): the entry left this feed.
 */
export async function listChanges(db: Db, caller: Caller, filter: EntryFilter, page: ChangePageRequest) {
  const changed: SQL[] = [
    sql`te.updated_at > ${page.updatedSince}::timestamptz`,
    // Null, and no change at all, if the horizon was not set.
    sql`te.updated_at < nullif(current_setting('time_entries.sync_horizon', true), '')::timestamptz`,
  ];
  if (page.cursor) {
    changed.push(sql`(te.updated_at, te.id) > (${page.cursor.updatedAt}::timestamptz, ${page.cursor.id}::uuid)`);
  }
  const listed = entryConditions(caller, filter, { includeDeleted: page.includeDeleted });
  const selects = listed.map(
    (conditions) => sql`(select ${sql.raw(changeColumns)}, false as departed from time_entries te
      where ${sql.join([...conditions, ...changed], sql` and `)}
      order by te.updated_at, te.id
      limit ${page.limit + 1})`,
  );
  const departures = page.includeDepartures
    ? entryConditions(caller, filter).flatMap((conditions, branch) => {
        // Owner and admin see every entry of an unnarrowed feed, and with tombstones every deletion: nothing leaves it.
        if (branch === 0 && !narrows(filter) && page.includeDeleted) return [];
        // Inside the subqueries `te` is the entry as it is now (this branch's visibility), or a later departure of
        // it that left this feed too, which tells the same; `d` is the departure.
        const visible = listed[branch];
        if (!visible?.length) throw new Error("entryConditions gave departures a branch the listing lacks");
        const stillListed = sql`not exists (select 1 from time_entries te
          where te.id = d.id and ${sql.join(visible, sql` and `)})`;
        const toldLater = sql`not exists (select 1 from ${sql.raw(departureAsEntry("later"))}
          where later.id = d.id and later.version > d.version and ${sql.join([...conditions, changed[1] as SQL], sql` and `)})`;
        // Nothing at or past the listed entries' (limit + 1)-th can be on the page: without this bound, a page would
        // read every departure up to the horizon whose entry the feed still lists, to find none.
        const beforeBound = sql`(te.updated_at, te.id) < (
          coalesce((select updated_at from changes_bound), 'infinity'),
          coalesce((select id from changes_bound), 'ffffffff-ffff-ffff-ffff-ffffffffffff'))`;
        return [
          sql`(select ${sql.raw(changeColumns)}, true as departed from ${sql.raw(departureAsEntry("d"))}
            where ${sql.join([...conditions, ...changed, beforeBound, stillListed, toldLater], sql` and `)}
            order by te.updated_at, te.id
            limit ${page.limit + 1})`,
        ];
      })
    : [];
  const withDepartures = departures.length
    ? sql`changes as (${sql.join(selects, sql` union all `)}),
      changes_bound as (select updated_at, id from changes order by updated_at, id offset ${page.limit} limit 1),
      page as (select * from changes union all ${sql.join(departures, sql` union all `)})`
    : sql`page as (${sql.join(selects, sql` union all `)})`;
  return withTimeZoneErrors(() =>
    queryOneAfter<EntryPage<TimeEntry | Tombstone | Departure>>(
      db,
      syncHorizon,
      sql`with ${memberCte(caller)},
      ${withDepartures}
      ${entryPageOf({ limit: page.limit, order: "updated_at", entry: changeJson, zone: datesZone(caller, filter) })}`,
    ),
  );
}

export async function getTimeEntry(db: Db, caller: Caller, id: string) {
  return queryOne<{ role: Role | null; entry: TimeEntry | null }>(
    db,
    sql`with ${memberCte(caller)},
    target as (
      select * from time_entries te
      where te.organization_id = ${caller.organizationId}::uuid and te.id = ${id}::uuid and te.deleted_at is null
        and ${visibleTo(caller, "te")}
    )
    select ${callerRole} as role, ${entryOf("target")} as entry`,
  );
}

/** The caller's running entry, if any. */
export async function getCurrentTimeEntry(db: Db, caller: Caller) {
  return queryOne<{ role: Role | null; entry: TimeEntry | null }>(
    db,
    sql`with ${memberCte(caller)},
    target as (
      select * from time_entries te
      where te.organization_id = ${caller.organizationId}::uuid and te.user_id = ${caller.userId}::uuid
        and te.end_time is null and te.deleted_at is null and ${callerIsMember}
    )
    select ${callerRole} as role, ${entryOf("target")} as entry`,
  );
}
