import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { deliveriesColumn, queryWithEvents } from "../../db/events";
import { callerIsManager, callerRole, memberCte, type Role } from "../../db/membership";
import { queryOne } from "../../db/query";
import { isoUtcText } from "../../db/sql-fragments";
import type { Caller } from "../../lib/verify-token";
import { PING_EVENT } from "../../webhooks/event-types";
import { targetWebhook, webhookJson } from "./webhooks.queries";
import type { Delivery } from "./webhooks.schemas";

const deliveryJson = sql.raw(`json_build_object(
  'id', d.id,
  'event_id', d.event_id,
  'event_type', e.type,
  'status', d.status,
  'attempts', d.attempts,
  'response_status', d.response_status,
  'duration_ms', d.duration_ms,
  'error', d.error,
  'next_retry_at', ${isoUtcText("d.next_retry_at")},
  'last_attempt_at', ${isoUtcText("d.last_attempt_at")},
  'delivered_at', ${isoUtcText("d.delivered_at")},
  'created_at', ${isoUtcText("d.created_at")}
)`);

/** The deliveries of `source` (aliased `d`) with their event from `events` (a CTE when inserted by the statement). */
const withEvent = (source: string, events = "webhook_events") =>
  sql`${sql.raw(source)} d join ${sql.raw(events)} e on e.organization_id = d.organization_id and e.id = d.event_id`;

type DeliveryResult = { role: Role | null; found: boolean; active: boolean; delivery: Delivery | null };

/**
 * `webhook.ping` for one active subscription, whatever its `events`: an event and its delivery, which the Worker
 * enqueues after the response like any other. Its data is the subscription.
 */
export async function pingWebhook(db: Db, caller: Caller, id: string) {
  return queryWithEvents<DeliveryResult>(
    db,
    sql`with ${memberCte(caller)},
    ${targetWebhook(caller, id)},
    webhook_event as (
      insert into webhook_events (organization_id, type, data)
      select t.organization_id, ${PING_EVENT}, ${webhookJson("t")} from target t where t.active
      returning *
    ),
    webhook_delivery as (
      insert into webhook_deliveries (organization_id, event_id, subscription_id)
      select e.organization_id, e.id, t.id from webhook_event e, target t
      returning *
    )
    select ${callerRole} as role, exists (select 1 from target) as found,
      coalesce((select active from target), false) as active,
      (select ${deliveryJson} from ${withEvent("webhook_delivery", "webhook_event")}) as delivery, ${deliveriesColumn}`,
  );
}

export async function listDeliveries(
  db: Db,
  caller: Caller,
  id: string,
  page: { limit: number; status?: Delivery["status"]; before?: { createdAt: string; id: string } },
) {
  const conditions: SQL[] = [
    sql`d.organization_id = ${caller.organizationId}::uuid`,
    sql`d.subscription_id = (select id from subscription)`,
  ];
  if (page.status) conditions.push(sql`d.status = ${page.status}`);
  if (page.before) {
    conditions.push(sql`(d.created_at, d.id) < (${page.before.createdAt}::timestamptz, ${page.before.id}::uuid)`);
  }
  return queryOne<{ role: Role | null; found: boolean; deliveries: Delivery[] }>(
    db,
    sql`with ${memberCte(caller)},
    subscription as (
      select id from webhook_subscriptions
      where organization_id = ${caller.organizationId}::uuid and id = ${id}::uuid and ${callerIsManager}
    ),
    page as (
      select * from webhook_deliveries d where ${sql.join(conditions, sql` and `)}
      order by d.created_at desc, d.id desc limit ${page.limit + 1}
    )
    select ${callerRole} as role, exists (select 1 from subscription) as found,
      coalesce((select json_agg(${deliveryJson} order by d.created_at desc, d.id desc) from ${withEvent("page")}),
        '[]'::json) as deliveries`,
  );
}

/**
 * Sends a delivery again (whatever its status): pending once more, with a fresh retry schedule, enqueued after the
 * response. The receiver sees the same `webhook-id`.
 */
export async function retryDelivery(db: Db, caller: Caller, id: string, deliveryId: string) {
  return queryWithEvents<DeliveryResult & { delivery_found: boolean }>(
    db,
    sql`with ${memberCte(caller)},
    ${targetWebhook(caller, id)},
    delivery as (
      select d.id from webhook_deliveries d
      where d.organization_id = ${caller.organizationId}::uuid and d.subscription_id = (select id from target)
        and d.id = ${deliveryId}::uuid
      for update
    ),
    webhook_delivery as (
      update webhook_deliveries d set status = 'pending', next_retry_at = null, enqueued_at = null, requested_at = now()
      from delivery x where d.id = x.id and (select active from target)
      returning d.*
    )
    select ${callerRole} as role, exists (select 1 from target) as found,
      coalesce((select active from target), false) as active, exists (select 1 from delivery) as delivery_found,
      (select ${deliveryJson} from ${withEvent("webhook_delivery")}) as delivery, ${deliveriesColumn}`,
  );
}
