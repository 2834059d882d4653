import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { callerIsManager, callerRole, memberCte, type Role } from "../../db/membership";
import { changedFields, queryOne, withConstraintErrors } from "../../db/query";
import { isoUtcText, uuidArray } from "../../db/sql-fragments";
import { failsIfMatch, versionMatches } from "../../db/versions";
import type { IfMatch } from "../../lib/conditional";
import { ApiError, invalidField } from "../../lib/errors";
import type { Caller } from "../../lib/verify-token";
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

const invoiceJson = (extra: SQL = sql``) => sql`json_build_object(
  'id', i.id,
  'organization_id', i.organization_id,
  'customer_id', i.customer_id,
  'number', i.number,
  'status', i.status,
  'date', i.date,
  'due_date', i.due_date,
  'created_at', ${sql.raw(isoUtcText("i.created_at"))},
  'updated_at', ${sql.raw(isoUtcText("i.updated_at"))},
  'version', i.version,
  'customer', case when c.id is null then null else json_build_object('id', c.id, 'name', c.name, 'email', c.email) end
  ${extra}
)`;

const withCustomer = (source: string) =>
  sql`${sql.raw(source)} i left join customers c on c.organization_id = i.organization_id and c.id = i.customer_id`;

/**
 * The one invoice in `source` with the summary of the entries in the CTE
 * `entries`. Amounts are numeric all the way: hours × rate summed per currency,
 * then rounded to cents, and sent as text.
 */
const invoiceWithSummaryOf = (source: string) =>
  sql`(select ${invoiceJson(sql`, 'summary', json_build_object(
    'entry_count', (select count(*) from entries),
    'total_seconds', (select coalesce(sum(e.duration), 0) from entries e),
    'billable_seconds', (select coalesce(sum(e.duration) filter (where e.billable), 0) from entries e),
    'amounts', coalesce((
      select json_agg(json_build_object('currency', a.currency, 'amount', a.amount::text) order by a.currency)
      from (
        select p.currency, round(sum(e.duration * p.hourly_rate / 3600), 2) as amount
        from entries e join projects p on p.organization_id = e.organization_id and p.id = e.project_id
        where e.billable and p.hourly_rate is not null and e.duration is not null
        group by p.currency
      ) a
    ), '[]'::json)
  )`)} from ${withCustomer(source)})`;

const entryColumns = sql.raw("duration, billable, project_id, organization_id");

/** The entries attached to the invoice in `source`, as the statement's snapshot sees them. */
const attachedEntries = (caller: Caller, source: string) =>
  sql`select ${entryColumns} from time_entries
  where organization_id = ${caller.organizationId}::uuid and invoice_id = (select id from ${sql.raw(source)})`;

export const duplicateNumber = (number: string) =>
  new ApiError("DUPLICATE_NUMBER", `An invoice numbered ${number} already exists`, { number });
export const unknownCustomer = () => invalidField("customer_id", "No such customer in this organization");

