import { createDb } from "../db/client";
import { errorForLog } from "../db/errors";
import { type BackgroundConfig, DEFAULT_WEBHOOK_SETTINGS, readBackgroundConfig } from "../lib/config";
import type { Bindings } from "../lib/types";
import { attemptDelivery } from "./deliver";
import { loadDeliveries, markDeadLetters, recordAttempts } from "./delivery.queries";
import { DEAD_LETTER_QUEUE, type DeliveryMessage } from "./queues";
import { backoffSeconds, DEAD_LETTER_RETRY_BASE_SECONDS, retryDelaySeconds } from "./retry-schedule";

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The Worker's `queue()` handler for both webhook queues. Deliveries: one statement reads the batch, each is
 * POSTed (in parallel), one statement records the outcomes; then each message is acknowledged or retried with
 * its backoff (after the last attempt the retry sends it to the dead-letter queue). Dead letters: one statement
 * marks them failed and their subscriptions failing or disabled. A delivery no longer pending (delivered, failed,
 * or gone with its subscription) is acknowledged without a request: a message may arrive twice.
 *
 * When one of our own statements fails (the database cannot be reached), or the configuration does not parse, each
 * message goes back to its queue with the backoff of its attempt instead of letting the batch fail: a failed batch
 * is retried at once (the consumers have no `retry_delay`), so a short outage would spend every attempt, then every
 * dead-letter retry, in seconds, and leave the deliveries `pending` and enqueued until the sweep's week is over.
 */
export async function consumeWebhooks(batch: MessageBatch<DeliveryMessage>, env: Bindings) {
  // A configuration that does not parse (a deploy's mistake) waits for its fix like an outage, with the default backoff.
  let config: BackgroundConfig | undefined;
  try {
    config = readBackgroundConfig(env);
    await consume(batch, config);
  } catch (error) {
    const deadLetters = batch.queue === DEAD_LETTER_QUEUE;
    console.error(
      JSON.stringify({ level: "error", message: "webhooks: batch failed, retried", ...errorForLog(error) }),
    );
    // Those without a delivery id were acknowledged already.
    for (const message of batch.messages.filter(hasDeliveryId)) {
      const delaySeconds = deadLetters
        ? backoffSeconds(message.attempts, DEAD_LETTER_RETRY_BASE_SECONDS)
        : retryDelaySeconds(message.attempts, (config?.webhooks ?? DEFAULT_WEBHOOK_SETTINGS).retryBaseSeconds);
      message.retry(delaySeconds == null ? {} : { delaySeconds });
    }
  }
}

const requestedAtPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const hasDeliveryId = (message: Message<DeliveryMessage>) => {
  const id = message.body?.delivery_id;
  const requestedAt = message.body?.requested_at;
  return (
    typeof id === "string" &&
    uuidPattern.test(id) &&
    (requestedAt === undefined || (typeof requestedAt === "string" && requestedAtPattern.test(requestedAt)))
  );
};

async function consume(batch: MessageBatch<DeliveryMessage>, config: BackgroundConfig) {
  const db = createDb(config.databaseUrl, config.sqlHttpEndpoint);
  const messagesById = new Map<string, Message<DeliveryMessage>[]>();
  for (const message of batch.messages) {
    if (!hasDeliveryId(message)) {
      console.error(JSON.stringify({ level: "error", message: "webhooks: a message without a delivery id" }));
      message.ack();
      continue;
    }
    const id = message.body.delivery_id;
    messagesById.set(id.toLowerCase(), [...(messagesById.get(id.toLowerCase()) ?? []), message]);
  }
  const ids = [...messagesById.keys()];
  if (ids.length === 0) return;

  if (batch.queue === DEAD_LETTER_QUEUE) {
    const messages = [...messagesById.values()].flat().map(({ body }) => body);
    await markDeadLetters(db, messages, config.webhooks.disableAfterFailures);
    batch.ackAll();
    return;
  }

  const deliveries = await loadDeliveries(db, ids);
  // Per delivery, the messages of its current request; an earlier schedule's are acknowledged without a request.
  const current = new Map<string, Message<DeliveryMessage>[]>();
  for (const delivery of deliveries) {
    const messages = (messagesById.get(delivery.id) ?? []).filter(
      ({ body }) => body.requested_at === undefined || body.requested_at === delivery.requested_at,
    );
    if (messages.length > 0) current.set(delivery.id, messages);
  }
  const due = deliveries.filter((delivery) => delivery.status === "pending" && current.has(delivery.id));
  const results = await Promise.all(
    due.map(async (delivery) => {
      const attempts = Math.max(...(current.get(delivery.id) ?? []).map((message) => message.attempts));
      return { ...(await attemptDelivery(delivery, attempts, config.webhooks)), url: delivery.url };
    }),
  );
  await recordAttempts(db, results);
  // The delay runs from each attempt, not from the end of the batch, which waited for its slowest receiver.
  const now = Date.now();
  const retries = new Map(
    results
      .filter((r) => r.outcome === "retry")
      .map((r) => {
        const elapsed = r.attempted_at ? (now - Date.parse(r.attempted_at)) / 1000 : 0;
        return [r.id, r.retry_in_seconds == null ? null : Math.max(0, Math.round(r.retry_in_seconds - elapsed))];
      }),
  );
  for (const [id, messages] of messagesById) {
    const [first] = current.get(id) ?? [];
    for (const message of messages) if (message !== first) message.ack();
    if (!first) continue;
    if (!retries.has(id)) first.ack();
    else {
      const delaySeconds = retries.get(id);
      // After the last attempt there is no delay: this retry moves the message to the dead-letter queue.
      first.retry(delaySeconds == null ? {} : { delaySeconds });
    }
  }
}
