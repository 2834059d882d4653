import { type SQL, sql } from "drizzle-orm";
import type { IfMatch } from "../lib/conditional";

/**
 * SQL: `column` (a row's version) satisfies `If-Match`. Always true without the
 * header or with `*`; else the version must be one the header names (and, with
 * `If-None-Match`, none that header names). Goes into
 * the WHERE of the very UPDATE or DELETE, so the check and the write are one.
 */
export const versionMatches = (column: string, ifMatch: IfMatch | undefined): SQL => {
  if (ifMatch === undefined || ifMatch === "*") return sql`true`;
  if (Array.isArray(ifMatch)) return sql`${sql.raw(column)} = any(${`{${ifMatch.join(",")}}`}::int[])`;
  // If-None-Match: `*` matches every existing version, so `not true` passes none.
  return sql`(${versionMatches(column, ifMatch.match)} and not (${versionMatches(column, ifMatch.noneMatch)}))`;
};

/**
 * SQL: the row of `source` (a CTE holding the locked target) fails `If-Match`;
 * false when there is no such row, which is a 404 rather than a 412.
 */
export const failsIfMatch = (source: string, ifMatch: IfMatch | undefined) =>
  sql`coalesce((select not (${versionMatches("x.version", ifMatch)}) from ${sql.raw(source)} x), false)`;
