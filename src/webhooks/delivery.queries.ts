import { sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { isoUtcText, uuidArray } from "../db/sql-fragments";
import { type DeliveryMessage, messageRows, requestedAtText } from "./queues";

// The consumer's statements: one to read a batch of deliveries, one to record what happened to them.

export type WebhookEvent = {
  id: string;
  type: string;
  created_at: string;
  organization_id: string;
  data: unknown;
  previous_attributes: Record<string, unknown> | null;
};

export type DueDelivery = {
  id: string;
  status: "pending" | "delivered" | "failed";
  /** When the current send was requested (see DeliveryMessage). */
  requested_at: string;
  active: boolean;
  url: string;
  /** The current secret, and the previous one while a rotation's 24 hours last. */
  secrets: string[];
  event: WebhookEvent;
};

/** The deliveries of `ids` that still exist (a deleted subscription takes its deliveries with it). */
export async function loadDeliveries(db: Db, ids: string[]): Promise<DueDelivery[]> {
  const { rows } =
    await db.execute(sql`select d.id, d.status, ${sql.raw(requestedAtText("d.requested_at"))} as requested_at,
      s.active, s.url,
      to_json(array_remove(array[s.secret,
        case when s.previous_secret_expires_at > now() then s.previous_secret end], null)) as secrets,
      json_build_object('id', e.id, 'type', e.type, 'created_at', ${sql.raw(isoUtcText("e.created_at"))},
        'organization_id', e.organization_id, 'data', e.data, 'previous_attributes', e.previous_attributes) as event
    from webhook_deliveries d
    join webhook_events e on e.organization_id = d.organization_id and e.id = d.event_id
    join webhook_subscriptions s on s.organization_id = d.organization_id and s.id = d.subscription_id
    where d.id = any(${uuidArray(ids)})
    order by e.created_at, d.created_at, d.id`);
  return rows as DueDelivery[];
}

export type AttemptResult = {
  id: string;
  /**
   * `retry`: failed, and the message goes back to the queue (or, after the last attempt, to the dead letters);
   * `gone`: the receiver answered 410; `refused`: its URL is refused now. Either fails the delivery and disables the
   * subscription (a refused URL is kept: only a new URL enables it again), unless the subscription's URL changed
   * since (the event stays failed; the deliveries' retry sends it to the new URL). A `retry` may have sent nothing: a
   * delivery that could not be signed is tried again too.
   */
  outcome: "delivered" | "retry" | "failed" | "gone" | "refused";
  /** False when no request was sent (the subscription was disabled, its URL is refused now, or it could not be signed). */
  attempted: boolean;
  /**
   * When the request went out (ISO 8601), recorded as `last_attempt_at`: the batch's outcomes are written together
   * once its slowest receiver has answered or timed out, which says nothing of when each attempt was made.
   */
  attempted_at: string | null;
  response_status: number | null;
  duration_ms: number | null;
  error: string | null;
  retry_in_seconds: number | null;
};

/** An attempt with the URL it judged and was sent to: a subscription whose URL changed since is not judged by it. */
export type RecordedAttempt = AttemptResult & { url: string };

/**
 * Records a batch's attempts in one statement; a delivered event also makes its subscription healthy again and
 * restarts its count of consecutive failures; a 410 Gone or a refused URL disables it; each only if the subscription's
 * URL is still the one the attempt was sent to.
 */
export async function recordAttempts(db: Db, results: RecordedAttempt[]) {
  if (results.length === 0) return;
  await db.execute(sql`with result as (
      select * from json_to_recordset(${JSON.stringify(results)}::json) as r(id uuid, outcome text, attempted boolean,
        attempted_at timestamptz, response_status int, duration_ms int, error text, retry_in_seconds int, url text)
    ),
    recorded as (
      update webhook_deliveries d set
        status = case when r.outcome = 'retry' then 'pending' when r.outcome in ('gone', 'refused') then 'failed'
          else r.outcome end,
        attempts = d.attempts + r.attempted::int,
        -- Not sent this time (disabled meanwhile, say): the last attempt's answer stays beside its time.
        response_status = case when r.attempted then r.response_status else d.response_status end,
        duration_ms = case when r.attempted then r.duration_ms else d.duration_ms end,
        error = r.error,
        last_attempt_at = case when r.attempted then r.attempted_at else d.last_attempt_at end,
        -- From the attempt, not from this statement, which waits for the batch's slowest receiver.
        next_retry_at = coalesce(r.attempted_at, now()) + make_interval(secs => r.retry_in_seconds),
        delivered_at = case
          when r.outcome = 'delivered' then r.attempted_at + make_interval(secs => r.duration_ms / 1000.0)
          else d.delivered_at end
      from result r where d.id = r.id
      returning d.organization_id, d.subscription_id, r.outcome, r.url
    ),
    outcomes as (
      select organization_id, subscription_id,
        coalesce(array_agg(url) filter (where outcome = 'delivered'), '{}') as delivered_urls,
        coalesce(array_agg(url) filter (where outcome in ('gone', 'refused')), '{}') as off_urls,
        coalesce(array_agg(url) filter (where outcome = 'refused'), '{}') as refused_urls
      from recorded where outcome in ('delivered', 'gone', 'refused') group by 1, 2
    )
    update webhook_subscriptions s set status = case when s.url = any(o.off_urls) then 'disabled' else 'healthy' end,
      active = s.url <> all(o.off_urls),
      consecutive_failures = case when s.url = any(o.off_urls) then s.consecutive_failures else 0 end,
      refused_url = case when s.url = any(o.refused_urls) then s.url end, updated_at = now()
    from outcomes o
    where s.organization_id = o.organization_id and s.id = o.subscription_id and s.active
      and (s.url = any(o.off_urls)
        or (s.url = any(o.delivered_urls) and (s.status <> 'healthy' or s.consecutive_failures <> 0)))`);
}

/**
 * The dead-letter queue's work, in one statement: its deliveries failed for good (unless requested anew since:
 * a manual retry's schedule is not ended by an earlier one's dead letter); each subscription that lost an event is
 * `failing`, and `disabled` (inactive) once `disableAfter` events in a row were lost.
 */
export async function markDeadLetters(db: Db, messages: DeliveryMessage[], disableAfter: number) {
  await db.execute(sql`with dead as (
      update webhook_deliveries d set status = 'failed', next_retry_at = null
      from ${messageRows(messages)}
      where d.id = r.delivery_id and d.status = 'pending' and (r.requested_at is null or d.requested_at = r.requested_at)
      returning d.organization_id, d.subscription_id
    ),
    lost as (select organization_id, subscription_id, count(*)::int as events from dead group by 1, 2)
    update webhook_subscriptions s set consecutive_failures = s.consecutive_failures + l.events,
      active = s.consecutive_failures + l.events < ${disableAfter}::int,
      status = case when s.consecutive_failures + l.events < ${disableAfter}::int then 'failing' else 'disabled' end,
      updated_at = now()
    from lost l
    where s.organization_id = l.organization_id and s.id = l.subscription_id and s.active`);
}

/**
 * Deliveries whose enqueue was lost: not on the queue a minute after they were requested; then those still pending
 * a week after they were enqueued, which the queues have let go undecided (8 attempts at most 12 hours apart, and the
 * dead-letter queue's retries of about 3 days, all spent while our database or configuration failed).
 */
export async function lostDeliveries(db: Db, limit: number): Promise<DeliveryMessage[]> {
  const requestedAt = sql.raw(requestedAtText("requested_at"));
  const { rows } = await db.execute(sql`(select id as delivery_id, ${requestedAt} as requested_at
      from webhook_deliveries
      where enqueued_at is null and requested_at < now() - interval '1 minute'
      order by requested_at limit ${limit})
    union all
    (select id, ${requestedAt} from webhook_deliveries
      where status = 'pending' and enqueued_at is not null and enqueued_at < now() - interval '7 days'
      order by enqueued_at limit ${limit})
    limit ${limit}`);
  return rows as DeliveryMessage[];
}
