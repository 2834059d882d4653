import { type SQL, sql } from "drizzle-orm";
import { previousAttributes } from "../../db/events";
import { isoUtcText } from "../../db/sql-fragments";

const entryJson = sql.raw(`json_build_object(
  'id', te.id,
  'organization_id', te.organization_id,
  'user_id', te.user_id,
  'project_id', te.project_id,
  'start_time', ${isoUtcText("te.start_time")},
  'end_time', ${isoUtcText("te.end_time")},
  'duration', te.duration,
  'description', te.description,
  'billable', te.billable,
  'invoice_id', te.invoice_id,
  'created_at', ${isoUtcText("te.created_at")},
  'updated_at', ${isoUtcText("te.updated_at")},
  'version', te.version,
  'user', json_build_object('id', u.id, 'full_name', u.full_name, 'email', u.email, 'avatar_url', u.avatar_url),
  'project', case when p.id is null then null else json_build_object(
    'id', p.id,
    'name', p.name,
    'customer_id', p.customer_id,
    'hourly_rate', p.hourly_rate,
    'currency', p.currency,
    'customer', case when c.id is null then null else json_build_object('id', c.id, 'name', c.name) end
  ) end,
  'invoice', case when i.id is null then null else json_build_object(
    'id', i.id, 'number', i.number, 'status', i.status, 'date', i.date, 'due_date', i.due_date
  ) end
)`);

export const tombstoneOrEntryJson = sql`case when te.deleted_at is null then ${entryJson}
  else json_build_object('id', te.id, 'deleted_at', ${sql.raw(isoUtcText("te.deleted_at"))}) end`;

/** Entries of `source` (a table or CTE aliased `te`) with their user, project, customer and invoice. */
export const withRelations = (source: string, entry: SQL = entryJson) =>
  sql`select te.start_time, te.updated_at, te.id, ${entry} as entry
  from ${sql.raw(source)} te
  join users u on u.id = te.user_id
  left join projects p on p.organization_id = te.organization_id and p.id = te.project_id
  left join customers c on c.organization_id = p.organization_id and c.id = p.customer_id
  left join invoices i on i.organization_id = te.organization_id and i.id = te.invoice_id`;

export const entryOf = (source: string) => sql`(select x.entry from (${withRelations(source)}) x)`;

/** Webhook event rows for the entries of `source` (a CTE of time_entries rows), each as GET answers it. */
export const entryRows = (source: string) =>
  sql`select x.entry as data, null::json as previous_attributes from (${withRelations(source)}) x`;

/** Webhook event rows for entries changed from the rows of `before` to those of `after`, with what changed. */
export const changedEntryRows = (before: string, after: string) =>
  sql`select n.entry as data, ${previousAttributes(sql`o.entry`, sql`n.entry`)} as previous_attributes
  from (${withRelations(after)}) n join (${withRelations(before)}) o on o.id = n.id`;

/** Webhook event rows for the entries of `after` whose timer started (`end_time` cleared) or stopped since `before`. */
export const timerRows = (before: string, after: string, transition: "started" | "stopped") =>
  sql`select x.entry as data, null::json as previous_attributes from (${withRelations(after)}) x
  join ${sql.raw(after)} a on a.id = x.id join ${sql.raw(before)} b on b.id = x.id
  where ${transition === "started" ? sql`b.end_time is not null and a.end_time is null` : sql`b.end_time is null and a.end_time is not null`}`;

/** The rows of time_entries as they were before this statement changed the rows of the CTE `changed`. */
export const entriesBefore = (changed: string) =>
  `(select * from time_entries where id in (select id from ${changed}))`;
