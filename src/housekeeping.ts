import { sql } from "drizzle-orm";
import type { Db } from "./db/client";

/** How long a deleted time entry stays as a tombstone for sync clients. */
const TOMBSTONE_DAYS = 30;
/** How long an Idempotency-Key's answer is kept for retries. */
const IDEMPOTENCY_KEY_HOURS = 24;
/** How long webhook events and their deliveries log are kept. */
const WEBHOOK_EVENT_DAYS = 30;

/**
 * The scheduled handler's work, in one round trip: purges tombstones older than
 * 30 days, Idempotency-Key answers older than 24 hours, webhook events (with
 * their deliveries) older than 30 days, and the previous signing secrets whose
 * 24 hours beside a rotated one are over (no change of their subscriptions'
 * version: drizzle/0017_expired_previous_secrets.sql).
 */
export function purgeExpired(db: Db) {
  return db.batch([
    db.execute(sql`delete from time_entries
      where deleted_at < now() - make_interval(days => ${TOMBSTONE_DAYS})`),
    db.execute(sql`delete from idempotency_keys
      where created_at < now() - make_interval(hours => ${IDEMPOTENCY_KEY_HOURS})`),
    db.execute(sql`delete from webhook_events
      where created_at < now() - make_interval(days => ${WEBHOOK_EVENT_DAYS})`),
    db.execute(sql`update webhook_subscriptions set previous_secret = null, previous_secret_expires_at = null
      where previous_secret_expires_at <= now()`),
  ]);
}
