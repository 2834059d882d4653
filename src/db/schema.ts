import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  char,
  check,
  date,
  foreignKey,
  index,
  integer,
  json,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

// Millisecond precision: what the API stores is exactly what it returns, and
// keyset cursors built from returned timestamps are exact.
const timestamptz = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

const id = () => uuid("id").primaryKey().defaultRandom();
const createdAt = () => timestamptz("created_at").notNull().defaultNow();
const updatedAt = () => timestamptz("updated_at").notNull().defaultNow();

// Bumped by the bump_version trigger on every UPDATE, whoever runs it; the API's
// ETag and If-Match compare it.
const version = () => integer("version").notNull().default(1);

export const organizations = pgTable("organizations", {
  id: id(),
  name: text("name"),
  // When on, a member's entries may not overlap (touching is fine); enforced by
  // the time_entries_prevent_overlap trigger (drizzle/0003_triggers.sql).
  preventOverlaps: boolean("prevent_overlaps").notNull().default(false),
  // IANA name: the default `timezone` of the list, the summary and the export.
  timezone: text("timezone").notNull().default("UTC"),
  version: version(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const users = pgTable(
  "users",
  {
    id: id(),
    fullName: text("full_name"),
    email: text("email").notNull().unique(),
    avatarUrl: text("avatar_url"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // E-mail addresses are compared case-insensitively: one person, one user.
  (t) => [uniqueIndex("users_email_lower_idx").on(sql`lower(${t.email})`)],
);

export const organizationMembers = pgTable(
  "organization_members",
  {
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    role: text("role", { enum: ["owner", "admin", "member"] })
      .notNull()
      .default("member"),
    // Offboarding keeps the membership (a removed member's entries still name it) and takes away every right.
    status: text("status", { enum: ["active", "removed"] })
      .notNull()
      .default("active"),
    removedAt: timestamptz("removed_at"),
    // When the membership last became active: its creation, or its reinstatement.
    joinedAt: timestamptz("joined_at").notNull().defaultNow(),
    version: version(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.userId] }),
    index("organization_members_user_id_idx").on(t.userId),
    check("organization_members_role_check", sql`${t.role} in ('owner', 'admin', 'member')`),
    check("organization_members_status_check", sql`${t.status} in ('active', 'removed')`),
    check("organization_members_removed_at_check", sql`(${t.status} = 'removed') = (${t.removedAt} is not null)`),
  ],
);

export const customers = pgTable(
  "customers",
  {
    id: id(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    email: text("email"),
    phone: text("phone"),
    website: text("website"),
    contactPerson: text("contact_person"),
    addressLine1: text("address_line1"),
    addressLine2: text("address_line2"),
    country: text("country"),
    countryCode: text("country_code"),
    city: text("city"),
    state: text("state"),
    postalCode: text("postal_code"),
    taxId: text("tax_id"),
    notes: text("notes"),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // Target of the composite foreign keys that keep references inside one organization.
    unique("customers_organization_id_id_key").on(t.organizationId, t.id),
    index("customers_organization_id_name_idx").on(t.organizationId, t.name, t.id),
    check("customers_country_code_check", sql`${t.countryCode} ~ '^[A-Z]{2}$'`),
  ],
);

export const projects = pgTable(
  "projects",
  {
    id: id(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    customerId: uuid("customer_id"),
    hourlyRate: numeric("hourly_rate", { precision: 12, scale: 2 }),
    currency: char("currency", { length: 3 }),
    active: boolean("active").notNull().default(true),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("projects_organization_id_id_key").on(t.organizationId, t.id),
    foreignKey({
      name: "projects_customer_fk",
      columns: [t.organizationId, t.customerId],
      foreignColumns: [customers.organizationId, customers.id],
    }),
    index("projects_organization_id_customer_id_idx").on(t.organizationId, t.customerId),
    index("projects_organization_id_name_idx").on(t.organizationId, t.name, t.id),
    check("projects_hourly_rate_check", sql`${t.hourlyRate} >= 0`),
    check("projects_currency_check", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check("projects_rate_needs_currency_check", sql`${t.hourlyRate} is null or ${t.currency} is not null`),
  ],
);

export const invoices = pgTable(
  "invoices",
  {
    id: id(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    customerId: uuid("customer_id"),
    number: text("number").notNull(),
    status: text("status", { enum: ["draft", "sent", "paid", "overdue", "void"] })
      .notNull()
      .default("draft"),
    date: date("date").notNull(),
    dueDate: date("due_date"),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("invoices_organization_id_id_key").on(t.organizationId, t.id),
    unique("invoices_organization_id_number_key").on(t.organizationId, t.number),
    foreignKey({
      name: "invoices_customer_fk",
      columns: [t.organizationId, t.customerId],
      foreignColumns: [customers.organizationId, customers.id],
    }),
    index("invoices_organization_id_customer_id_idx").on(t.organizationId, t.customerId),
    check("invoices_status_check", sql`${t.status} in ('draft', 'sent', 'paid', 'overdue', 'void')`),
    check("invoices_due_date_check", sql`${t.dueDate} >= ${t.date}`),
  ],
);

export const timeEntries = pgTable(
  "time_entries",
  {
    id: id(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    userId: uuid("user_id").notNull(),
    projectId: uuid("project_id"),
    startTime: timestamptz("start_time").notNull(),
    endTime: timestamptz("end_time"),
    // Whole seconds, derived so it can never disagree with the times; null while running.
    duration: bigint("duration", { mode: "number" }).generatedAlwaysAs(
      sql`floor(extract(epoch from (end_time - start_time)))`,
    ),
    description: text("description").notNull(),
    billable: boolean("billable").notNull().default(false),
    invoiceId: uuid("invoice_id"),
    version: version(),
    // Soft delete: a tombstone for sync clients, purged after 30 days by the scheduled handler.
    deletedAt: timestamptz("deleted_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check("time_entries_end_after_start_check", sql`${t.endTime} > ${t.startTime}`),
    // At most one running timer per user per organization.
    uniqueIndex("time_entries_one_running_timer_idx")
      .on(t.organizationId, t.userId)
      .where(sql`${t.endTime} is null and ${t.deletedAt} is null`),
    check("time_entries_deleted_unlocked_check", sql`${t.deletedAt} is null or ${t.invoiceId} is null`),
    foreignKey({
      name: "time_entries_member_fk",
      columns: [t.organizationId, t.userId],
      foreignColumns: [organizationMembers.organizationId, organizationMembers.userId],
    }),
    foreignKey({
      name: "time_entries_project_fk",
      columns: [t.organizationId, t.projectId],
      foreignColumns: [projects.organizationId, projects.id],
    }),
    foreignKey({
      name: "time_entries_invoice_fk",
      columns: [t.organizationId, t.invoiceId],
      foreignColumns: [invoices.organizationId, invoices.id],
    }),
    // The list is ordered by (start_time desc, id desc) within an organization,
    // optionally narrowed to one user or one project; it never shows deleted entries.
    // (The summary's covering index, time_entries_org_start_totals_idx, is hand-written in migration 0006:
    // drizzle cannot express INCLUDE.)
    index("time_entries_org_start_idx").on(t.organizationId, t.startTime, t.id).where(sql`${t.deletedAt} is null`),
    index("time_entries_org_user_start_idx")
      .on(t.organizationId, t.userId, t.startTime, t.id)
      .where(sql`${t.deletedAt} is null`),
    index("time_entries_org_project_start_idx")
      .on(t.organizationId, t.projectId, t.startTime, t.id)
      .where(sql`${t.deletedAt} is null`),
    // Sync: changes (tombstones included) in (updated_at, id) order.
    index("time_entries_org_updated_idx").on(t.organizationId, t.updatedAt, t.id),
    index("time_entries_org_user_updated_idx").on(t.organizationId, t.userId, t.updatedAt, t.id),
    index("time_entries_deleted_at_idx").on(t.deletedAt).where(sql`${t.deletedAt} is not null`),
    index("time_entries_org_invoice_idx").on(t.organizationId, t.invoiceId).where(sql`${t.invoiceId} is not null`),
    // `q`: ILIKE '%word%' can use trigrams (pg_trgm) where a B-tree cannot; a rare word then costs a few
    // index pages instead of a scan of the organization's entries.
    // fastupdate off: new entries go straight into the index instead of a pending list that every search
    // would read through until the next vacuum (15 ms at a few thousand writes, against 0.1 ms).
    index("time_entries_description_trgm_idx")
      .using("gin", sql`${t.description} gin_trgm_ops`)
      .with({ fastupdate: false })
      .where(sql`${t.deletedAt} is null`),
  ],
);

/**
 * Idempotency-Key (IETF draft): the first response to a POST with a key, per
 * organization and user, so a retry replays it. `response_status` is null while
 * the first request runs. Purged after 24 hours by the scheduled handler.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    userId: uuid("user_id").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    responseLocation: text("response_location"),
    // The result rows of the request's statement, stored by that very statement (see idempotency_claim);
    // a retry runs the handler's post-processing on them. The response_* columns hold answers given
    // without such a statement (a 400 before any SQL, say).
    result: json("result"),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.userId, t.key] }),
    index("idempotency_keys_created_at_idx").on(t.createdAt),
    check("idempotency_keys_key_check", sql`length(${t.key}) between 1 and 255`),
  ],
);

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
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    url: text("url").notNull(),
    events: text("events").array().notNull(),
    description: text("description"),
    active: boolean("active").notNull().default(true),
    status: text("status", { enum: ["healthy", "failing", "disabled"] })
      .notNull()
      .default("healthy"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
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
    check(
      "webhook_subscriptions_previous_secret_check",
      sql`(${t.previousSecret} is null) = (${t.previousSecretExpiresAt} is null)`,
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
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
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
    check("webhook_deliveries_status_check", sql`${t.status} in ('pending', 'delivered', 'failed')`),
  ],
);
