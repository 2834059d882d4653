import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { isoUtcText } from "../db/sql-fragments";

/**
 * What the webhook queues carry: one delivery (an event for one subscription), read afresh by the consumer, and
 * the `requested_at` of the send it stands for. A manual retry requests the delivery anew (a new `requested_at`):
 * the messages of an earlier schedule still on the queue are then acknowledged without a request, so that they
 * neither send it twice nor dead-letter the new schedule. Messages without it (sent before it existed) match any.
 */
export type DeliveryMessage = { delivery_id: string; requested_at?: string };

/** SQL text of a delivery's `requested_at` to the microsecond, as messages carry it: UTC, ISO 8601. */
export const requestedAtText = (column: string) => isoUtcText(column, "US");

/** SQL: the deliveries of `messages` (a JSON array of DeliveryMessage) as rows `r(delivery_id uuid, requested_at)`. */
export const messageRows = (messages: DeliveryMessage[]) =>
  sql`json_to_recordset(${JSON.stringify(messages)}::json) as r(delivery_id uuid, requested_at timestamptz)`;

/** The queue names of wrangler.toml: the consumer tells the dead-letter queue's batches by its name. */
export const DELIVERY_QUEUE = "time-entries-webhooks";
export const DEAD_LETTER_QUEUE = "time-entries-webhooks-dead";

/** Queues takes at most 100 messages per sendBatch. */
const BATCH_LIMIT = 100;

/**
 * Hands deliveries to the queue, then notes that they were (one statement; a delivery requested anew meanwhile
 * stays unnoted, for the sweep). If the Worker stops in between, the cron's sweep enqueues them again a minute
 * later: a receiver may see a message twice, never zero times.
 */
export async function enqueueDeliveries(queue: Queue<DeliveryMessage>, db: Db, messages: DeliveryMessage[]) {
  for (let start = 0; start < messages.length; start += BATCH_LIMIT) {
    await queue.sendBatch(messages.slice(start, start + BATCH_LIMIT).map((body) => ({ body })));
  }
  await db.execute(sql`update webhook_deliveries d set enqueued_at = now() from ${messageRows(messages)}
    where d.id = r.delivery_id and (r.requested_at is null or d.requested_at = r.requested_at)`);
}
