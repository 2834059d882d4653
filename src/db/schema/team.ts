// The organization, its people and their memberships.
import { sql } from "drizzle-orm";
import { boolean, check, index, integer, pgTable, primaryKey, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { WEEK_DAYS } from "../week-days";
import { createdAt, id, timestamptz, updatedAt, version } from "./columns";

export const organizations = pgTable(
  "organizations",
  {
    id: id(),
    name: text("name"),
    // When on, a member's entries may not overlap (touching is fine); enforced by
    // the time_entries_prevent_overlap trigger (drizzle/0003_triggers.sql).
    preventOverlaps: boolean("prevent_overlaps").notNull().default(false),
    // IANA name: the default `timezone` of the list, the summary and the export.
    timezone: text("timezone").notNull().default("UTC"),
    // The day a summary's week starts on unless the request names one (ISO 8601 weeks: Monday).
    weekStart: text("week_start", { enum: WEEK_DAYS }).notNull().default("monday"),
    // How many webhook subscriptions the organization may keep, enforced by the
    // webhook_subscriptions_per_organization_limit trigger (drizzle/0015); an operator's to raise, not the API's.
    webhookSubscriptionsLimit: integer("webhook_subscriptions_limit").notNull().default(20),
    version: version(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // Names Postgres reads as its fixed-offset abbreviations (CET is +01:00 all year there, IST +02:00), not as the zones
  // the runtime's Intl knows by them (src/lib/schemas.ts, ABBREVIATION_NAMES).
  (t) => [
    check(
      "organizations_timezone_not_abbreviation_check",
      sql`upper(${t.timezone}) not in ('CET', 'EET', 'MET', 'WET', 'ACT', 'ART', 'AST', 'BST', 'CST', 'IST', 'NST', 'PST')`,
    ),
    check("organizations_webhook_subscriptions_limit_check", sql`${t.webhookSubscriptionsLimit} >= 0`),
    check(
      "organizations_week_start_check",
      sql`${t.weekStart} in (${sql.raw(WEEK_DAYS.map((day) => `'${day}'`).join(", "))})`,
    ),
  ],
);

/** The organization a row belongs to; composite keys on (organization_id, id) keep references inside it. */
export const organizationId = () =>
  uuid("organization_id")
    .notNull()
    .references(() => organizations.id);

export const users = pgTable(
  "users",
  {
    id: id(),
    // Who the person is across organizations: the address their identity provider knows. What an organization shows
    // of them (name, avatar, the address as it typed it) is its membership's, so no organization sees or sets
    // another's (drizzle/0024).
    // Unique in any case by users_email_lower_idx alone: a second unique rule was one an insert racing another of the
    // same address could break, which `on conflict ((lower(email)))` does not catch (drizzle/0034).
    email: text("email").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  // E-mail addresses are compared case-insensitively: one person, one user.
  (t) => [uniqueIndex("users_email_lower_idx").on(sql`lower(${t.email})`)],
);

export const organizationMembers = pgTable(
  "organization_members",
  {
    organizationId: organizationId(),
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
    // The person as this organization knows them. The address defaults to the user's (a trigger, drizzle/0024).
    email: text("email").notNull(),
    fullName: text("full_name"),
    avatarUrl: text("avatar_url"),
    version: version(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.userId] }),
    index("organization_members_user_id_idx").on(t.userId),
    // The members list's order (nameOrder over the name, else the address): as the projects' and customers' lists.
    index("organization_members_name_order_idx").on(
      t.organizationId,
      sql`lower(coalesce(${t.fullName}, ${t.email}) collate "C")`,
      sql`(coalesce(${t.fullName}, ${t.email}) collate "C")`,
      t.userId,
    ),
    check("organization_members_role_check", sql`${t.role} in ('owner', 'admin', 'member')`),
    check("organization_members_status_check", sql`${t.status} in ('active', 'removed')`),
    check("organization_members_removed_at_check", sql`(${t.status} = 'removed') = (${t.removedAt} is not null)`),
  ],
);
