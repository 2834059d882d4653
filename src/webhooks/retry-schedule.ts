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
  return backoffSeconds(attempt, baseSeconds);
}

/** The same backoff without a last attempt: `baseSeconds` times four per attempt, at most 12 hours. */
export function backoffSeconds(attempt: number, baseSeconds: number): number {
  return Math.min(baseSeconds * GROWTH ** (Math.max(attempt, 1) - 1), MAX_DELAY_SECONDS);
}

/**
 * The first delay of a dead letter whose marking failed (the database could not be reached): 1 min, 4 min, 16 min,
 * 64 min, 4 h 16 min, then 12 h, so that wrangler.toml's 10 retries of the dead-letter queue span about 3 days.
 */
export const DEAD_LETTER_RETRY_BASE_SECONDS = 60;
