import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import type { PostgresError } from "../../db/errors";
import { notAMember } from "../../db/membership";
import { queryOne } from "../../db/query";
import { ApiError, invalidField } from "../../lib/errors";

export const RUNNING_TIMER_INDEX = "time_entries_one_running_timer_idx";
/** A timer another request started after this statement's snapshot: a statement run again sees it. */
export const timerStartedMeanwhile = (error: PostgresError) =>
  error.code === "23505" && error.constraint === RUNNING_TIMER_INDEX;

/** A time entry write refused by the overlap trigger (organizations.prevent_overlaps). */
export const overlapErrors = {
  time_entries_no_overlap: (error: PostgresError) =>
    new ApiError("OVERLAP", "The time entry would overlap another entry of the same user", {
      overlapping_entry_id: error.detail ?? null,
    }),
};

/** A write that would put new time on an inactive project, refused by its trigger (drizzle/0021). */
export const inactiveProjectErrors = {
  time_entries_project_active: (error: PostgresError) =>
    new ApiError("PROJECT_INACTIVE", "The project is inactive and takes no new time; reactivate it first", {
      project_id: error.detail ?? null,
    }),
};

/** What a write that puts an entry on a project may be refused with by the database. */
export const entryWriteErrors = { ...overlapErrors, ...inactiveProjectErrors };

export const timerAlreadyRunning = (runningEntryId: string | null, stopRunning = false) =>
  new ApiError(
    "TIMER_ALREADY_RUNNING",
    stopRunning
      ? "The running timer of this user started at or after this start_time: stop_running cannot stop it there"
      : "A timer is already running for this user; stop it first",
    { running_entry_id: runningEntryId },
  );

/** The running entry of `userId`, for the rare answer to a timer started concurrently. */
export async function runningEntryOf(db: Db, organizationId: string, userId: SQL | string) {
  const row = await queryOne<{ id: string } | undefined>(
    db,
    sql`select id from time_entries
    where organization_id = ${organizationId}::uuid and user_id = ${userId}::uuid and end_time is null
      and deleted_at is null`,
  );
  return row?.id ?? null;
}

/** The trigger that keeps timers to active members (drizzle/0010): raised when a member was removed meanwhile. */
export const RUNNING_MEMBER_ACTIVE = "time_entries_running_member_active";

/**
 * A timer refused because its user is no longer an active member (removed while the request ran): the caller's own
 * timer is 403 as any request of a removed member is; someone else's names `field`.
 */
export const inactiveMemberError = (ownTimer: boolean, field: "user_id" | "end_time") =>
  ownTimer
    ? notAMember()
    : invalidField(
        field,
        field === "user_id"
          ? "No such member in this organization"
          : "The entry's user is no longer a member of this organization; no timer can run for them",
      );
