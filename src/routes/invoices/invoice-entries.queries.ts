import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { deliveriesColumn, outboxCtes, queryWithEvents } from "../../db/events";
import { callerRole, memberCte, type Role } from "../../db/membership";
import { abortedIf, uuidArray } from "../../db/sql-fragments";
import type { Caller } from "../../lib/verify-token";
import { changedEntryRows } from "../time-entries/entry-json";
import { attachedEntries, changedInvoiceRows, entryColumns, invoiceWithSummaryOf } from "./invoice-json";
import { abortedIfChanged, changedSinceSnapshot, targetInvoice } from "./invoices.queries";
import type { InvoiceStatus, InvoiceWithSummary } from "./invoices.schemas";

// Attaching time entries to a draft invoice and detaching them: all or nothing, each in one statement.

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
  return queryWithEvents<EntryChangeResult>(
    db,
    sql`with ${memberCte(caller)},
    ${targetInvoice(caller, id)},
    -- Locked alone, then joined to their projects: a locked row that a concurrent write changed is rechecked on its
    -- new version, but a join in the locking query would be rechecked against the project the old version named.
    locked as (
      select te.* from time_entries te
      where te.organization_id = ${caller.organizationId}::uuid and te.id = any(${uuidArray(ids)})
        and te.deleted_at is null and exists (select 1 from target)
      for update
    ),
    -- Their projects locked FOR SHARE and read as locked: a project moving to another customer meanwhile is read with
    -- its new customer, and cannot move until this attach commits (the projects_customer_fixed_while_on_draft
    -- trigger then sees the entries on this draft, drizzle/0016).
    found as (
      select l.*, p.customer_id, p.version as project_version
      from locked l
      left join lateral (
        select p.customer_id, p.version from projects p
        where p.organization_id = l.organization_id and p.id = l.project_id
        for share
      ) p on true
    ),
    -- The summary reads projects as of the statement's snapshot: one that changed while this attach waited for its
    -- lock (a new rate or currency among others) would be billed at its old values in the answer and the event,
    -- under a version that bills the new ones. Then the statement runs again on a fresh snapshot.
    projects_changed as (
      select exists (
        select 1 from found f join projects p on p.organization_id = f.organization_id and p.id = f.project_id
        where p.version <> f.project_version
      ) as any_changed
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
      select (select status from target) = 'draft' and not ${changedSinceSnapshot(caller, id)}
        and not (select any_changed from projects_changed) and (select count(*) from found) = ${ids.length}
        and not exists (select 1 from verdicts where verdict not in ('ok', 'attached')) as ok
    ),
    changed as (
      update time_entries te set invoice_id = (select id from target), updated_at = now()
      where te.organization_id = ${caller.organizationId}::uuid
        and te.id in (select id from verdicts where verdict = 'ok') and (select ok from allowed)
      returning te.*
    ),
    touched as (update invoices i set updated_at = now() from target t where i.id = t.id and exists (select 1 from changed) returning i.*),
    entries as (${attachedEntries(caller, "target")} union all select ${entryColumns} from changed),
    ${entryChangeEvents(caller, "found")}
    ${entryChangeResult(caller, id, ids)},
    ${abortedIf(sql`(select any_changed from projects_changed)`, "a project changed while this statement waited for it", "stale_project")}`,
  );
}

/** Detaches entries from a draft invoice, all or nothing. */
export async function detachEntries(db: Db, caller: Caller, id: string, ids: string[]) {
  return queryWithEvents<EntryChangeResult>(
    db,
    sql`with ${memberCte(caller)},
    ${targetInvoice(caller, id)},
    found as (
      select te.* from time_entries te
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
      select (select status from target) = 'draft' and not ${changedSinceSnapshot(caller, id)}
        and (select count(*) from found) = ${ids.length}
        and not exists (select 1 from verdicts where verdict <> 'ok') as ok
    ),
    changed as (
      update time_entries te set invoice_id = null, updated_at = now()
      where te.organization_id = ${caller.organizationId}::uuid
        and te.id in (select id from found) and (select ok from allowed)
      returning te.*
    ),
    touched as (update invoices i set updated_at = now() from target t where i.id = t.id and exists (select 1 from changed) returning i.*),
    entries as (
      select ${entryColumns} from time_entries
      where organization_id = ${caller.organizationId}::uuid and invoice_id = (select id from target)
        and id not in (select id from changed)
    ),
    ${entryChangeEvents(caller, "found")}
    ${entryChangeResult(caller, id, ids)}`,
  );
}

/**
 * Attach and detach: `time_entry.updated` for each entry of `changed` (its rows in `before` as they were), and
 * `invoice.updated` for the invoice when any entry moved (its summary changed, its own attributes did not).
 */
const entryChangeEvents = (caller: Caller, before: string) =>
  outboxCtes(caller.organizationId, [
    { type: "time_entry.updated", rows: changedEntryRows(before, "changed") },
    { type: "invoice.updated", rows: changedInvoiceRows("target", "touched") },
  ]);

const entryChangeResult = (
  caller: Caller,
  id: string,
  ids: string[],
) => sql`select ${callerRole} as role, (select status from target) as status, ${deliveriesColumn},
  ${abortedIfChanged(caller, id)},
  (select coalesce(json_agg(r.id order by r.id), '[]'::json) from unnest(${uuidArray(ids)}) r(id)
   where r.id not in (select id from found)) as missing,
  (select json_object_agg(v.verdict, v.ids) from (
    select verdict, json_agg(id order by id) as ids from verdicts where verdict not in ('ok', 'attached') group by verdict
  ) v) as refused,
  ${invoiceWithSummaryOf("(select * from touched union all select * from target where not exists (select 1 from touched))")}
    as invoice`;
