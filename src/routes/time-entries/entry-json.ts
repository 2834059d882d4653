import { type SQL, sql } from "drizzle-orm";
import { previousAttributes } from "../../db/events";
import { isoUtcText, jsonObjectTextSql } from "../../db/sql-fragments";

/** `(select row_to_json(x) from (select <columns>) x)`: a JSON object with these keys, in this order. */
const object = (columns: string) => `(select row_to_json(x) from (select ${columns}) x)`;

/**
 * The JSON of an entry's relations, each over its own alias: `u` (the user's membership: the person as the
 * organization knows them), `p` (with `c`), `i`.
 */
export const relationJson = {
  user: object("u.user_id as id, u.full_name, u.email, u.avatar_url"),
  project: object(`p.id, p.name, p.customer_id, p.hourly_rate::float8 as hourly_rate, p.currency,
    case when c.id is null then null else ${object("c.id, c.name")} end as customer`),
  invoice: object("i.id, i.number, i.status, i.date, i.due_date"),
} as const;

type Relations = Record<keyof typeof relationJson, string>;

/**
 * An entry's own fields of `te`, in the API's order, and how each is written as JSON text: `quoted` needs no
 * escaping (UUIDs, UTC timestamps), `string` is text people type, `literal` a number or boolean as it is.
 */
const entryFields = [
  ["id", "te.id", "quoted"],
  ["organization_id", "te.organization_id", "quoted"],
  ["user_id", "te.user_id", "quoted"],
  ["project_id", "te.project_id", "quoted"],
  ["start_time", isoUtcText("te.start_time"), "quoted"],
  ["end_time", isoUtcText("te.end_time"), "quoted"],
  ["duration", "te.duration", "literal"],
  ["description", "te.description", "string"],
  ["billable", "te.billable", "literal"],
  ["invoice_id", "te.invoice_id", "quoted"],
  ["created_at", isoUtcText("te.created_at"), "quoted"],
  ["updated_at", isoUtcText("te.updated_at"), "quoted"],
  ["version", "te.version", "literal"],
] as const;

/** The relations' keys, in the API's order (relationJson's). */
const relationKeys = Object.keys(relationJson) as (keyof Relations)[];

/**
 * An entry of `te` as the API sends it, its relations' JSON (or null) given as SQL, built by row_to_json:
 * compact JSON (no spaces), exactly the text JSON.stringify makes of it, so it can go into a response as
 * it is; json_build_object would put spaces around each colon. `hourly_rate` goes out as a float8, which
 * JSON writes as JavaScript does (120, not 120.00).
 */
const entryObject = (relations: Relations) =>
  object(
    [
      ...entryFields.map(([key, value]) => `${value} as "${key}"`),
      ...relationKeys.map((key) => `${relations[key]} as "${key}"`),
    ].join(", "),
  );

/**
 * The same JSON text as `entryObject`, written by one concat() of its pieces, for the export's NDJSON lines:
 * with each page's relations written once, a quarter less of Postgres' time than row_to_json for every entry
 * (bench/RESULTS.md).
 */
export const entryJsonText = (relations: Relations) => {
  const jsonValue = (value: string, kind: (typeof entryFields)[number][2]) =>
    kind === "quoted" ? `'"' || ${value} || '"'` : kind === "string" ? `to_json(${value})::text` : `${value}::text`;
  const pairs = [
    ...entryFields.map(([key, value, kind]) => [key, jsonValue(value, kind)] as const),
    ...relationKeys.map((key) => [key, `${relations[key]}::text`] as const),
  ];
  return jsonObjectTextSql(pairs);
};

/**
 * An entry of `te` with `p`, `c` and `i` as the API sends it, and its user's membership looked up by its key (a
 * join let the planner scan every membership of a large table to hash them).
 */
export const entryJson = sql.raw(
  entryObject({
    user: `(select ${relationJson.user} from organization_members u
      where u.organization_id = te.organization_id and u.user_id = te.user_id)`,
    project: `case when p.id is null then null else ${relationJson.project} end`,
    invoice: `case when i.id is null then null else ${relationJson.invoice} end`,
  }),
);

/** A sync page's row of `te` (listChanges): a departure, an entry or a tombstone. */
export const changeJson = sql`case
  when te.departed then ${sql.raw(object(`te.id, te.version, ${isoUtcText("te.updated_at")} as left_at`))}
  when te.deleted_at is null then ${entryJson}
  else ${sql.raw(object(`te.id, te.version, ${isoUtcText("te.deleted_at")} as deleted_at`))} end`;

/** Entries of `source` (a table or CTE aliased `te`) with their user, project, customer and invoice. */
export const withRelations = (source: string, entry: SQL = entryJson) =>
  sql`select te.start_time, te.updated_at, te.id, ${entry} as entry
  from ${sql.raw(source)} te
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
