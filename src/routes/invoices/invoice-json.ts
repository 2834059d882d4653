import { type SQL, sql } from "drizzle-orm";
import { previousAttributes, resourceRows } from "../../db/events";
import { amountOfRatedSeconds, isoUtcText } from "../../db/sql-fragments";
import type { Caller } from "../../lib/verify-token";

// An invoice as the API answers it, and its webhook event rows.

export const invoiceJson = (extra: SQL = sql``) => sql`json_build_object(
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

export const withCustomer = (source: string) =>
  sql`${sql.raw(source)} i left join customers c on c.organization_id = i.organization_id and c.id = i.customer_id`;

/**
 * The summary of the entries in `entries` (a CTE, or a parenthesised query), at the rates of `projects`. Amounts are
 * numeric all the way: hours × rate summed per currency, then rounded to the currency's minor unit (cents, mostly),
 * and sent as text.
 */
export const summaryOf = (entries: string, projects = "projects") => sql`json_build_object(
    'entry_count', (select count(*) from ${sql.raw(entries)} e),
    'total_seconds', (select coalesce(sum(e.duration), 0) from ${sql.raw(entries)} e),
    'billable_seconds', (select coalesce(sum(e.duration) filter (where e.billable), 0) from ${sql.raw(entries)} e),
    'amounts', coalesce((
      select json_agg(json_build_object('currency', a.currency, 'amount', a.amount::text) order by a.currency)
      from (
        select p.currency, ${sql.raw(amountOfRatedSeconds("sum(e.duration * p.hourly_rate)", "p.currency"))} as amount
        from ${sql.raw(entries)} e join ${sql.raw(projects)} p on p.organization_id = e.organization_id and p.id = e.project_id
        where e.billable and p.hourly_rate is not null and e.duration is not null
        group by p.currency
      ) a
    ), '[]'::json)
  )`;

/**
 * The one invoice in `source` with its summary: a draft's is computed from the entries in the CTE `entries` at the
 * projects' current rates; an issued invoice's was frozen when it left draft (`issued_summary`), so a later change
 * of a project's rate or currency, or voiding (which releases the entries), leaves what was billed as it was.
 */
export const invoiceWithSummaryOf = (source: string) =>
  sql`(select ${invoiceJson(sql`, 'summary', coalesce(i.issued_summary, ${summaryOf("entries")})`)} from ${withCustomer(source)})`;

/** The columns of an entry a summary reads. */
const ENTRY_COLUMNS = "duration, billable, project_id, organization_id";
export const entryColumns = sql.raw(ENTRY_COLUMNS);

/**
 * `invoice.updated` event rows for the drafts in `drafts` (invoice rows) whose summary a change of rate or currency
 * moved, each summed at the rates of `projects` (which holds the project as the statement leaves it).
 */
export const repricedDraftRows = (drafts: string, projects: string) =>
  sql`select ${invoiceJson(
    sql`, 'summary', ${summaryOf(
      `(select ${ENTRY_COLUMNS} from time_entries te where te.organization_id = i.organization_id and te.invoice_id = i.id)`,
      projects,
    )}`,
  )} as data, '{}'::json as previous_attributes from ${withCustomer(drafts)}`;

/** The entries attached to the invoice in `source`, as the statement's snapshot sees them. */
export const attachedEntries = (caller: Caller, source: string) =>
  sql`select ${entryColumns} from time_entries
  where organization_id = ${caller.organizationId}::uuid and invoice_id = (select id from ${sql.raw(source)})`;

/** The invoice in `source` without its summary: what an update's `previous_attributes` compare. */
const invoiceOf = (source: string) => sql`(select ${invoiceJson()} from ${withCustomer(source)})`;

/** Webhook event rows for the invoice changed from the row of `before` to the one of `after` (with its summary). */
export const changedInvoiceRows = (before: string, after: string) =>
  resourceRows(invoiceWithSummaryOf(after), previousAttributes(invoiceOf(before), invoiceOf(after)));

/** Webhook event rows for an invoice whose status changed from `before` to `after`: `previous_attributes.status`. */
export const statusChangeRows = (before: string, after: string) =>
  resourceRows(
    sql`case when (select status from ${sql.raw(before)}) <> (select status from ${sql.raw(after)})
      then ${invoiceWithSummaryOf(after)} end`,
    sql`json_build_object('status', (select status from ${sql.raw(before)}))`,
  );
