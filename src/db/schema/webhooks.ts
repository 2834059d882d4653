// Webhook subscriptions, the outbox of events and their deliveries.
import { sql } from "drizzle-orm";
import { boolean, check, foreignKey, index, integer, json, pgTable, text, unique, uuid } from "drizzle-orm/pg-core";
import { createdAt, id, timestamptz, updatedAt, version } from "./columns";
import { organizationId } from "./team";

/**
 * `whsec_` and standard padded base64 of one byte or more: what an HMAC takes as a key, and what Standard Webhooks
 * libraries read (they refuse base64 without its padding).
 */
const SIGNING_SECRET_PATTERN = "'^whsec_([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$'";

/**
 * Webhook subscriptions: where an organization wants its changes POSTed. `secret` signs every delivery
 * (Standard Webhooks); after a rotation `previous_secret` signs too until `previous_secret_expires_at`.
 * `status` is `disabled` exactly when `active` is false; `failing` after an event was dead-lettered;
 * `consecutive_failures` counts dead-lettered events since the last delivered one.
 */
export const webhookSubscriptions = pgTable(
  "webhook_subscriptions",
  {
    id: id(),
    organizationId: organizationId(),
    url: text("url").notNull(),
    events: text("events").array().notNull(),
    description: text("description"),
    active: boolean("active").notNull().default(true),
    status: text("status", { enum: ["healthy", "failing", "disabled"] })
      .notNull()
      .default("healthy"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    // The URL a delivery found refused by the rules (written in SQL, or refused by a newer rule), which disabled the
    // subscription: it stays off until it is given a URL the rules take (PATCH with `url`), not merely set active.
    refusedUrl: text("refused_url"),
    secret: text("secret").notNull(),
    previousSecret: text("previous_secret"),
    previousSecretExpiresAt: timestamptz("previous_secret_expires_at"),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("webhook_subscriptions_organization_id_id_key").on(t.organizationId, t.id),
    // The list's order, and the outbox's lookup of an organization's subscriptions.
    index("webhook_subscriptions_organization_id_created_idx").on(t.organizationId, t.createdAt, t.id),
    check("webhook_subscriptions_events_check", sql`cardinality(${t.events}) > 0`),
    check("webhook_subscriptions_status_check", sql`${t.status} in ('healthy', 'failing', 'disabled')`),
    check("webhook_subscriptions_disabled_check", sql`(${t.status} = 'disabled') = (not ${t.active})`),
    check("webhook_subscriptions_refused_url_check", sql`${t.refusedUrl} is null or not ${t.active}`),
    check(
      "webhook_subscriptions_previous_secret_check",
      sql`(${t.previousSecret} is null) = (${t.previousSecretExpiresAt} is null)`,
    ),
    // What can sign: `whsec_` and the base64 of at least one byte (the API makes 32; a Standard Webhooks secret
    // written by hand may have another length). Anything else cannot key an HMAC, and would fail every delivery.
    check(
      "webhook_subscriptions_secret_format_check",
      sql`${t.secret} ~ ${sql.raw(SIGNING_SECRET_PATTERN)} and (${t.previousSecret} is null or ${t.previousSecret} ~ ${sql.raw(SIGNING_SECRET_PATTERN)})`,
    ),
  ],
);

/**
 * The outbox: one row per change an active subscription asked for, inserted by the very statement that makes the
 * change. `data` is the resource as the API's GET answers it (a deletion: `{id, version, deleted_at}`), as `json`
 * so that its keys keep the API's order. Purged after 30 days with its deliveries.
 */
export const webhookEvents = pgTable(
  "webhook_events",
  {
    id: id(),
    organizationId: organizationId(),
    type: text("type").notNull(),
    data: json("data").notNull(),
    previousAttributes: json("previous_attributes"),
    createdAt: createdAt(),
  },
  (t) => [
    unique("webhook_events_organization_id_id_key").on(t.organizationId, t.id),
    index("webhook_events_created_at_idx").on(t.createdAt),
  ],
);

/**
 * One event for one subscription: what the queue carries (its id) and the deliveries log. `enqueued_at` is null
 * until the Worker handed it to the queue; the cron re-enqueues one still null a minute after `requested_at`.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: id(),
    organizationId: uuid("organization_id").notNull(),
    eventId: uuid("event_id").notNull(),
    subscriptionId: uuid("subscription_id").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] })
      .notNull()
      .default("pending"),
    attempts: integer("attempts").notNull().default(0),
    responseStatus: integer("response_status"),
    durationMs: integer("duration_ms"),
    error: text("error"),
    requestedAt: timestamptz("requested_at").notNull().defaultNow(),
    enqueuedAt: timestamptz("enqueued_at"),
    lastAttemptAt: timestamptz("last_attempt_at"),
    nextRetryAt: timestamptz("next_retry_at"),
    deliveredAt: timestamptz("delivered_at"),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({
      name: "webhook_deliveries_event_fk",
      columns: [t.organizationId, t.eventId],
      foreignColumns: [webhookEvents.organizationId, webhookEvents.id],
    }).onDelete("cascade"),
    foreignKey({
      name: "webhook_deliveries_subscription_fk",
      columns: [t.organizationId, t.subscriptionId],
      foreignColumns: [webhookSubscriptions.organizationId, webhookSubscriptions.id],
    }).onDelete("cascade"),
    index("webhook_deliveries_subscription_created_idx").on(t.organizationId, t.subscriptionId, t.createdAt, t.id),
    index("webhook_deliveries_event_idx").on(t.organizationId, t.eventId),
    // The sweeper's candidates: deliveries whose enqueue was lost.
    index("webhook_deliveries_not_enqueued_idx").on(t.requestedAt).where(sql`${t.enqueuedAt} is null`),
    // And those enqueued so long ago that the queues have let them go undecided (src/webhooks/sweeper.ts).
    index("webhook_deliveries_pending_enqueued_idx")
      .on(t.enqueuedAt)
      .where(sql`${t.status} = 'pending' and ${t.enqueuedAt} is not null`),
    check("webhook_deliveries_status_check", sql`${t.status} in ('pending', 'delivered', 'failed')`),
  ],
);