const targetInvoice = (caller: Caller, id: string) =>
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
      queryOne<{ role: Role | null; customer_found: boolean; invoice: InvoiceWithSummary | null }>(
        db,
        sql`with ${memberCte(caller)},
        inserted as (
          insert into invoices (organization_id, customer_id, number, date, due_date)
          select ${caller.organizationId}::uuid, ${body.customer_id}::uuid, ${body.number}, ${body.date}::date,
            ${body.due_date ?? null}::date
          where ${callerIsManager} and ${customerFound}
          returning *
        ),
        entries as (select ${entryColumns} from time_entries where false)
        select ${callerRole} as role, ${customerFound} as customer_found, ${invoiceWithSummaryOf("inserted")} as invoice`,
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

export async function updateInvoice(db: Db, caller: Caller, id: string, changes: UpdateInvoiceBody, ifMatch?: IfMatch) {
  const fields = changedFields(changes, columnTypes);
  const editsContent = fields.given.some((key) => key !== "status");
  const moveAllowed = changes.status
    ? sql`(t.status = ${changes.status} or (t.status, ${changes.status}::text) in (${allowedMoves}))`
    : sql`true`;
  return withConstraintErrors(
    () =>
      queryOne<{
        role: Role | null;
        status: InvoiceStatus | null;
        precondition_failed: boolean;
        move_allowed: boolean;
        invoice: InvoiceWithSummary | null;
      }>(
        db,
        sql`with ${memberCte(caller)},
        ${targetInvoice(caller, id)},
        verdict as (
          select t.id, ${moveAllowed} as move_allowed,
            ${editsContent ? sql`t.status = 'draft'` : sql`true`} as editable
          from target t
        ),
        updated as (
          update invoices i set ${sql.join(fields.assignments, sql`, `)}, updated_at = now()
          from verdict v where i.id = v.id and v.move_allowed and v.editable
            and ${versionMatches("i.version", ifMatch)}
          returning i.*
        ),
        entries as (${attachedEntries(caller, "updated")})
        select ${callerRole} as role, (select status from target) as status,
          ${failsIfMatch("target", ifMatch)} as precondition_failed,
          coalesce((select move_allowed from verdict), false) as move_allowed,
          ${invoiceWithSummaryOf("updated")} as invoice`,
      ),
    {
      invoices_organization_id_number_key: () => duplicateNumber(changes.number ?? ""),
      invoices_due_date_check: () => invalidField("due_date", dueDateMessage),
    },
  );
}

export async function deleteInvoice(db: Db, caller: Caller, id: string, ifMatch?: IfMatch) {
  // The target is locked, so its version is the one the delete finds.
  const deletable = sql`t.status = 'draft' and ${versionMatches("t.version", ifMatch)}`;
  return queryOne<{ role: Role | null; status: InvoiceStatus | null; precondition_failed: boolean }>(
    db,
    sql`with ${memberCte(caller)},
    ${targetInvoice(caller, id)},
    released as (
      update time_entries te set invoice_id = null, updated_at = now()
      from target t
      where te.organization_id = t.organization_id and te.invoice_id = t.id and ${deletable}
      returning te.id
    ),
    deleted as (delete from invoices i using target t where i.id = t.id and ${deletable} returning i.id)
    select ${callerRole} as role, (select status from target) as status,
      ${failsIfMatch("target", ifMatch)} as precondition_failed`,
  );
}

export type EntryChangeResult = {
  role: Role | null;
  status: InvoiceStatus | null;
  /** Requested ids that are no time entry of the organization. */
  missing: string[];
  /** Requested ids that cannot take part, by reason. */
  refused: Record<string, string[]> | null;
  invoice: InvoiceWithSummary | null;
};

/**
 * Attaches entries to a draft invoice, all or nothing. The invoice and the
 * candidate entries are locked first, so a concurrent attach to another
 * invoice waits and then sees these entries as invoiced.
 */
export async function attachEntries(db: Db, caller: Caller, id: string, ids: string[]) {
  return queryOne<EntryChangeResult>(
    db,
    sql`with ${memberCte(caller)},
    ${targetInvoice(caller, id)},
    found as (
      select te.id, te.end_time, te.invoice_id, p.customer_id
      from time_entries te
      left join projects p on p.organization_id = te.organization_id and p.id = te.project_id
      where te.organization_id = ${caller.organizationId}::uuid and te.id = any(${uuidArray(ids)})
        and te.deleted_at is null and exists (select 1 from target)
      for update of te
    ),
    verdicts as (
      select f.id, case
        when f.invoice_id = (select id from target) then 'attached'
        when f.invoice_id is not null then 'invoiced'
        when f.end_time is null then 'running'
        when f.customer_id is distinct from (select customer_id from target) then 'other_customer'
        else 'ok' end as verdict
      from found f
    ),
    allowed as (
      select (select status from target) = 'draft'
        and (select count(*) from found) = ${ids.length}
        and not exists (select 1 from verdicts where verdict not in ('ok', 'attached')) as ok
    ),
    changed as (
      update time_entries te set invoice_id = (select id from target), updated_at = now()
      where te.organization_id = ${caller.organizationId}::uuid
        and te.id in (select id from verdicts where verdict = 'ok') and (select ok from allowed)
      returning te.*
    ),
    touched as (update invoices i set updated_at = now() from target t where i.id = t.id and exists (select 1 from changed) returning i.*),
    entries as (${attachedEntries(caller, "target")} union all select ${entryColumns} from changed)
    ${entryChangeResult(ids)}`,
  );
}

/** Detaches entries from a draft invoice, all or nothing. */
export async function detachEntries(db: Db, caller: Caller, id: string, ids: string[]) {
  return queryOne<EntryChangeResult>(
    db,
    sql`with ${memberCte(caller)},
    ${targetInvoice(caller, id)},
    found as (
      select te.id, te.invoice_id from time_entries te
      where te.organization_id = ${caller.organizationId}::uuid and te.id = any(${uuidArray(ids)})
        and te.deleted_at is null and exists (select 1 from target)
      for update
    ),
    verdicts as (
      select f.id, case when f.invoice_id is distinct from (select id from target) then 'not_attached' else 'ok' end
        as verdict
      from found f
    ),
    allowed as (
      select (select status from target) = 'draft'
        and (select count(*) from found) = ${ids.length}
        and not exists (select 1 from verdicts where verdict <> 'ok') as ok
    ),
    changed as (
      update time_entries te set invoice_id = null, updated_at = now()
      where te.organization_id = ${caller.organizationId}::uuid
        and te.id in (select id from found) and (select ok from allowed)
      returning te.id
    ),
    touched as (update invoices i set updated_at = now() from target t where i.id = t.id and exists (select 1 from changed) returning i.*),
    entries as (
      select ${entryColumns} from time_entries
      where organization_id = ${caller.organizationId}::uuid and invoice_id = (select id from target)
        and id not in (select id from changed)
    )
    ${entryChangeResult(ids)}`,
  );
}

const entryChangeResult = (ids: string[]) => sql`select ${callerRole} as role, (select status from target) as status,
  (select coalesce(json_agg(r.id order by r.id), '[]'::json) from unnest(${uuidArray(ids)}) r(id)
   where r.id not in (select id from found)) as missing,
  (select json_object_agg(v.verdict, v.ids) from (
    select verdict, json_agg(id order by id) as ids from verdicts where verdict not in ('ok', 'attached') group by verdict
  ) v) as refused,
  ${invoiceWithSummaryOf("(select * from touched union all select * from target where not exists (select 1 from touched))")}
    as invoice`;
