import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { deliveriesColumn, type OutboxEvent, outboxCtes, queryWithEvents, tombstoneRows } from "../../db/events";
import {
  callerIsManager,
  callerIsMember,
  callerRole,
  isManager,
  memberCte,
  type Role,
  visibleTo,
} from "../../db/membership";
import { changedFields, withConstraintErrors } from "../../db/query";
import { failedPrecondition, versionMatches } from "../../db/versions";
import type { FailedPrecondition, IfMatch } from "../../lib/conditional";
import { keptColliding } from "../../lib/errors";
import type { Caller } from "../../lib/verify-token";
import { changedEntryRows, entryOf, entryRows, timerRows } from "./entry-json";
import {
  entryWriteErrors,
  inactiveMemberError,
  RUNNING_MEMBER_ACTIVE,
  RUNNING_TIMER_INDEX,
  runningEntryOf,
  timerAlreadyRunning,
  timerStartedMeanwhile,
} from "./time-entries.errors";
import type { CreateTimeEntryBody, TimeEntry, UpdateTimeEntryBody } from "./time-entries.schemas";

// Every function here is one SQL statement, so one round trip: the caller's
// membership, the checks and the write share it. Each returns the caller's
// role (null when not a member) beside the data so handlers can tell 403 from 404.

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

/**
 * The project an entry is put on, locked as the entry's foreign key would lock it, but before the write: a project
 * deleted meanwhile is no project (400 on project_id), never a foreign key violation.
 */
const projectCte = (caller: Caller, projectId: string) =>
  sql`project as (
    select id, hourly_rate from projects
    where organization_id = ${caller.organizationId}::uuid and id = ${projectId}::uuid
    for key share
  )`;

/**
 * The member an entry is recorded for: only owner and admin may name someone else. New hours go to active members
 * only; an edit may keep the entry's own user (`keeping`: the CTE holding the entry) even after they were removed.
 */
