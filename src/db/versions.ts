import { type SQL, sql } from "drizzle-orm";
import type { FailedPrecondition, IfMatch } from "../lib/conditional";

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
 * SQL: which header the row of `source` (a CTE holding the locked target) fails, as a `FailedPrecondition`: checked
 * on the same row the write's WHERE reads, so the 412 can name the header that failed; null when it passes both or
 * there is no such row, which is a 404 rather than a 412.
 */
export const failedPrecondition = (source: string, ifMatch: IfMatch | undefined): SQL => {
  if (ifMatch === undefined || ifMatch === "*") return sql`null::text`;
  const { match, noneMatch } = Array.isArray(ifMatch) ? { match: ifMatch, noneMatch: undefined } : ifMatch;
  const failed = (header: FailedPrecondition) => sql.raw(`'${header}'`);
  const noneMatchFails =
    noneMatch === undefined
      ? sql``
      : sql` when ${versionMatches("x.version", noneMatch)} then ${failed(noneMatch === "*" ? "If-None-Match: *" : "If-None-Match")}`;
  return sql`(select case when not (${versionMatches("x.version", match)}) then ${failed("If-Match")}${noneMatchFails} end from ${sql.raw(source)} x)`;
};
