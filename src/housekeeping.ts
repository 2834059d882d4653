import { sql } from "drizzle-orm";
import type { Db } from "./db/client";
import { errorForLog } from "./db/errors";

/** How long a deleted time entry stays as a tombstone for sync clients. */
const TOMBSTONE_DAYS = 30;
/** How long an Idempotency-Key's answer is kept for retries. */
const IDEMPOTENCY_KEY_HOURS = 24;
/** How long webhook events and their deliveries log are kept. */
const WEBHOOK_EVENT_DAYS = 30;

const purges = {
  // With the sync feed's departures, kept as long (a client that has not synced for longer starts over), in the same
  // statement: the tombstones' cascade deletes departures too, and two statements would take their rows in opposite
  // orders at once.
  tombstones: sql`with departures as (
      delete from time_entry_departures where left_at < now() - make_interval(days => ${TOMBSTONE_DAYS})
    )
    delete from time_entries where deleted_at < now() - make_interval(days => ${TOMBSTONE_DAYS})`,
  idempotency_keys: sql`delete from idempotency_keys
    where created_at < now() - make_interval(hours => ${IDEMPOTENCY_KEY_HOURS})`,
  webhook_events: sql`delete from webhook_events
    where created_at < now() - make_interval(days => ${WEBHOOK_EVENT_DAYS})`,
  // No change of the subscriptions' version: drizzle/0017_expired_previous_secrets.sql.
  expired_previous_secrets: sql`update webhook_subscriptions set previous_secret = null, previous_secret_expires_at = null
    where previous_secret_expires_at <= now()`,
};

/**
 * The hourly cron's work: purges tombstones and the sync feed's departures older than 30 days, Idempotency-Key
 * answers older than 24 hours, webhook events (with their deliveries) older than 30 days, and the previous signing
 * secrets whose 24 hours beside a rotated one are over. Each purge is a statement of its own (a cron has no caller waiting on its round trips), so one that
 * fails leaves the others done; it is logged by name, and the run fails after the others.
 */
export async function purgeExpired(db: Db) {
  const entries = Object.entries(purges);
  const results = await Promise.allSettled(entries.map(([, query]) => db.execute(query)));
  const failed = results.flatMap((result, i) =>
    result.status === "rejected" ? [{ purge: entries[i]?.[0], ...errorForLog(result.reason) }] : [],
  );
  for (const failure of failed) {
    console.error(
      JSON.stringify({ level: "error", message: "housekeeping: a purge failed; the others ran", ...failure }),
    );
  }
  if (failed.length > 0) throw new Error(`housekeeping: ${failed.map(({ purge }) => purge).join(", ")} failed`);
}