const subjectCte = (caller: Caller, userId: string, keeping?: string) =>
  sql`subject as (
    select user_id from organization_members
    where organization_id = ${caller.organizationId}::uuid and user_id = ${userId}::uuid
      and (status = 'active'${keeping ? sql.raw(` or user_id = (select user_id from ${keeping})`) : sql``})
  )`;

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
    select * from time_entries
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
      returning te.*
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
  const events: OutboxEvent[] = [];
  if (stopRunning) {
    events.push({ type: "time_entry.updated", rows: changedEntryRows("running", "stopped") });
    events.push({ type: "timer.stopped", rows: entryRows("stopped") });
  }
  events.push({ type: "time_entry.created", rows: entryRows("inserted") });
  if (running) events.push({ type: "timer.started", rows: entryRows("inserted") });

  const query = sql`with ${sql.join(ctes, sql`, `)},
    inserted as (
      insert into time_entries (organization_id, user_id, project_id, start_time, end_time, description, billable)
      select ${caller.organizationId}::uuid, ${userId}::uuid, ${projectId}::uuid,
        ${body.start_time}::timestamptz, ${body.end_time ?? null}::timestamptz, ${body.description}, ${billable}
      where ${sql.join(gates, sql` and `)}
      ${
        // With stop_running, a timer started after this statement's snapshot is one to stop too: the unique index
        // refuses the insert, and the statement runs again on a snapshot that sees it (alsoRetry below).
        stopRunning
          ? sql``
          : sql`on conflict (organization_id, user_id) where end_time is null and deleted_at is null do nothing`
      }
      returning *
    ),
    ${outboxCtes(caller.organizationId, events)}
    select ${callerRole} as role, ${deliveriesColumn},
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
  const row = await withConstraintErrors(() => queryWithEvents<WriteResult>(db, query, timerStartedMeanwhile), {
    ...entryWriteErrors,
    [RUNNING_MEMBER_ACTIVE]: () => inactiveMemberError(userId === caller.userId, "user_id"),
    // Still racing after the retries: timers keep starting, as statements keep colliding elsewhere (not stored).
    [RUNNING_TIMER_INDEX]: keptColliding,
  });
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
  // Judged on the locked row (t), as the checks are: the table's own row (te) is the statement's snapshot, and a
  // row that a concurrent write changed would be skipped, unseen, when its old version failed the conditions.
  const gates: SQL[] = [
    versionMatches("t.version", ifMatch),
    sql`t.invoice_id is null`,
    sql`(n.end_time is null or n.end_time > n.start_time)`,
    sql`not exists (select 1 from running)`,
  ];
  if (projectId) {
    ctes.push(projectCte(caller, projectId));
    gates.push(sql`exists (select 1 from project)`);
  }
  if (userId) {
    ctes.push(subjectCte(caller, userId, "target"));
    gates.push(sql`exists (select 1 from subject)`);
    if (userId !== caller.userId) gates.push(callerIsManager);
  }

  const events: OutboxEvent[] = [{ type: "time_entry.updated", rows: changedEntryRows("target", "updated") }];
  if (fields.has("end_time")) {
    const transition = changes.end_time === null ? "started" : "stopped";
    events.push({ type: `timer.${transition}`, rows: timerRows("target", "updated", transition) });
  }

  const ok = sql.join(gates, sql` and `);
  const query = sql`with ${sql.join(ctes, sql`, `)},
    updated as (
      update time_entries te set ${sql.join(fields.assignments, sql`, `)}, updated_at = now()
      from target t join next n on n.id = t.id
      where te.organization_id = ${caller.organizationId}::uuid and te.id = t.id and ${ok} and ${fields.differs("t")}
      returning te.*
    ),
    ${fields.answered(ok, "t", "target t, next n")},
    ${outboxCtes(caller.organizationId, events)}
    select ${callerRole} as role, ${deliveriesColumn},
      exists (select 1 from target) as found,
      ${failedPrecondition("target", ifMatch)} as precondition_failed,
      coalesce((select invoice_id is not null from target), false) as locked,
      coalesce((select end_time is null or end_time > start_time from next), true) as times_valid,
      ${projectId ? sql`exists (select 1 from project)` : sql`true`} as project_found,
      ${userId ? sql`exists (select 1 from subject)` : sql`true`} as subject_found,
      (select id from running limit 1) as running_entry_id,
      ${entryOf("answered")} as entry`;
  return withConstraintErrors(
    () =>
      queryWithEvents<
        WriteResult & {
          found: boolean;
          precondition_failed: FailedPrecondition | null;
          locked: boolean;
          times_valid: boolean;
        }
      >(db, query),
    {
      ...entryWriteErrors,
      // The entry's user was removed meanwhile (or before, for an entry made to run again).
      [RUNNING_MEMBER_ACTIVE]: () => inactiveMemberError(false, userId ? "user_id" : "end_time"),
      // A timer started after this statement's snapshot: the one of the user the entry was to run for.
      [RUNNING_TIMER_INDEX]: async () => {
        const owner = userId ?? sql`(select user_id from time_entries where id = ${id}::uuid)`;
        return timerAlreadyRunning(await runningEntryOf(db, caller.organizationId, owner));
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
  return queryWithEvents<{
    role: Role | null;
    found: boolean;
    precondition_failed: FailedPrecondition | null;
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
      where te.id = t.id and te.organization_id = ${caller.organizationId}::uuid and t.invoice_id is null
        and ${versionMatches("t.version", ifMatch)}
      returning te.id, te.version, te.deleted_at
    ),
    ${outboxCtes(caller.organizationId, [{ type: "time_entry.deleted", rows: tombstoneRows("deleted") }])}
    select ${callerRole} as role, ${deliveriesColumn},
      exists (select 1 from target) as found,
      ${failedPrecondition("target", ifMatch)} as precondition_failed,
      coalesce((select invoice_id is not null from target), false) as locked,
      exists (select 1 from deleted) as deleted`,
  );
}
