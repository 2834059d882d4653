// When a failed delivery is tried again: exponential backoff, each wait four times the last, from
// WEBHOOK_RETRY_BASE_SECONDS (30 s by default: 30 s, 2 min, 8 min, 32 min, 2 h 8 min, 8 h 32 min, then 12 h, the
// most Queues allows), so MAX_DELIVERY_ATTEMPTS attempts span about 23 hours. Doubling from 30 s would spend eight
// attempts in about an hour, too short to outlast a receiver's bad day.

/** Attempts per delivery before the message goes to the dead-letter queue: wrangler.toml's `max_retries` + 1. */
export const MAX_DELIVERY_ATTEMPTS = 8;

const GROWTH = 4;
/** The longest delay `message.retry()` takes. */
const MAX_DELAY_SECONDS = 12 * 60 * 60;

/** Seconds to wait after failed attempt number `attempt` (1-based); undefined after the last one. */
export function retryDelaySeconds(attempt: number, baseSeconds: number): number | undefined {
  if (attempt >= MAX_DELIVERY_ATTEMPTS) return undefined;
  return Math.min(baseSeconds * GROWTH ** (attempt - 1), MAX_DELAY_SECONDS);
}
