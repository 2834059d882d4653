import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { deleteUnlessReferenced } from "../../db/delete-unless-referenced";
import { deliveriesColumn, outboxCtes, queryWithEvents, resourceRows, updateRows } from "../../db/events";
import { callerIsManager, callerIsMember, callerRole, memberCte, type Role } from "../../db/membership";
import { changedFields, queryOne } from "../../db/query";
import { afterName, containsPattern, jsonObject, nameOrder } from "../../db/sql-fragments";
import { failedPrecondition, versionMatches } from "../../db/versions";
import type { FailedPrecondition, IfMatch } from "../../lib/conditional";
import { ApiError } from "../../lib/errors";
import type { Caller } from "../../lib/verify-token";
import { type CreateCustomerBody, type Customer, customerColumns, type UpdateCustomerBody } from "./customers.schemas";

const customerJson = (alias: string) =>
  sql.raw(jsonObject(alias, ["id", "organization_id", ...customerColumns, "version"], ["created_at", "updated_at"]));

/** The customer in `source` (a CTE of one row) as JSON. */
const customerOf = (source: string) => sql`(select ${customerJson("c")} from ${sql.raw(source)} c)`;

export const customerInUse = () =>
  new ApiError("IN_USE", "The customer has projects or invoices; it cannot be deleted");

export async function listCustomers(
  db: Db,
  caller: Caller,
  filter: { limit: number; q?: string; after?: { name: string; id: string } },
) {
  const conditions: SQL[] = [sql`c.organization_id = ${caller.organizationId}::uuid`, callerIsMember];
  if (filter.q) conditions.push(sql`c.name ilike ${containsPattern(filter.q)}`);
  if (filter.after) conditions.push(afterName(sql`c.name`, sql`c.id`, filter.after));
  return queryOne<{ role: Role | null; customers: Customer[] }>(
    db,
    sql`with ${memberCte(caller)},
    page as (
      select * from customers c where ${sql.join(conditions, sql` and `)}
      order by ${nameOrder(sql`c.name`, sql`c.id`)} limit ${filter.limit + 1}
    )
    select ${callerRole} as role,
      coalesce((select json_agg(${customerJson("c")} order by ${nameOrder(sql`c.name`, sql`c.id`)}) from page c), '[]'::json) as customers`,
  );
}

export async function getCustomer(db: Db, caller: Caller, id: string) {
  return queryOne<{ role: Role | null; customer: Customer | null }>(
    db,
    sql`with ${memberCte(caller)}
    select ${callerRole} as role,
      (select ${customerJson("c")} from customers c
       where c.organization_id = ${caller.organizationId}::uuid and c.id = ${id}::uuid and ${callerIsMember}) as customer`,
  );
}

const columnTypes = Object.fromEntries(customerColumns.map((column) => [column, "text"])) as Record<
  (typeof customerColumns)[number],
  "text"
>;

export async function createCustomer(db: Db, caller: Caller, body: CreateCustomerBody) {
  const fields = changedFields(body, columnTypes);
  return queryWithEvents<{ role: Role | null; customer: Customer | null }>(
    db,
    sql`with ${memberCte(caller)},
    inserted as (
      insert into customers (organization_id, ${sql.join(
        fields.given.map((key) => sql.identifier(key)),
        sql`, `,
      )})
      select ${caller.organizationId}::uuid, ${sql.join(fields.given.map(fields.value), sql`, `)}
      where ${callerIsManager}
      returning *
    ),
    ${outboxCtes(caller.organizationId, [{ type: "customer.created", rows: resourceRows(customerOf("inserted")) }])}
    select ${callerRole} as role, ${customerOf("inserted")} as customer, ${deliveriesColumn}`,
  );
}

export async function updateCustomer(
  db: Db,
  caller: Caller,
  id: string,
  changes: UpdateCustomerBody,
  ifMatch?: IfMatch,
) {
  const fields = changedFields(changes, columnTypes);
  const ok = versionMatches("t.version", ifMatch);
  return queryWithEvents<{
    role: Role | null;
    found: boolean;
    precondition_failed: FailedPrecondition | null;
    customer: Customer | null;
  }>(
    db,
    sql`with ${memberCte(caller)},
    -- Locked, so that the If-Match verdict is about the version the write finds.
    target as (
      select c.* from customers c
      where c.organization_id = ${caller.organizationId}::uuid and c.id = ${id}::uuid and ${callerIsManager}
      for update
    ),
    updated as (
      update customers c set ${sql.join(fields.assignments, sql`, `)}, updated_at = now()
      from target t
      where c.organization_id = ${caller.organizationId}::uuid and c.id = t.id and ${ok} and ${fields.differs("t")}
      returning c.*
    ),
    ${fields.answered(ok)},
    ${outboxCtes(caller.organizationId, [{ type: "customer.updated", rows: updateRows(customerOf, "target", "updated") }])}
    select ${callerRole} as role, exists (select 1 from target) as found,
      ${failedPrecondition("target", ifMatch)} as precondition_failed,
      ${customerOf("answered")} as customer, ${deliveriesColumn}`,
  );
}

export const deleteCustomer = (db: Db, caller: Caller, id: string, ifMatch?: IfMatch) =>
  deleteUnlessReferenced(db, caller, {
    table: "customers",
    id,
    ifMatch,
    inUse: sql`exists (select 1 from projects p where p.organization_id = x.organization_id and p.customer_id = x.id)
      or exists (select 1 from invoices i where i.organization_id = x.organization_id and i.customer_id = x.id)`,
    referencingConstraints: ["projects_customer_fk", "invoices_customer_fk"],
    inUseError: customerInUse,
    deletedEvent: "customer.deleted",
  });
