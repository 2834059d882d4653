import type { Db } from "../db/client";
import { lostDeliveries } from "./delivery.queries";
import { type DeliveryMessage, enqueueDeliveries } from "./queues";

/** wrangler.toml's cron for the sweep; the other trigger purges (src/housekeeping.ts). */
export const SWEEP_CRON = "* * * * *";

/** How many lost deliveries one sweep enqueues at most; the next minute's takes the rest. */
const SWEEP_LIMIT = 1000;

/**
 * Enqueues the deliveries whose enqueue was lost (the Worker stopped between the commit and the queue, or the
 * queue refused): those still not enqueued a minute after they were requested, and those the queues let go while
 * still pending a week after their enqueue (lostDeliveries). Each starts a new run of attempts.
 */
export async function sweepLostDeliveries(db: Db, queue: Queue<DeliveryMessage> | undefined) {
  if (!queue) return 0;
  const lost = await lostDeliveries(db, SWEEP_LIMIT);
  if (lost.length > 0) await enqueueDeliveries(queue, db, lost);
  return lost.length;
}
