import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type PostgresError, postgresErrorOf } from "../../db/errors";
import {
  callerIsManager,
  callerIsMember,
  callerRole,
  isManager,
  memberCte,
  type Role,
  requireMember,
  visibleTo,
} from "../../db/membership";
import { changedFields, queryOne, withConstraintErrors } from "../../db/query";
import { containsPattern, isoUtcText } from "../../db/sql-fragments";
import { failsIfMatch, versionMatches } from "../../db/versions";
import type { IfMatch } from "../../lib/conditional";
import { ApiError, invalidField } from "../../lib/errors";
import type { Caller } from "../../lib/verify-token";
import type {
  CreateTimeEntryBody,
  EntryFilterQuery,
  StopTimeEntryBody,
  TimeEntry,
  Tombstone,
  UpdateTimeEntryBody,
} from "./time-entries.schemas";

// Every function here is one SQL statement, so one round trip: the caller's
// membership, the checks and the write share it. Each returns the caller's
// role (null when not a member) beside the data so handlers can tell 403 from 404.

const RUNNING_TIMER_INDEX = "time_entries_one_running_timer_idx";

const entryJson = sql.raw(`json_build_object(
  'id', te.id,
  'organization_id', te.organization_id,
  'user_id', te.user_id,
  'project_id', te.project_id,
  'start_time', ${isoUtcText("te.start_time")},
  'end_time', ${isoUtcText("te.end_time")},
  'duration', te.duration,
  'description', te.description,
  'billable', te.billable,
  'invoice_id', te.invoice_id,
  'created_at', ${isoUtcText("te.created_at")},
  'updated_at', ${isoUtcText("te.updated_at")},
  'version', te.version,
  'user', json_build_object('id', u.id, 'full_name', u.full_name, 'email', u.email, 'avatar_url', u.avatar_url),
  'project', case when p.id is null then null else json_build_object(
    'id', p.id,
    'name', p.name,
    'customer_id', p.customer_id,
    'hourly_rate', p.hourly_rate,
    'currency', p.currency,
    'customer', case when c.id is null then null else json_build_object('id', c.id, 'name', c.name) end
  ) end,
  'invoice', case when i.id is null then null else json_build_object(
    'id', i.id, 'number', i.number, 'status', i.status, 'date', i.date, 'due_date', i.due_date
  ) end
)`);

const tombstoneOrEntryJson = sql`case when te.deleted_at is null then ${entryJson}
  else json_build_object('id', te.id, 'deleted_at', ${sql.raw(isoUtcText("te.deleted_at"))}) end`;

/** Entries of `source` (a table or CTE aliased `te`) with their user, project, customer and invoice. */
export const withRelations = (source: string, entry: SQL = entryJson) =>
  sql`select te.start_time, te.updated_at, te.id, ${entry} as entry
  from ${sql.raw(source)} te
  join users u on u.id = te.user_id
  left join projects p on p.organization_id = te.organization_id and p.id = te.project_id
  left join customers c on c.organization_id = p.organization_id and c.id = p.customer_id
  left join invoices i on i.organization_id = te.organization_id and i.id = te.invoice_id`;

const entryOf = (source: string) => sql`(select x.entry from (${withRelations(source)}) x)`;

/** Which live entries a read asks for; built from the query string by `entryFilterOf`. */
export type EntryFilter = {
  /** Calendar dates in `timezone`, both inclusive. */
  startDate?: string;
  endDate?: string;
  /** An IANA name; Postgres refuses one it does not know (see `withTimeZoneErrors`). */
  timezone: string;
  q?: string;
  projectId?: string;
  customerId?: string;
  billable?: boolean;
  invoiced?: boolean;
  /** A user id; undefined for everything the caller may see. */
  userId?: string;
};

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
  options: { includeDeleted?: boolean } = {},
): SQL[][] {
  const conditions: SQL[] = [sql`te.deleted_at is null`];
  const tz = sql`${filter.timezone}::text`;
  // The bounds are the instants local midnight falls at in `timezone`, daylight saving time included.
  if (filter.startDate)
    conditions.push(sql`te.start_time >= ((${filter.startDate}::date)::timestamp at time zone ${tz})`);
  if (filter.endDate) {
    conditions.push(sql`te.start_time < ((${filter.endDate}::date + 1)::timestamp at time zone ${tz})`);
  }
  if (filter.q) conditions.push(sql`te.description ilike ${containsPattern(filter.q)}`);
  if (filter.projectId) conditions.push(sql`te.project_id = ${filter.projectId}::uuid`);
  if (filter.customerId) {
    conditions.push(sql`te.project_id in (
      select p.id from projects p
      where p.organization_id = ${caller.organizationId}::uuid and p.customer_id = ${filter.customerId}::uuid
    )`);
  }
  if (filter.billable !== undefined) conditions.push(sql`te.billable = ${filter.billable}::boolean`);
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
  return branches.map((visibility) => [
    sql`te.organization_id = ${caller.organizationId}::uuid`,
    ...live,
    ...visibility,
  ]);
}

