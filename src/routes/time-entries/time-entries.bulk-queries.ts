import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { deliveriesColumn, outboxCtes, queryWithEvents, tombstoneRows } from "../../db/events";
import { callerRole, memberCte, type Role, visibleTo } from "../../db/membership";
import { changedFields, withConstraintErrors } from "../../db/query";
import { uuidArray } from "../../db/sql-fragments";
import type { Caller } from "../../lib/verify-token";
import { changedEntryRows, withRelations } from "./entry-json";
import type { BulkTimeEntryChanges } from "./time-entries.bulk-schemas";
import { inactiveProjectErrors } from "./time-entries.errors";
import type { TimeEntry } from "./time-entries.schemas";
import { columnTypes, tombstone } from "./time-entries.writes";

// Bulk edits, all or nothing, each in one statement: the candidate rows are
// locked (in id order, so two bulk edits over the same entries queue instead of
// deadlocking), every id gets its verdict from the locked rows, and the write
// happens only when every id passes. A concurrent attach to an invoice or delete
// either commits first, and the lock then sees its result (locked, or gone), or
// waits for this statement.

type BulkVerdicts = {
  role: Role | null;
  /** Requested ids that are no live entry the caller may change, sorted. */
  missing: string[];
  /** Requested ids of entries attached to an invoice, sorted. */
  locked: string[];
};

/** The CTEs `found` (the caller's live entries among `ids`, locked) and `allowed` (every id passes `gates`). */
function lockedCandidates(caller: Caller, ids: string[], gates: SQL[] = []) {
  return sql`${memberCte(caller)},
    found as (
      select te.* from time_entries te
      where te.organization_id = ${caller.organizationId}::uuid and te.id = any(${uuidArray(ids)})
        and te.deleted_at is null and ${visibleTo(caller, "te")}
      order by te.id
      for update
    ),
    allowed as (
      select (select count(*) from found) = ${ids.length}
        and not exists (select 1 from found where invoice_id is not null)
        ${sql.join(
          gates.map((gate) => sql` and ${gate}`),
          sql``,
        )} as ok
    )`;
}

const verdicts = (ids: string[]) => sql`${callerRole} as role,
  (select coalesce(json_agg(r.id order by r.id), '[]'::json) from unnest(${uuidArray(ids)}) r(id)
   where r.id not in (select id from found)) as missing,
  (select coalesce(json_agg(f.id order by f.id), '[]'::json) from found f where f.invoice_id is not null) as locked`;

/** Sets the same `changes` on every entry of `ids` (lower-case, distinct). */
export async function bulkUpdateTimeEntries(db: Db, caller: Caller, ids: string[], changes: BulkTimeEntryChanges) {
  // Entries that already have every given value are not written, and answered as they are.
  const fields = changedFields(changes, columnTypes);
  const projectId = changes.project_id;
  const projectGate = projectId ? sql`exists (select 1 from project)` : sql`true`;
  // The project is locked as the entries' foreign key would lock it, but before the write: one deleted meanwhile
  // is no project (400), never a foreign key violation.
  const projectCte = projectId
    ? sql`project as (
        select id from projects where organization_id = ${caller.organizationId}::uuid and id = ${projectId}::uuid
        for key share
      ),`
    : sql``;
  return withConstraintErrors(
    () =>
      queryWithEvents<BulkVerdicts & { project_found: boolean; entries: TimeEntry[] }>(
        db,
        sql`with ${projectCte} ${lockedCandidates(caller, ids, [projectGate])},
    updated as (
      update time_entries te set ${sql.join(fields.assignments, sql`, `)}, updated_at = now()
      from found f
      where te.organization_id = ${caller.organizationId}::uuid and te.id = f.id and (select ok from allowed)
        and ${fields.differs("f")}
      returning te.*
    ),
    ${fields.answered(sql`(select ok from allowed)`, "f", "found f")},
    ${outboxCtes(caller.organizationId, [{ type: "time_entry.updated", rows: changedEntryRows("found", "updated") }])}
    select ${verdicts(ids)}, ${deliveriesColumn},
      ${projectGate} as project_found,
      coalesce(
        (select json_agg(x.entry order by r.position)
         from (${withRelations("answered")}) x
         join unnest(${uuidArray(ids)}) with ordinality r(id, position) on r.id = x.id),
        '[]'::json
      ) as entries`,
      ),
    inactiveProjectErrors,
  );
}

/** Soft-deletes every entry of `ids` (lower-case, distinct), exactly as the single delete does. */
export async function bulkDeleteTimeEntries(db: Db, caller: Caller, ids: string[]) {
  return queryWithEvents<BulkVerdicts & { deleted: number }>(
    db,
    sql`with ${lockedCandidates(caller, ids)},
    deleted as (
      update time_entries te set ${tombstone}
      from found f
      where te.organization_id = ${caller.organizationId}::uuid and te.id = f.id and (select ok from allowed)
      returning te.id, te.version, te.deleted_at
    ),
    ${outboxCtes(caller.organizationId, [{ type: "time_entry.deleted", rows: tombstoneRows("deleted") }])}
    select ${verdicts(ids)}, (select count(*)::int from deleted) as deleted, ${deliveriesColumn}`,
  );
}
