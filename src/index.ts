import app from "./app";
import { createDb } from "./db/client";
import { purgeExpired } from "./housekeeping";
import { readBackgroundConfig } from "./lib/config";
import type { Bindings } from "./lib/types";
import { consumeWebhooks } from "./webhooks/consumer";
import type { DeliveryMessage } from "./webhooks/queues";
import { SWEEP_CRON, sweepLostDeliveries } from "./webhooks/sweeper";

export default {
  fetch: app.fetch,
  /** wrangler.toml's crons: every minute, the webhook deliveries whose enqueue was lost; hourly, housekeeping. */
  async scheduled(controller, env, ctx) {
    const { databaseUrl, sqlHttpEndpoint } = readBackgroundConfig(env);
    const db = createDb(databaseUrl, sqlHttpEndpoint);
    ctx.waitUntil(controller.cron === SWEEP_CRON ? sweepLostDeliveries(db, env.WEBHOOK_DELIVERIES) : purgeExpired(db));
  },
  /** wrangler.toml's queue consumers: webhook deliveries and their dead letters. */
  async queue(batch, env) {
    await consumeWebhooks(batch, env);
  },
} satisfies ExportedHandler<Bindings, DeliveryMessage>;
