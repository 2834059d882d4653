import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import {
  deliveriesColumn,
  type OutboxEvent,
  outboxCtes,
  queryWithEvents,
  resourceRows,
  tombstoneRows,
} from "../../db/events";
import { callerIsManager, callerRole, memberCte, type Role } from "../../db/membership";
import { changedFields, queryOne, withConstraintErrors } from "../../db/query";
import { abortedIf } from "../../db/sql-fragments";
import { failedPrecondition, versionMatches } from "../../db/versions";
import type { FailedPrecondition, IfMatch } from "../../lib/conditional";
import { ApiError, invalidField } from "../../lib/errors";
import type { Caller } from "../../lib/verify-token";
import { changedEntryRows, entriesBefore } from "../time-entries/entry-json";
import {
  attachedEntries,
  changedInvoiceRows,
  entryColumns,
  invoiceJson,
  invoiceWithSummaryOf,
  statusChangeRows,
  summaryOf,
  withCustomer,
} from "./invoice-json";
import {
  type CreateInvoiceBody,
  dueDateMessage,
  type Invoice,
  type InvoiceStatus,
  type InvoiceWithSummary,
  STATUS_TRANSITIONS,
  type UpdateInvoiceBody,
} from "./invoices.schemas";

// Invoices are for owners and admins only: every statement gates on the
// caller's role, and members get 403 from the handler.

export const duplicateNumber = (number: string) =>
  new ApiError("DUPLICATE_NUMBER", `An invoice numbered ${number} already exists`, { number });
export const unknownCustomer = () => invalidField("customer_id", "No such customer in this organization");

export const targetInvoice = (caller: Caller, id: string) =>
  sql`target as (
    select * from invoices i
    where i.organization_id = ${caller.organizationId}::uuid and i.id = ${id}::uuid and ${callerIsManager}
    for update
  )`;

export async function listInvoices(
  db: Db,
  caller: Caller,
  filter: { limit: number; status?: InvoiceStatus; customerId?: string; before?: { date: string; id: string } },
) {
  const conditions: SQL[] = [sql`i.organization_id = ${caller.organizationId}::uuid`, callerIsManager];
  if (filter.status) conditions.push(sql`i.status = ${filter.status}`);
  if (filter.customerId) conditions.push(sql`i.customer_id = ${filter.customerId}::uuid`);
  if (filter.before) conditions.push(sql`(i.date, i.id) < (${filter.before.date}::date, ${filter.before.id}::uuid)`);
  return queryOne<{ role: Role | null; invoices: Invoice[] }>(
    db,
    sql`with ${memberCte(caller)},
    page as (
      select * from invoices i where ${sql.join(conditions, sql` and `)}
      order by i.date desc, i.id desc limit ${filter.limit + 1}
    )
    select ${callerRole} as role,
      coalesce((select json_agg(${invoiceJson()} order by i.date desc, i.id desc) from ${withCustomer("page")}), '[]'::json)
        as invoices`,
  );
}

export async function getInvoice(db: Db, caller: Caller, id: string) {
  return queryOne<{ role: Role | null; invoice: InvoiceWithSummary | null }>(
    db,
    sql`with ${memberCte(caller)},
    target as (
      select * from invoices i
      where i.organization_id = ${caller.organizationId}::uuid and i.id = ${id}::uuid and ${callerIsManager}
    ),
    entries as (${attachedEntries(caller, "target")})
    select ${callerRole} as role, ${invoiceWithSummaryOf("target")} as invoice`,
  );
}

export async function createInvoice(db: Db, caller: Caller, body: CreateInvoiceBody) {
  const customerFound = sql`exists (
    select 1 from customers where organization_id = ${caller.organizationId}::uuid and id = ${body.customer_id}::uuid
  )`;
  return withConstraintErrors(
    () =>
      queryWithEvents<{ role: Role | null; customer_found: boolean; invoice: InvoiceWithSummary | null }>(
        db,
        sql`with ${memberCte(caller)},
        inserted as (
          insert into invoices (organization_id, customer_id, number, date, due_date)
          select ${caller.organizationId}::uuid, ${body.customer_id}::uuid, ${body.number}, ${body.date}::date,
            ${body.due_date ?? null}::date
          where ${callerIsManager} and ${customerFound}
          returning *
        ),
        entries as (select ${entryColumns} from time_entries where false),
        ${outboxCtes(caller.organizationId, [{ type: "invoice.created", rows: resourceRows(invoiceWithSummaryOf("inserted")) }])}
        select ${callerRole} as role, ${customerFound} as customer_found, ${invoiceWithSummaryOf("inserted")} as invoice,
          ${deliveriesColumn}`,
      ),
    {
      invoices_organization_id_number_key: () => duplicateNumber(body.number),
      invoices_customer_fk: unknownCustomer,
    },
  );
}

const allowedMoves = sql.join(
  Object.entries(STATUS_TRANSITIONS).flatMap(([from, targets]) => targets.map((to) => sql`(${from}, ${to})`)),
  sql`, `,
);

const columnTypes = { number: "text", date: "date", due_date: "date", status: "text" } as const;

/**
 * Whether the invoice locked in `target` was changed after this statement's snapshot: an attach or detach that
 * committed while the statement waited for the lock. The statement's other reads (the attached entries) are of the
 * snapshot, so its writes must not act on them, nor its answer or events show their summary. Told by the version,
 * which every update of the row moves (drizzle/0020): two writes may share an `updated_at`.
 */