/** A time zone name Intl knows but this Postgres does not is the client's error, named as such. */
export async function withTimeZoneErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const postgresError = postgresErrorOf(error);
    if (postgresError?.code === "22023" && /time zone/.test(postgresError.message)) {
      throw invalidField("timezone", "Unknown time zone");
    }
    throw error;
  }
}

export type PageRequest = { cursor?: { startTime: string; id: string }; limit: number };

export async function listTimeEntries(db: Db, caller: Caller, filter: EntryFilter, page: PageRequest) {
  const after = page.cursor
    ? [sql`(te.start_time, te.id) < (${page.cursor.startTime}::timestamptz, ${page.cursor.id}::uuid)`]
    : [];
  const pageSize = page.limit + 1; // one more than asked tells whether another page follows
  const selects = entryConditions(caller, filter).map(
    (conditions) => sql`(select te.* from time_entries te
      where ${sql.join([...conditions, ...after], sql` and `)}
      order by te.start_time desc, te.id desc
      limit ${pageSize})`,
  );

  return withTimeZoneErrors(() =>
    queryOne<{ role: Role | null; entries: TimeEntry[] }>(
      db,
      sql`with ${memberCte(caller)},
      page as (${sql.join(selects, sql` union all `)})
      select ${callerRole} as role,
        coalesce(
          (select json_agg(x.entry order by x.start_time desc, x.id desc) from (${withRelations("page")}) x),
          '[]'::json
        ) as entries`,
    ),
  );
}

export type ChangePageRequest = {
  updatedSince: string;
  cursor?: { updatedAt: string; id: string };
  limit: number;
  includeDeleted: boolean;
};

/**
 * Sync: entries changed after `updatedSince`, oldest change first, on the
 * (organization, [user,] updated_at, id) indexes. The filter narrows the live
 * entries; tombstones (with `includeDeleted`) are every deleted entry the
 * caller could see, since a deleted entry keeps nothing to filter on.
 */
