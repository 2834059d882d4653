import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { deliveriesColumn, outboxCtes, queryWithEvents } from "../../db/events";
import { callerIsMember, callerRole, memberCte, type Role, visibleTo } from "../../db/membership";
import { withConstraintErrors } from "../../db/query";
import { failedPrecondition, versionMatches } from "../../db/versions";
import type { FailedPrecondition, IfMatch } from "../../lib/conditional";
import type { Caller } from "../../lib/verify-token";
import { changedEntryRows, entryOf, entryRows } from "./entry-json";
import {
  entryWriteErrors,
  inactiveMemberError,
  RUNNING_MEMBER_ACTIVE,
  RUNNING_TIMER_INDEX,
  runningEntryOf,
  timerAlreadyRunning,
} from "./time-entries.errors";
import type { StopTimeEntryBody, TimeEntry } from "./time-entries.schemas";

/** Sets end_time of a running entry to `body.end_time`, or to now. */
export async function stopTimeEntry(db: Db, caller: Caller, id: string, body: StopTimeEntryBody, ifMatch?: IfMatch) {
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
        and ${versionMatches("t.version", ifMatch)}
      returning te.*
    ),
    ${outboxCtes(caller.organizationId, [
      { type: "time_entry.updated", rows: changedEntryRows("target", "updated") },
      { type: "timer.stopped", rows: entryRows("updated") },
    ])}
    select ${callerRole} as role, ${deliveriesColumn},
      exists (select 1 from target) as found,
      coalesce((select invoice_id is not null from target), false) as locked,
      coalesce((select end_time is null from target), false) as running,
      coalesce((select ${endTime} > start_time from target), false) as times_valid,
      ${failedPrecondition("target", ifMatch)} as precondition_failed,
      ${entryOf("updated")} as entry`;
  type StopResult = {
    role: Role | null;
    found: boolean;
    locked: boolean;
    running: boolean;
    times_valid: boolean;
    precondition_failed: FailedPrecondition | null;
    entry: TimeEntry | null;
  };
  return withConstraintErrors(() => queryWithEvents<StopResult>(db, query), entryWriteErrors);
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
      queryWithEvents<RestartResult>(
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
    ),
    ${outboxCtes(caller.organizationId, [
      { type: "time_entry.created", rows: entryRows("inserted") },
      { type: "timer.started", rows: entryRows("inserted") },
    ])}
    select ${callerRole} as role, ${deliveriesColumn},
      exists (select 1 from source) as found,
      (select id from running) as running_entry_id,
      ${entryOf("inserted")} as entry`,
      ),
    {
      ...entryWriteErrors,
      // The caller was removed while this request ran.
      [RUNNING_MEMBER_ACTIVE]: () => inactiveMemberError(true, "user_id"),
      // A timer started after this statement's snapshot, met by the overlap trigger before ON CONFLICT could skip.
      [RUNNING_TIMER_INDEX]: async () =>
        timerAlreadyRunning(await runningEntryOf(db, caller.organizationId, caller.userId)),
    },
  );
  if (row.role && row.found && !row.entry && !row.running_entry_id) {
    // Skipped by ON CONFLICT: a timer started concurrently, after this statement's snapshot.
    throw timerAlreadyRunning(await runningEntryOf(db, caller.organizationId, caller.userId));
  }
  return row;
}
