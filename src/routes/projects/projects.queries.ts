import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { deleteUnlessReferenced } from "../../db/delete-unless-referenced";
import type { PostgresError } from "../../db/errors";
import { deliveriesColumn, outboxCtes, queryWithEvents, resourceRows, updateRows } from "../../db/events";
import { callerIsManager, callerIsMember, callerRole, memberCte, type Role } from "../../db/membership";
import { changedFields, queryOne, withConstraintErrors } from "../../db/query";
import { abortedIf, afterName, containsPattern, isoUtcText, nameOrder } from "../../db/sql-fragments";
import { failedPrecondition, versionMatches } from "../../db/versions";
import type { FailedPrecondition, IfMatch } from "../../lib/conditional";
import { ApiError, invalidField } from "../../lib/errors";
import type { Caller } from "../../lib/verify-token";
import { repricedDraftRows } from "../invoices/invoice-json";
import { type CreateProjectBody, currencyRequired, type Project, type UpdateProjectBody } from "./projects.schemas";

const projectJson = sql.raw(`json_build_object(
  'id', p.id,
  'organization_id', p.organization_id,
  'name', p.name,
  'customer_id', p.customer_id,
  'hourly_rate', p.hourly_rate,
  'currency', p.currency,
  'active', p.active,
  'created_at', ${isoUtcText("p.created_at")},
  'updated_at', ${isoUtcText("p.updated_at")},
  'version', p.version,
  'customer', case when c.id is null then null else json_build_object('id', c.id, 'name', c.name, 'email', c.email) end
)`);

/** The project rows of `source` (a table or CTE) as JSON, with their customer. */
const projectsOf = (source: string) =>
  sql`select p.name, p.id, ${projectJson} as project
  from ${sql.raw(source)} p
  left join customers c on c.organization_id = p.organization_id and c.id = p.customer_id`;

const projectOf = (source: string) => sql`(select x.project from (${projectsOf(source)}) x)`;

export const projectInUse = () =>
  new ApiError("IN_USE", "The project has time entries; deactivate it with active: false instead");
export const unknownCustomer = () => invalidField("customer_id", "No such customer in this organization");
const constraintErrors = {
  projects_customer_fk: unknownCustomer,
  projects_rate_needs_currency_check: () => invalidField("currency", currencyRequired),
  // The trigger of drizzle/0016 and 0022 names the invoices in its DETAIL.
  projects_customer_fixed_while_invoiced: (error: PostgresError) =>
    new ApiError(
      "PROJECT_INVOICED",
      "The project's time entries are on invoices issued to its customer; its customer cannot change",
      { invoice_ids: error.detail?.split(",") ?? [] },
    ),
  projects_customer_fixed_while_on_draft: (error: PostgresError) =>
    new ApiError(
      "PROJECT_ON_DRAFT_INVOICE",
      "The project's time entries are on draft invoices of its customer; detach them or issue the invoices first",
      { invoice_ids: error.detail?.split(",") ?? [] },
    ),
};

/** True when `customerId` is absent, null, or a customer of the caller's organization. */
const customerExists = (caller: Caller, customerId: string | null | undefined) =>
  customerId
    ? sql`exists (select 1 from customers where organization_id = ${caller.organizationId}::uuid and id = ${customerId}::uuid)`
    : sql`true`;

export async function listProjects(
  db: Db,
  caller: Caller,
  filter: { limit: number; q?: string; active?: boolean; customerId?: string; after?: { name: string; id: string } },
) {
  const conditions: SQL[] = [sql`p.organization_id = ${caller.organizationId}::uuid`, callerIsMember];
  if (filter.q) conditions.push(sql`p.name ilike ${containsPattern(filter.q)}`);
  if (filter.active !== undefined) conditions.push(sql`p.active = ${filter.active}::boolean`);
  if (filter.customerId) conditions.push(sql`p.customer_id = ${filter.customerId}::uuid`);
  if (filter.after) conditions.push(afterName(sql`p.name`, sql`p.id`, filter.after));
  return queryOne<{ role: Role | null; projects: Project[] }>(
    db,
    sql`with ${memberCte(caller)},
    page as (
      select * from projects p where ${sql.join(conditions, sql` and `)}
      order by ${nameOrder(sql`p.name`, sql`p.id`)} limit ${filter.limit + 1}
    )
    select ${callerRole} as role,
      coalesce((select json_agg(x.project order by ${nameOrder(sql`x.name`, sql`x.id`)}) from (${projectsOf("page")}) x), '[]'::json)
        as projects`,
  );
}

export async function getProject(db: Db, caller: Caller, id: string) {
  return queryOne<{ role: Role | null; project: Project | null }>(
    db,
    sql`with ${memberCte(caller)},
    target as (
      select * from projects p
      where p.organization_id = ${caller.organizationId}::uuid and p.id = ${id}::uuid and ${callerIsMember}
    )
    select ${callerRole} as role, ${projectOf("target")} as project`,
  );
}

const columnTypes = {
  name: "text",
  customer_id: "uuid",
  hourly_rate: "numeric",
  currency: "text",
  active: "boolean",
} as const;

/** Rates go to SQL as decimal text, so the database never sees a binary float. */
const withRateText = <T extends { hourly_rate?: number | null }>(body: T) =>
  body.hourly_rate == null ? body : { ...body, hourly_rate: String(body.hourly_rate) };