export async function listChanges(db: Db, caller: Caller, filter: EntryFilter, page: ChangePageRequest) {
  const changed: SQL[] = [sql`te.updated_at > ${page.updatedSince}::timestamptz`];
  if (page.cursor) {
    changed.push(sql`(te.updated_at, te.id) > (${page.cursor.updatedAt}::timestamptz, ${page.cursor.id}::uuid)`);
  }
  const selects = entryConditions(caller, filter, { includeDeleted: page.includeDeleted }).map(
    (conditions) => sql`(select te.* from time_entries te
      where ${sql.join([...conditions, ...changed], sql` and `)}
      order by te.updated_at, te.id
      limit ${page.limit + 1})`,
  );
  return withTimeZoneErrors(() =>
    queryOne<{ role: Role | null; entries: (TimeEntry | Tombstone)[] }>(
      db,
      sql`with ${memberCte(caller)},
      page as (${sql.join(selects, sql` union all `)})
      select ${callerRole} as role,
        coalesce(
          (select json_agg(x.entry order by x.updated_at, x.id) from (${withRelations("page", tombstoneOrEntryJson)}) x),
          '[]'::json
        ) as entries`,
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

type WriteResult = {
  role: Role | null;
  entry: TimeEntry | null;
  /** False when a project_id was given that is not a project of the organization. */
  project_found: boolean;
  /** False when a user_id was given that is not a member of the organization. */
  subject_found: boolean;
  /** The other running entry that blocks this write, if any. */
  running_entry_id: string | null;
};

const projectCte = (caller: Caller, projectId: string) =>
  sql`project as (
    select id, hourly_rate from projects
    where organization_id = ${caller.organizationId}::uuid and id = ${projectId}::uuid
  )`;

/** The member an entry is recorded for: only owner and admin may name someone else. */
const subjectCte = (caller: Caller, userId: string) =>
  sql`subject as (
    select user_id from organization_members
    where organization_id = ${caller.organizationId}::uuid and user_id = ${userId}::uuid
  )`;

/** A time entry write refused by the overlap trigger (organizations.prevent_overlaps). */
const overlapErrors = {
  time_entries_no_overlap: (error: PostgresError) =>
    new ApiError("OVERLAP", "The time entry would overlap another entry of the same user", {
      overlapping_entry_id: error.detail ?? null,
    }),
};

export async function createTimeEntry(db: Db, caller: Caller, body: CreateTimeEntryBody) {
  const projectId = body.project_id ?? null;
  const userId = body.user_id?.toLowerCase() ?? caller.userId;
  const running = body.end_time == null;
  const ctes: SQL[] = [memberCte(caller), subjectCte(caller, userId)];
  const gates: SQL[] = [callerIsMember, sql`exists (select 1 from subject)`];
  if (userId !== caller.userId) gates.push(callerIsManager);
  if (projectId) {
    ctes.push(projectCte(caller, projectId));
    gates.push(sql`exists (select 1 from project)`);
  }
  const stopRunning = running && body.stop_running === true;
  ctes.push(sql`running as (
    select id, start_time from time_entries
    where organization_id = ${caller.organizationId}::uuid and user_id = ${userId}::uuid and end_time is null
      and deleted_at is null
    ${stopRunning ? sql`for update` : sql``}
  )`);
  if (stopRunning) {
    // Stops the running timer at the new start_time, only when every other check
    // passes and only when that leaves it with a positive duration. The insert
    // reads `stopped`, so the stop is done before the new timer takes its place.
    ctes.push(sql`stopped as (
      update time_entries te set end_time = ${body.start_time}::timestamptz, updated_at = now()
      from running r
      where te.organization_id = ${caller.organizationId}::uuid and te.id = r.id
        and r.start_time < ${body.start_time}::timestamptz and ${sql.join(gates, sql` and `)}
      returning te.id
    )`);
    gates.push(sql`(select count(*) from running) = (select count(*) from stopped)`);
  } else if (running) {
    gates.push(sql`not exists (select 1 from running)`);
  }

  const billable =
    body.billable !== undefined
      ? sql`${body.billable}::boolean`
      : projectId
        ? sql`coalesce((select hourly_rate is not null from project), false)`
        : sql`false`;

  const query = sql`with ${sql.join(ctes, sql`, `)},
    inserted as (
      insert into time_entries (organization_id, user_id, project_id, start_time, end_time, description, billable)
      select ${caller.organizationId}::uuid, ${userId}::uuid, ${projectId}::uuid,
        ${body.start_time}::timestamptz, ${body.end_time ?? null}::timestamptz, ${body.description}, ${billable}
      where ${sql.join(gates, sql` and `)}
      on conflict (organization_id, user_id) where end_time is null and deleted_at is null do nothing
      returning *
    )
    select ${callerRole} as role,
      ${projectId ? sql`exists (select 1 from project)` : sql`true`} as project_found,
      exists (select 1 from subject) as subject_found,
      ${
        stopRunning
          ? sql`(select r.id from running r where r.id not in (select id from stopped))`
          : running
            ? sql`(select id from running)`
            : sql`null::uuid`
      } as running_entry_id,
      ${entryOf("inserted")} as entry`;
  const row = await withConstraintErrors(() => queryOne<WriteResult>(db, query), overlapErrors);
  const allowed = row.role && (userId === caller.userId || isManager(row.role));
  if (running && allowed && row.project_found && row.subject_found && !row.entry && !row.running_entry_id) {
    // Skipped by ON CONFLICT: a timer started concurrently, after this statement's snapshot.
    throw timerAlreadyRunning(await runningEntryOf(db, caller.organizationId, userId));
  }
  return row;
}

export const columnTypes = {
  user_id: "uuid",
  project_id: "uuid",
  start_time: "timestamptz",
  end_time: "timestamptz",
  description: "text",
  billable: "boolean",
} as const satisfies Record<keyof UpdateTimeEntryBody, string>;

export async function updateTimeEntry(
  db: Db,
  caller: Caller,
  id: string,
  changes: UpdateTimeEntryBody,
  ifMatch?: IfMatch,
) {
  const fields = changedFields(changes, columnTypes);
  const merged = (key: "start_time" | "end_time" | "user_id") =>
    fields.has(key) ? fields.value(key) : sql.raw(`t.${key}`);
  const projectId = changes.project_id;
  const userId = changes.user_id?.toLowerCase();

  const ctes: SQL[] = [
    memberCte(caller),
    // Locked, so that the checks below see the row as the write will find it.
    sql`target as (
      select te.* from time_entries te
      where te.organization_id = ${caller.organizationId}::uuid and te.id = ${id}::uuid and te.deleted_at is null
        and ${visibleTo(caller, "te")}
      for update
    )`,
    sql`next as (
      select t.id, ${merged("user_id")} as user_id, ${merged("start_time")} as start_time, ${merged("end_time")} as end_time
      from target t
    )`,
    sql`running as (
      select r.id from time_entries r join next n on r.user_id = n.user_id
      where r.organization_id = ${caller.organizationId}::uuid and r.end_time is null and r.deleted_at is null
        and r.id <> n.id
        and n.end_time is null
    )`,
  ];
  const gates: SQL[] = [
    versionMatches("te.version", ifMatch),
    sql`te.invoice_id is null`,
    sql`(n.end_time is null or n.end_time > n.start_time)`,
    sql`not exists (select 1 from running)`,
  ];
  if (projectId) {
    ctes.push(projectCte(caller, projectId));
    gates.push(sql`exists (select 1 from project)`);
  }
  if (userId) {
    ctes.push(subjectCte(caller, userId));
    gates.push(sql`exists (select 1 from subject)`);
    if (userId !== caller.userId) gates.push(callerIsManager);
  }

  const query = sql`with ${sql.join(ctes, sql`, `)},
    updated as (
      update time_entries te set ${sql.join(fields.assignments, sql`, `)}, updated_at = now()
      from next n
      where te.organization_id = ${caller.organizationId}::uuid and te.id = n.id and ${sql.join(gates, sql` and `)}
      returning te.*
    )
    select ${callerRole} as role,
      exists (select 1 from target) as found,
      ${failsIfMatch("target", ifMatch)} as precondition_failed,
      coalesce((select invoice_id is not null from target), false) as locked,
      coalesce((select end_time is null or end_time > start_time from next), true) as times_valid,
      ${projectId ? sql`exists (select 1 from project)` : sql`true`} as project_found,
      ${userId ? sql`exists (select 1 from subject)` : sql`true`} as subject_found,
      (select id from running limit 1) as running_entry_id,
      ${entryOf("updated")} as entry`;
  return withConstraintErrors(
    () =>
      queryOne<WriteResult & { found: boolean; precondition_failed: boolean; locked: boolean; times_valid: boolean }>(
        db,
        query,
      ),
    {
      ...overlapErrors,
      // A timer started concurrently, after this statement's snapshot; the unique index refused ours.
      [RUNNING_TIMER_INDEX]: async () => {
        const userId = sql`(select user_id from time_entries where id = ${id}::uuid)`;
        return timerAlreadyRunning(await runningEntryOf(db, caller.organizationId, userId));
      },
    },
  );
}

/**
 * The SET list of a delete. A tombstone for sync clients: hidden everywhere else, purged after 30 days. It lets go
 * of its project so that the project can be deleted; the tombstone only tells that the entry is gone.
 */
export const tombstone = sql`deleted_at = now(), updated_at = now(), project_id = null`;

export async function deleteTimeEntry(db: Db, caller: Caller, id: string, ifMatch?: IfMatch) {
  return queryOne<{
    role: Role | null;
    found: boolean;
    precondition_failed: boolean;
    locked: boolean;
    deleted: boolean;
  }>(
    db,
    sql`with ${memberCte(caller)},
    target as (
      select te.id, te.invoice_id, te.version from time_entries te
      where te.organization_id = ${caller.organizationId}::uuid and te.id = ${id}::uuid and te.deleted_at is null
        and ${visibleTo(caller, "te")}
      for update
    ),
    deleted as (
      update time_entries te set ${tombstone}
      from target t
      where te.id = t.id and te.organization_id = ${caller.organizationId}::uuid and te.invoice_id is null
        and ${versionMatches("te.version", ifMatch)}
      returning te.id
    )
    select ${callerRole} as role,
      exists (select 1 from target) as found,
      ${failsIfMatch("target", ifMatch)} as precondition_failed,
      coalesce((select invoice_id is not null from target), false) as locked,
      exists (select 1 from deleted) as deleted`,
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

/** Sets end_time of a running entry to `body.end_time`, or to now. */
export async function stopTimeEntry(db: Db, caller: Caller, id: string, body: StopTimeEntryBody) {
  const endTime = body.end_time ? sql`${body.end_time}::timestamptz` : sql`now()`;
  const query = sql`with ${memberCte(caller)},
    target as (
      select te.* from time_entries te
      where te.organization_id = ${caller.organizationId}::uuid and te.id = ${id}::uuid and te.deleted_at is null
        and ${visibleTo(caller, "te")}
      for update
    ),
    updated as (
      update time_entries te set end_time = ${endTime}, updated_at = now()
      from target t
      where te.organization_id = ${caller.organizationId}::uuid and te.id = t.id
        and t.invoice_id is null and t.end_time is null and ${endTime} > t.start_time
      returning te.*
    )
    select ${callerRole} as role,
      exists (select 1 from target) as found,
      coalesce((select invoice_id is not null from target), false) as locked,
      coalesce((select end_time is null from target), false) as running,
      coalesce((select ${endTime} > start_time from target), false) as times_valid,
      ${entryOf("updated")} as entry`;
  type StopResult = {
    role: Role | null;
    found: boolean;
    locked: boolean;
    running: boolean;
    times_valid: boolean;
    entry: TimeEntry | null;
  };
  return withConstraintErrors(() => queryOne<StopResult>(db, query), overlapErrors);
}

/** Starts a new running entry for the caller now, copying project, description and billable of entry `id`. */
export async function restartTimeEntry(db: Db, caller: Caller, id: string) {
  type RestartResult = {
    role: Role | null;
    found: boolean;
    running_entry_id: string | null;
    entry: TimeEntry | null;
  };
  const row = await withConstraintErrors(
    () =>
      queryOne<RestartResult>(
        db,
        sql`with ${memberCte(caller)},
    source as (
      select te.project_id, te.description, te.billable from time_entries te
      where te.organization_id = ${caller.organizationId}::uuid and te.id = ${id}::uuid and te.deleted_at is null
        and ${visibleTo(caller, "te")}
    ),
    running as (
      select id from time_entries
      where organization_id = ${caller.organizationId}::uuid and user_id = ${caller.userId}::uuid and end_time is null
        and deleted_at is null
    ),
    inserted as (
      insert into time_entries (organization_id, user_id, project_id, start_time, end_time, description, billable)
      select ${caller.organizationId}::uuid, ${caller.userId}::uuid, s.project_id, now(), null, s.description, s.billable
      from source s
      where ${callerIsMember} and not exists (select 1 from running)
      on conflict (organization_id, user_id) where end_time is null and deleted_at is null do nothing
      returning *
    )
    select ${callerRole} as role,
      exists (select 1 from source) as found,
      (select id from running) as running_entry_id,
      ${entryOf("inserted")} as entry`,
      ),
    overlapErrors,
  );
  if (row.role && row.found && !row.entry && !row.running_entry_id) {
    // Skipped by ON CONFLICT: a timer started concurrently, after this statement's snapshot.
    throw timerAlreadyRunning(await runningEntryOf(db, caller.organizationId, caller.userId));
  }
  return row;
}

export const timerAlreadyRunning = (runningEntryId: string | null) =>
  new ApiError("TIMER_ALREADY_RUNNING", "A timer is already running for this user; stop it first", {
    running_entry_id: runningEntryId,
  });

/** The running entry of `userId`, for the rare answer to a timer started concurrently. */
async function runningEntryOf(db: Db, organizationId: string, userId: SQL | string) {
  const row = await queryOne<{ id: string } | undefined>(
    db,
    sql`select id from time_entries
    where organization_id = ${organizationId}::uuid and user_id = ${userId}::uuid and end_time is null
      and deleted_at is null`,
  );
  return row?.id ?? null;
}
