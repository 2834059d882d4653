// What hours are billed to: customers, their projects, and invoices.
import { sql } from "drizzle-orm";
import {
  boolean,
  char,
  check,
  date,
  foreignKey,
  index,
  json,
  numeric,
  pgTable,
  text,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import { createdAt, id, updatedAt, version } from "./columns";
import { organizationId } from "./team";

export const customers = pgTable(
  "customers",
  {
    id: id(),
    organizationId: organizationId(),
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
    // The lists' order (src/db/sql-fragments.ts, nameOrder): A to Z whatever the case, then code points, then id.
    index("customers_organization_id_name_order_idx").on(
      t.organizationId,
      sql`lower(${t.name} collate "C")`,
      sql`(${t.name} collate "C")`,
      t.id,
    ),
    check("customers_country_code_check", sql`${t.countryCode} ~ '^[A-Z]{2}$'`),
  ],
);

export const projects = pgTable(
  "projects",
  {
    id: id(),
    organizationId: organizationId(),
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
    index("projects_organization_id_name_order_idx").on(
      t.organizationId,
      sql`lower(${t.name} collate "C")`,
      sql`(${t.name} collate "C")`,
      t.id,
    ),
    // numeric has NaN, which Postgres orders above every number: `>= 0` alone lets it in, and the API would answer
    // it as the string "NaN" where its contract says a number (drizzle/0019).
    check("projects_hourly_rate_check", sql`${t.hourlyRate} >= 0 and ${t.hourlyRate} <> 'NaN'`),
    check("projects_currency_check", sql`${t.currency} ~ '^[A-Z]{3}$'`),
    check("projects_rate_needs_currency_check", sql`${t.hourlyRate} is null or ${t.currency} is not null`),
  ],
);

export const invoices = pgTable(
  "invoices",
  {
    id: id(),
    organizationId: organizationId(),
    customerId: uuid("customer_id"),
    number: text("number").notNull(),
    status: text("status", { enum: ["draft", "sent", "paid", "overdue", "void"] })
      .notNull()
      .default("draft"),
    date: date("date").notNull(),
    dueDate: date("due_date"),
    // What the invoice billed, frozen when it left draft (the API's `summary`); null while a draft.
    issuedSummary: json("issued_summary"),
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
