import { type SQL, sql } from "drizzle-orm";
import type { EventType } from "../webhooks/event-types";
import { type DeliveryMessage, requestedAtText } from "../webhooks/queues";
import type { Db } from "./client";
import type { PostgresError } from "./errors";
import { queryRows } from "./query";
import { isoUtcText } from "./sql-fragments";

// Webhook events ride the write that causes them (a transactional outbox): the statement that changes a resource
// also inserts its events and their deliveries, so a change that fails (a 409, a 412, a constraint) writes no
// event, and an event never exists without its change. Still one round trip.

export type OutboxEvent = {
  type: EventType;
  /** A SELECT of `data` (the resource as the API's GET answers it) and `previous_attributes`: one event per row. */
  rows: SQL;
};

/**
 * The CTEs that end a writing statement's WITH list: the events of `events`, inserted only when the organization
 * has an active subscription for their type (otherwise their rows are never even built: each branch is gated by a
 * one-time filter), and one delivery per event and matching subscription. The statement's final SELECT must carry
 * `deliveriesColumn`, the ids the Worker enqueues after the response.
 */
export function outboxCtes(organizationId: string, events: OutboxEvent[]) {
  const branches = events.map(
    ({ type, rows }) => sql`select ${type}::text as type, r.data, r.previous_attributes from (${rows}) r
      where exists (select 1 from webhook_subscriber s where s.events && array[${type}::text, '*'])`,
  );
  return sql`webhook_subscriber as (
      select id, events from webhook_subscriptions where organization_id = ${organizationId}::uuid and active
    ),
    webhook_event as (
      insert into webhook_events (organization_id, type, data, previous_attributes)
      select ${organizationId}::uuid, e.type, e.data, e.previous_attributes
      from (${sql.join(branches, sql` union all `)}) e
      returning id, type
    ),
    webhook_delivery as (
      insert into webhook_deliveries (organization_id, event_id, subscription_id)
      select ${organizationId}::uuid, e.id, s.id from webhook_event e
      join webhook_subscriptions s on s.organization_id = ${organizationId}::uuid and s.id in (select id from webhook_subscriber)
        and s.events && array[e.type, '*']
      -- Locked as the deliveries' foreign key would lock them, but before the insert: a subscription deleted
      -- meanwhile is left out (its deliveries would go with it) instead of failing the whole write on that key.
      for key share of s
      returning id, requested_at
    )`;
}

/** The final SELECT's column listing the deliveries the statement created (see `queryWithEvents`). */
export const deliveriesColumn = sql`(select coalesce(json_agg(json_build_object('delivery_id', id,
    'requested_at', ${sql.raw(requestedAtText("requested_at"))})), '[]'::json) from webhook_delivery) as webhook_deliveries`;

/**
 * SQL: the top-level fields of `before` (a resource's JSON) whose value `after` changed, with their old values.
 * `updated_at` and `version` change on every write and a `summary` is computed, so they are left out.
 */
export const previousAttributes = (before: SQL, after: SQL) =>
  sql`(select coalesce(json_object_agg(o.key, o.value), '{}'::json) from jsonb_each((${before})::jsonb) o
    where o.key not in ('updated_at', 'version', 'summary') and o.value is distinct from ((${after})::jsonb -> o.key))`;

/** Event rows `{id, version, deleted_at}` for the deleted rows of `source`, a CTE returning those three columns. */
export const tombstoneRows = (source: string) =>
  sql`select json_build_object('id', d.id, 'version', d.version, 'deleted_at', ${sql.raw(isoUtcText("d.deleted_at"))})
    as data, null::json as previous_attributes from ${sql.raw(source)} d`;

/** Event rows for `json` (one resource's JSON, null when there is none), with `previous` (null but for updates). */
export const resourceRows = (json: SQL, previous: SQL = sql`null::json`) =>
  sql`select r.data, r.previous_attributes from (select ${json} as data, ${previous} as previous_attributes) r
    where r.data is not null`;

// The deliveries a request's statements created, per database client (one per request), until the Worker
// enqueues them after the response (middleware/webhook-dispatch.ts).
const createdDeliveries = new WeakMap<Db, DeliveryMessage[]>();

/** Runs one statement whose final SELECT carries `deliveriesColumn`, and notes its deliveries for the Worker. */
export async function queryWithEvents<T>(
  db: Db,
  query: SQL,
  alsoRetry?: (error: PostgresError) => boolean,
): Promise<T> {
  // Through queryRows, so that an Idempotency-Key claim extends this statement like any other.
  const [row] = await queryRows<T & { webhook_deliveries?: DeliveryMessage[] | null }>(db, query, alsoRetry);
  const ids = row?.webhook_deliveries ?? [];
  if (ids.length > 0) createdDeliveries.set(db, [...(createdDeliveries.get(db) ?? []), ...ids]);
  return row as T;
}

/** The deliveries noted on `db` so far, forgotten once taken. */
export function takeDeliveries(db: Db): DeliveryMessage[] {
  const ids = createdDeliveries.get(db) ?? [];
  createdDeliveries.delete(db);
  return ids;
}

/**
 * Event rows for one resource updated from the row in the CTE `before` to the row in `after`; `json(source)` is
 * the resource's JSON from a CTE (a scalar subquery).
 */
export const updateRows = (json: (source: string) => SQL, before: string, after: string) =>
  resourceRows(json(after), previousAttributes(json(before), json(after)));
