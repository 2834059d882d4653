import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import type { PostgresError } from "../../db/errors";
import { queryOne } from "../../db/query";
import { ApiError } from "../../lib/errors";

export const RUNNING_TIMER_INDEX = "time_entries_one_running_timer_idx";

/** A time entry write refused by the overlap trigger (organizations.prevent_overlaps). */
export const overlapErrors = {
  time_entries_no_overlap: (error: PostgresError) =>
    new ApiError("OVERLAP", "The time entry would overlap another entry of the same user", {
      overlapping_entry_id: error.detail ?? null,
    }),
};

export const timerAlreadyRunning = (runningEntryId: string | null) =>
  new ApiError("TIMER_ALREADY_RUNNING", "A timer is already running for this user; stop it first", {
    running_entry_id: runningEntryId,
  });

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