export async function createProject(db: Db, caller: Caller, body: CreateProjectBody) {
  const fields = changedFields(withRateText(body), columnTypes);
  return withConstraintErrors(
    () =>
      queryWithEvents<{ role: Role | null; customer_found: boolean; project: Project | null }>(
        db,
        sql`with ${memberCte(caller)},
        inserted as (
          insert into projects (organization_id, ${sql.join(
            fields.given.map((key) => sql.identifier(key)),
            sql`, `,
          )})
          select ${caller.organizationId}::uuid, ${sql.join(fields.given.map(fields.value), sql`, `)}
          where ${callerIsManager} and ${customerExists(caller, body.customer_id)}
          returning *
        ),
        ${outboxCtes(caller.organizationId, [{ type: "project.created", rows: resourceRows(projectOf("inserted")) }])}
        select ${callerRole} as role, ${customerExists(caller, body.customer_id)} as customer_found,
          ${projectOf("inserted")} as project, ${deliveriesColumn}`,
      ),
    constraintErrors,
  );
}

export async function updateProject(db: Db, caller: Caller, id: string, changes: UpdateProjectBody, ifMatch?: IfMatch) {
  const fields = changedFields(withRateText(changes), columnTypes);
  const ok = sql`${versionMatches("t.version", ifMatch)} and ${customerExists(caller, changes.customer_id)}`;
  const repricing = fields.has("hourly_rate") || fields.has("currency");
  return withConstraintErrors(
    () =>
      queryWithEvents<{
        role: Role | null;
        found: boolean;
        precondition_failed: FailedPrecondition | null;
        customer_found: boolean;
        project: Project | null;
      }>(
        db,
        sql`with ${memberCte(caller)},
        ${repricing ? draftsBillingTheProject(caller, id) : sql``}
        -- Locked, so that the If-Match verdict is about the version the write finds.
        target as (
          select p.* from projects p
          where p.organization_id = ${caller.organizationId}::uuid and p.id = ${id}::uuid and ${callerIsManager}
            ${repricing ? sql`and (select count(*) from drafts) >= 0` : sql``}
          for update
        ),
        updated as (
          update projects p set ${sql.join(fields.assignments, sql`, `)}, updated_at = now()
          from target t
          where p.organization_id = ${caller.organizationId}::uuid and p.id = t.id and ${ok} and ${fields.differs("t")}
          returning p.*
        ),
        ${fields.answered(ok)},
        ${repricing ? repricedDrafts(caller) : sql``}
        ${outboxCtes(caller.organizationId, [
          { type: "project.updated", rows: updateRows(projectOf, "target", "updated") },
          ...(repricing
            ? [{ type: "invoice.updated" as const, rows: repricedDraftRows("repriced", "priced_projects") }]
            : []),
        ])}
        select ${callerRole} as role, exists (select 1 from target) as found,
          ${failedPrecondition("target", ifMatch)} as precondition_failed,
          ${customerExists(caller, changes.customer_id)} as customer_found,
          ${projectOf("answered")} as project, ${deliveriesColumn}
          ${repricing ? sql`, ${abortedIfDraftsChanged(caller, id)}` : sql``}`,
      ),
    constraintErrors,
  );
}

/**
 * The drafts that bill the project's hours, locked in id order before the project, as an attach locks its invoice
 * before the project: a new rate reprices them, and it must see their entries as they are (`abortedIfDraftsChanged`).
 */
const draftsBillingTheProject = (caller: Caller, id: string) => sql`drafts as (
    select i.id, i.version from invoices i
    where i.organization_id = ${caller.organizationId}::uuid and i.status = 'draft' and ${callerIsManager}
      and exists (
        select 1 from time_entries te
        where te.organization_id = ${caller.organizationId}::uuid and te.invoice_id = i.id
          and te.project_id = ${id}::uuid and te.billable
      )
    order by i.id
    for update
  ),`;

/**
 * A draft follows its projects' rates: a new rate or currency of billed hours is a change of the drafts (locked in
 * `drafts`) that hold them, a new version so that an If-Match read before it cannot send amounts nobody saw. Their
 * summaries in the events are at the new rates (`priced_projects`: the project as the statement leaves it).
 */
const repricedDrafts = (caller: Caller) => sql`repriced as (
    update invoices i set version = i.version + 1, updated_at = now()
    from updated u join target t on t.id = u.id
    where i.organization_id = ${caller.organizationId}::uuid and i.status = 'draft'
      and (u.hourly_rate, u.currency) is distinct from (t.hourly_rate, t.currency)
      and (u.hourly_rate is not null or t.hourly_rate is not null)
      and i.id in (select id from drafts)
    returning i.*
  ),
  priced_projects as (
    select * from updated
    union all
    select * from projects
    where organization_id = ${caller.organizationId}::uuid and id not in (select id from updated)
  ),`;

/**
 * Aborts the statement when its snapshot no longer tells which drafts bill the project and what they hold: a locked
 * draft changed while the statement waited for it (an attach or a detach committed), or, read afresh once the
 * project is locked (`target`, evaluated first; none for a caller who may not change it), a draft it did not lock now
 * bills the project's hours (drizzle/0027).
 * A serialization failure, sent again on a fresh snapshot.
 */
const abortedIfDraftsChanged = (caller: Caller, id: string) =>
  abortedIf(
    sql`exists (select 1 from target) and (
      exists (select 1 from drafts d join invoices s on s.id = d.id where s.version <> d.version)
      or exists (
        select 1 from unnest(drafts_billing_project(${caller.organizationId}::uuid, ${id}::uuid)) billing(id)
        where billing.id not in (select id from drafts)
      ))`,
    "the drafts billing the project changed while this statement waited for them",
    "stale",
  );

export const deleteProject = (db: Db, caller: Caller, id: string, ifMatch?: IfMatch) =>
  deleteUnlessReferenced(db, caller, {
    table: "projects",
    id,
    ifMatch,
    inUse: sql`exists (select 1 from time_entries te where te.organization_id = x.organization_id and te.project_id = x.id)`,
    referencingConstraints: ["time_entries_project_fk"],
    inUseError: projectInUse,
    deletedEvent: "project.deleted",
  });
