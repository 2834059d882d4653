import { type SQL, sql } from "drizzle-orm";
import { CURRENCY_MINOR_UNITS } from "../lib/iso-codes";

/**
 * SQL text rendering a timestamptz column as the API writes it: UTC, ISO 8601, milliseconds (or `US`, microseconds,
 * where the value must come back exactly), `Z`.
 */
export const isoUtcText = (column: string, fraction: "MS" | "US" = "MS") =>
  `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.${fraction}"Z"')`;

/**
 * SQL text writing a JSON object as compact text (no spaces, exactly as JSON.stringify writes it) from each
 * member's value, itself SQL giving JSON text (null written as `null`): text that goes into a response as it is.
 */
export const jsonObjectTextSql = (members: readonly (readonly [key: string, jsonText: string])[]) =>
  `concat(${members.map(([key, value], n) => `'${n === 0 ? "{" : ","}"${key}":', coalesce(${value}, 'null')`).join(", ")}, '}')`;

/**
 * SQL aggregating JSON text of `element` into a compact JSON array in `order`, of the rows `where` keeps when
 * given: `[]` when there is none.
 */
export const jsonArrayTextSql = (element: string, order: string, where?: string) =>
  `coalesce('[' || string_agg(${element}, ',' order by ${order})${where ? ` filter (where ${where})` : ""} || ']', '[]')`;

/** A pattern for ILIKE that matches `text` literally as a substring (`%`, `_` and `\` lose their meaning). */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, "\\$&")}%`;

/**
 * SQL text building a JSON object from the columns of `alias`, in their order; a column may be given as a key and the
 * SQL expression that computes it instead. Timestamp columns come last, written as the API writes them.
 */
export function jsonObject(
  alias: string,
  columns: readonly (string | readonly [key: string, expression: string])[],
  timestampColumns: readonly string[] = [],
) {
  const pairs = [
    ...columns.map((column) =>
      typeof column === "string" ? `'${column}', ${alias}.${column}` : `'${column[0]}', ${column[1]}`,
    ),
    ...timestampColumns.map((column) => `'${column}', ${isoUtcText(`${alias}.${column}`)}`),
  ];
  return `json_build_object(${pairs.join(", ")})`;
}

/** A `uuid[]` parameter: one bind value however many ids (ids are validated UUIDs, so the literal is safe). */
export const uuidArray = (ids: readonly string[]) => sql`${`{${ids.join(",")}}`}::uuid[]`;

/**
 * The amount of `ratedSeconds` (numeric SQL: Σ seconds × hourly rate) in the currency `currency` (SQL) names, rounded
 * once to its minor unit, ISO 4217's: 2 decimals, none for the yen, 3 for the Kuwaiti dinar (CURRENCY_MINOR_UNITS).
 * The divisor's scale keeps 10 decimals in the quotient: Postgres keeps only 16 significant digits by default, so
 * past 10¹² a plain `/ 3600` is rounded to 4 decimals first, and rounding that again can be a minor unit off.
 */
export function amountOfRatedSeconds(ratedSeconds: string, currency: string) {
  const exceptions = Object.entries(CURRENCY_MINOR_UNITS).map(
    ([digits, codes]) => `when ${currency} in (${codes.map((code) => `'${code}'`).join(", ")}) then ${digits}`,
  );
  return `round((${ratedSeconds}) / 3600::numeric(14, 10), case ${exceptions.join(" ")} else 2 end)`;
}

/**
 * The sort key of a list by name: A–Z whatever the case (`alpha`, `B`, `b`, `Zeta`), ties by the exact name, both in
 * code point order ("C"), which is the same on every database whatever its default collation, then by `id`. `lower`
 * under "C" folds ASCII letters only, the same everywhere too. `name` is an SQL expression.
 */
export const nameOrder = (name: SQL, id: SQL) => sql`lower(${name} collate "C"), ${name} collate "C", ${id}`;

/** The rows after the cursor's (name, id) in `nameOrder`: a keyset comparison over the same three keys. */
export const afterName = (name: SQL, id: SQL, after: { name: string; id: string }) =>
  sql`(${nameOrder(name, id)}) > (${nameOrder(sql`${after.name}::text`, sql`${after.id}::uuid`)})`;

/**
 * A column that aborts the statement when `condition` holds: a serialization failure (drizzle/0023), rolled back whole
 * with any Idempotency-Key claim it carries and sent again by `queryRows` on a fresh snapshot. For a statement whose
 * snapshot turned out older than a row it locked.
 */
export const abortedIf = (condition: SQL, reason: string, column: string) =>
  sql`case when ${condition} then serialization_failure(${reason}) end as ${sql.identifier(column)}`;
