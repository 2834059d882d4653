import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { callerIsManager, callerIsMember, callerRole, memberCte, type Role } from "../../db/membership";
import { changedFields, queryOne } from "../../db/query";
import { jsonObject } from "../../db/sql-fragments";
import { withTimeZoneErrors } from "../../db/time-zone";
import { failedPrecondition, versionMatches } from "../../db/versions";
import type { FailedPrecondition, IfMatch } from "../../lib/conditional";
import type { Caller } from "../../lib/verify-token";
import type { Organization, UpdateOrganizationBody } from "./organizations.schemas";

const organizationJson = (alias: string) =>
  sql.raw(
    jsonObject(
      alias,
      [
        "id",
        "name",
        "timezone",
        "prevent_overlaps",
        "week_start",
        "version",
        ["limits", `json_build_object('webhook_subscriptions', ${alias}.webhook_subscriptions_limit)`],
      ],
      ["created_at", "updated_at"],
    ),
  );

export async function getOrganization(db: Db, caller: Caller) {
  return queryOne<{ role: Role | null; organization: Organization | null }>(
    db,
    sql`with ${memberCte(caller)}
    select ${callerRole} as role,
      (select ${organizationJson("o")} from organizations o
       where o.id = ${caller.organizationId}::uuid and ${callerIsMember}) as organization`,
  );
}

const columnTypes = { name: "text", timezone: "text", prevent_overlaps: "boolean", week_start: "text" } as const;

export async function updateOrganization(db: Db, caller: Caller, changes: UpdateOrganizationBody, ifMatch?: IfMatch) {
  const fields = changedFields(changes, columnTypes);
  // Postgres must know the zone as well as the runtime does: `at time zone` refuses a name it does not know.
  const zoneKnown = fields.has("timezone")
    ? sql`(now() at time zone ${fields.value("timezone")}) is not null`
    : sql`true`;
  return withTimeZoneErrors(() =>
    queryOne<{ role: Role | null; precondition_failed: FailedPrecondition | null; organization: Organization | null }>(
      db,
      sql`with ${memberCte(caller)},
      target as (
        select o.* from organizations o
        where o.id = ${caller.organizationId}::uuid and ${callerIsManager} and ${zoneKnown}
        for update
      ),
      updated as (
        update organizations o set ${sql.join(fields.assignments, sql`, `)}, updated_at = now()
        from target t
        where o.id = t.id and ${versionMatches("t.version", ifMatch)} and ${fields.differs("t")}
        returning o.*
      ),
      ${fields.answered(versionMatches("t.version", ifMatch))}
      select ${callerRole} as role, ${failedPrecondition("target", ifMatch)} as precondition_failed,
        (select ${organizationJson("o")} from answered o) as organization`,
    ),
  );
}
