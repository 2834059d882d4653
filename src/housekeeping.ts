import { sql } from "drizzle-orm";
import type { Db } from "./db/client";

/** How long a deleted time entry stays as a tombstone for sync clients. */
const TOMBSTONE_DAYS = 30;
/** How long an Idempotency-Key's answer is kept for retries. */
const IDEMPOTENCY_KEY_HOURS = 24;

/**
 * The scheduled handler's work, in one round trip: purges tombstones older than
 * 30 days and Idempotency-Key answers older than 24 hours.
 */
export function purgeExpired(db: Db) {
  return db.batch([
    db.execute(sql`delete from time_entries
      where deleted_at < now() - make_interval(days => ${TOMBSTONE_DAYS})`),
    db.execute(sql`delete from idempotency_keys
      where created_at < now() - make_interval(hours => ${IDEMPOTENCY_KEY_HOURS})`),
  ]);
}