export const changedSinceSnapshot = (caller: Caller, id: string) =>
  sql`coalesce((select i.version from invoices i
    where i.organization_id = ${caller.organizationId}::uuid and i.id = ${id}::uuid) <> (select version from target), false)`;

/**
 * A column that aborts the statement when the invoice changed since its snapshot (its writes, gated on
 * `changedSinceSnapshot`, did nothing): a serialization failure (drizzle/0023), rolled back whole with any
 * Idempotency-Key claim it carries and sent again by `queryRows` on a fresh snapshot (rare: a race).
 */
export const abortedIfChanged = (caller: Caller, id: string) =>
  abortedIf(changedSinceSnapshot(caller, id), "the invoice changed while this statement waited for it", "stale");

export async function updateInvoice(db: Db, caller: Caller, id: string, changes: UpdateInvoiceBody, ifMatch?: IfMatch) {
  const fields = changedFields(changes, columnTypes);
  const editsContent = fields.given.some((key) => key !== "status");
  const moveAllowed = changes.status
    ? sql`(t.status = ${changes.status} or (t.status, ${changes.status}::text) in (${allowedMoves}))`
    : sql`true`;
  // Leaving draft freezes what the invoice bills (a draft asked to stay a draft still follows its entries); voiding
  // releases its entries, unbilled, to be billed again.
  const assignments =
    changes.status && changes.status !== "draft"
      ? [
          ...fields.assignments,
          sql`issued_summary = case when i.status = 'draft' then ${summaryOf("entries")} else i.issued_summary end`,
        ]
      : fields.assignments;
  const voids = changes.status === "void";
  const events: OutboxEvent[] = [{ type: "invoice.updated", rows: changedInvoiceRows("target", "updated") }];
  if (changes.status) events.push({ type: "invoice.status_changed", rows: statusChangeRows("target", "updated") });
  if (voids) events.push({ type: "time_entry.updated", rows: changedEntryRows(entriesBefore("released"), "released") });
  return withConstraintErrors(
    () =>
      queryWithEvents<{
        role: Role | null;
        status: InvoiceStatus | null;
        precondition_failed: FailedPrecondition | null;
        move_allowed: boolean;
        invoice: InvoiceWithSummary | null;
      }>(
        db,
        sql`with ${memberCte(caller)},
          ${targetInvoice(caller, id)},
          entries as (${attachedEntries(caller, "target")}),
          verdict as (
            select t.id, ${moveAllowed} as move_allowed,
              ${editsContent ? sql`t.status = 'draft'` : sql`true`} as editable,
              ${changedSinceSnapshot(caller, id)} as stale
            from target t
          ),
          updated as (
            update invoices i set ${sql.join(assignments, sql`, `)}, updated_at = now()
            from verdict v where i.id = v.id and v.move_allowed and v.editable and not v.stale
              and ${versionMatches("i.version", ifMatch)} and ${fields.differs("i")}
            returning i.*
          ),
          ${
            voids
              ? sql`released as (
                  update time_entries te set invoice_id = null, updated_at = now()
                  from updated u where te.organization_id = u.organization_id and te.invoice_id = u.id
                  returning te.*
                ),`
              : sql``
          }
          ${fields.answered(
            sql`v.move_allowed and v.editable and not v.stale and ${versionMatches("t.version", ifMatch)}`,
            "t",
            "target t, verdict v",
          )},
          ${outboxCtes(caller.organizationId, events)}
          select ${callerRole} as role, (select status from target) as status,
            ${failedPrecondition("target", ifMatch)} as precondition_failed,
            coalesce((select move_allowed from verdict), false) as move_allowed,
            ${abortedIfChanged(caller, id)},
            ${invoiceWithSummaryOf("answered")} as invoice, ${deliveriesColumn}`,
      ),
    {
      invoices_organization_id_number_key: () => duplicateNumber(changes.number ?? ""),
      invoices_due_date_check: () => invalidField("due_date", dueDateMessage),
    },
  );
}

export async function deleteInvoice(db: Db, caller: Caller, id: string, ifMatch?: IfMatch) {
  // The target is locked, so its version is the one the delete finds; entries attached while the statement waited
  // for that lock are not in its snapshot (the delete would break their foreign key): then it aborts, and runs again.
  const stale = changedSinceSnapshot(caller, id);
  const deletable = sql`t.status = 'draft' and ${versionMatches("t.version", ifMatch)} and not ${stale}`;
  return queryWithEvents<{
    role: Role | null;
    status: InvoiceStatus | null;
    precondition_failed: FailedPrecondition | null;
  }>(
    db,
    sql`with ${memberCte(caller)},
      ${targetInvoice(caller, id)},
      released as (
        update time_entries te set invoice_id = null, updated_at = now()
        from target t
        where te.organization_id = t.organization_id and te.invoice_id = t.id and ${deletable}
        returning te.*
      ),
      deleted as (
        delete from invoices i using target t where i.id = t.id and ${deletable}
        returning i.id, i.version + 1 as version, now() as deleted_at
      ),
      ${outboxCtes(caller.organizationId, [
        { type: "time_entry.updated", rows: changedEntryRows(entriesBefore("released"), "released") },
        { type: "invoice.deleted", rows: tombstoneRows("deleted") },
      ])}
      select ${callerRole} as role, (select status from target) as status, ${abortedIfChanged(caller, id)},
        ${failedPrecondition("target", ifMatch)} as precondition_failed, ${deliveriesColumn}`,
  );
}
