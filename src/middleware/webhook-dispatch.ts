import { createMiddleware } from "hono/factory";
import { errorForLog } from "../db/errors";
import { takeDeliveries } from "../db/events";
import type { AppEnv } from "../lib/types";
import { enqueueDeliveries } from "../webhooks/queues";

/**
 * After the response, hands the webhook deliveries the request's statement created to the queue
 * (`ctx.waitUntil`): the request never waits for it. Without a queue binding (Node tests) they stay for the
 * cron's sweep.
 */
export const dispatchWebhooks = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const db = c.get("db");
  const ids = takeDeliveries(db);
  const queue = c.env?.WEBHOOK_DELIVERIES;
  if (ids.length === 0 || !queue) return;
  c.executionCtx.waitUntil(
    enqueueDeliveries(queue, db, ids).catch((error) =>
      console.error(
        JSON.stringify({
          level: "error",
          request_id: c.get("requestId"),
          message: "webhooks: enqueueing failed; the sweep will retry",
          deliveries: ids.length,
          ...errorForLog(error),
        }),
      ),
    ),
  );
});
