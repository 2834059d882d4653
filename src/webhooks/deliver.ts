import type { WebhookSettings } from "../lib/config";
import type { AttemptResult, DueDelivery, WebhookEvent } from "./delivery.queries";
import { retryDelaySeconds } from "./retry-schedule";
import { signatureHeader } from "./signature";
import { refusedWebhookUrl } from "./url-policy";

const USER_AGENT = "time-entries-api-webhooks/1";

/** The body receivers get: `previous_attributes` only where an update has them. */
export function payloadOf({ previous_attributes, ...event }: WebhookEvent) {
  return JSON.stringify(previous_attributes ? { ...event, previous_attributes } : event);
}

const notSent = (id: string, error: string): AttemptResult => ({
  id,
  outcome: "failed",
  attempted: false,
  attempted_at: null,
  response_status: null,
  duration_ms: null,
  error,
  retry_in_seconds: null,
});

/**
 * POSTs one delivery, signed (Standard Webhooks), and says what came of it: a 2xx is delivered; any other answer,
 * a redirect (never followed), no answer within the timeout or a failed connection is retried after
 * `retryDelaySeconds(attempt)`; a 410 Gone fails it at once and disables the subscription. `attempt` is the
 * queue's count for this message (1 for its first delivery).
 */
export async function attemptDelivery(
  delivery: DueDelivery,
  attempt: number,
  settings: WebhookSettings,
): Promise<AttemptResult> {
  if (!delivery.active) return notSent(delivery.id, "The subscription is disabled");
  const refused = refusedWebhookUrl(delivery.url, settings);
  // A stored URL the rules refuse (written in SQL, or refused by a newer rule) can never be delivered to: as a 410,
  // the subscription is disabled, so that its status says so instead of staying healthy while nothing arrives.
  if (refused) {
    const error = `The URL is refused: ${refused}; the subscription is disabled: change its URL and set it active again`;
    return { ...notSent(delivery.id, error), outcome: "refused" };
  }

  const body = payloadOf(delivery.event);
  const timestamp = Math.floor(Date.now() / 1000);
  let signature: string;
  try {
    signature = await signatureHeader(delivery.secrets, delivery.event.id, timestamp, body);
  } catch (error) {
    // Never thrown to the batch, whose other deliveries (other organizations' too) would fail with this one.
    const reason = error instanceof Error ? error.message : String(error);
    const result = notSent(delivery.id, `The delivery could not be signed: ${reason}`);
    return {
      ...result,
      outcome: "retry",
      retry_in_seconds: retryDelaySeconds(attempt, settings.retryBaseSeconds) ?? null,
    };
  }
  const headers = {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    "webhook-id": delivery.event.id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signature,
  };
  const started = Date.now();
  const failure = (error: string, status: number | null = null): AttemptResult => ({
    id: delivery.id,
    outcome: "retry",
    attempted: true,
    attempted_at: new Date(started).toISOString(),
    response_status: status,
    duration_ms: Date.now() - started,
    error,
    retry_in_seconds: retryDelaySeconds(attempt, settings.retryBaseSeconds) ?? null,
  });
  const signal = AbortSignal.timeout(settings.timeoutMs);
  try {
    const response = await fetch(delivery.url, { method: "POST", headers, body, redirect: "manual", signal });
    await response.body?.cancel();
    const { status } = response;
    if (status >= 200 && status < 300) {
      return { ...failure(""), outcome: "delivered", response_status: status, error: null, retry_in_seconds: null };
    }
    if (status >= 300 && status < 400) return failure(`Redirects are not followed (answered ${status})`, status);
    // Standard Webhooks: 410 Gone says the endpoint is no more; retrying it would only fail again.
    if (status === 410) {
      const gone = "The receiver answered 410 Gone: the subscription is disabled";
      return { ...failure(gone, status), outcome: "gone", retry_in_seconds: null };
    }
    // Cloudflare answers 530 itself when it cannot reach the origin (error 1016: its host does not resolve).
    if (status === 530) {
      return failure("The receiver could not be reached (530: its host did not resolve or answer)", status);
    }
    return failure(`The receiver answered ${status}`, status);
  } catch (error) {
    if (signal.aborted) return failure(`No answer within ${settings.timeoutMs} ms`);
    const message = error instanceof Error ? error.message : String(error);
    // workerd's own words for a connection it could not make (an unknown host, a refused port): a reference to its
    // logs, which the subscription's owner cannot read.
    if (/^internal error; reference = /.test(message)) {
      return failure("The receiver could not be reached (no connection: its host did not resolve, or refused it)");
    }
    // And for a port that refuses the connection, or a receiver that drops it before answering.
    if (message === "Network connection lost.") {
      return failure("The receiver could not be reached (the connection was refused, or lost before an answer)");
    }
    return failure(`The request failed: ${message}`);
  }
}
