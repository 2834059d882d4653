// The time entries themselves.
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { invoices, projects } from "./billing";
import { createdAt, id, timestamptz, updatedAt, version } from "./columns";
import { organizationId, organizationMembers } from "./team";

export const timeEntries = pgTable(
  "time_entries",
  {
    id: id(),
    organizationId: organizationId(),
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
 * What a live entry's change took it away from: its filterable fields as they were before the change (or its
 * deletion), written by the trigger of migration 0038 in the statement that changed them. The sync feed reads the filters and the
 * caller's visibility against these to announce an entry that no longer belongs to a narrowed feed (moved to
 * another project or member, its description or day edited out of the filter), which the entry's new row cannot
 * tell. Kept as long as tombstones (30 days).
 */
export const timeEntryDepartures = pgTable(
  "time_entry_departures",
  {
    // The entry's id.
    id: uuid("id")
      .notNull()
      .references(() => timeEntries.id, { onDelete: "cascade" }),
    // No foreign key: its check would share-lock the organization's row on every edit that writes a departure (lock
    // bookkeeping on the hottest row there is, and an organization's deletion waiting on every edit); the entry's
    // key and delete_organizations keep the rows to their organization (migration 0038).
    organizationId: uuid("organization_id").notNull(),
    // The entry's version and updated_at right after the change.
    version: integer("version").notNull(),
    leftAt: timestamptz("left_at").notNull(),
    userId: uuid("user_id").notNull(),
    projectId: uuid("project_id"),
    startTime: timestamptz("start_time").notNull(),
    description: text("description").notNull(),
    billable: boolean("billable").notNull(),
    invoiceId: uuid("invoice_id"),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.version] }),
    index("time_entry_departures_org_left_idx").on(t.organizationId, t.leftAt, t.id),
    index("time_entry_departures_org_user_left_idx").on(t.organizationId, t.userId, t.leftAt, t.id),
    index("time_entry_departures_left_at_idx").on(t.leftAt),
  ],
);
