import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { uuidArray } from "../db/sql-fragments";

/** What the webhook queues carry: one delivery (an event for one subscription), read afresh by the consumer. */
export type DeliveryMessage = { delivery_id: string };

/** The queue names of wrangler.toml: the consumer tells the dead-letter queue's batches by its name. */
export const DELIVERY_QUEUE = "time-entries-webhooks";
export const DEAD_LETTER_QUEUE = "time-entries-webhooks-dead";

/** Queues takes at most 100 messages per sendBatch. */
const BATCH_LIMIT = 100;

/**
 * Hands deliveries to the queue, then notes that they were (one statement). If the Worker stops in between, the
 * cron's sweep enqueues them again a minute later: a receiver may see a message twice, never zero times.
 */
export async function enqueueDeliveries(queue: Queue<DeliveryMessage>, db: Db, ids: string[]) {
  for (let start = 0; start < ids.length; start += BATCH_LIMIT) {
    const messages = ids.slice(start, start + BATCH_LIMIT).map((id) => ({ body: { delivery_id: id } }));
    await queue.sendBatch(messages);
  }
  await db.execute(sql`update webhook_deliveries set enqueued_at = now() where id = any(${uuidArray(ids)})`);
}
