import { type SQL, sql } from "drizzle-orm";
import type { FailedPrecondition, IfMatch } from "../lib/conditional";
import type { ApiError } from "../lib/errors";
import type { Caller } from "../lib/verify-token";
import type { EventType } from "../webhooks/event-types";
import type { Db } from "./client";
import { deliveriesColumn, outboxCtes, queryWithEvents, tombstoneRows } from "./events";
import { callerIsManager, callerRole, memberCte, type Role } from "./membership";
import { withConstraintErrors } from "./query";
import { failedPrecondition, versionMatches } from "./versions";

/**
 * Deletes one row of `table` (aliased `x` in `inUse`) unless `inUse` says other
 * rows still reference it: nothing is ever deleted in cascade. Owners and admins
 * only. A reference created concurrently trips one of `referencingConstraints`,
 * which then answers `inUseError` too. With `ifMatch`, only the version it names
 * is deleted. A deletion writes `deletedEvent` (webhooks) in the same statement.
 */
export async function deleteUnlessReferenced(
  db: Db,
  caller: Caller,
  options: {
    table: string;
    id: string;
    inUse: SQL;
    referencingConstraints: string[];
    inUseError: () => ApiError;
    ifMatch?: IfMatch;
    deletedEvent: EventType;
  },
) {
  const table = sql.identifier(options.table);
  const result = await withConstraintErrors(
    () =>
      queryWithEvents<{
        role: Role | null;
        found: boolean;
        precondition_failed: FailedPrecondition | null;
        in_use: boolean;
        deleted: boolean;
      }>(
        db,
        sql`with ${memberCte(caller)},
        target as (
          select x.id, x.version, ${options.inUse} as in_use
          from ${table} x
          where x.organization_id = ${caller.organizationId}::uuid and x.id = ${options.id}::uuid and ${callerIsManager}
          for update
        ),
        deleted as (
          delete from ${table} x using target t
          where x.id = t.id and not t.in_use and ${versionMatches("t.version", options.ifMatch)}
          returning x.id, x.version + 1 as version, now() as deleted_at
        ),
        ${outboxCtes(caller.organizationId, [{ type: options.deletedEvent, rows: tombstoneRows("deleted") }])}
        select ${callerRole} as role, exists (select 1 from target) as found,
          ${failedPrecondition("target", options.ifMatch)} as precondition_failed,
          coalesce((select in_use from target), false) as in_use, exists (select 1 from deleted) as deleted,
          ${deliveriesColumn}`,
      ),
    Object.fromEntries(options.referencingConstraints.map((name) => [name, options.inUseError])),
  );
  if (result.found && !result.precondition_failed && !result.in_use && !result.deleted)
    throw new Error("the delete matched no row although every check passed");
  return result;
}
