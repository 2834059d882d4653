import { type SQL, sql } from "drizzle-orm";
import type { IfMatch } from "../lib/conditional";
import type { ApiError } from "../lib/errors";
import type { Caller } from "../lib/verify-token";
import type { Db } from "./client";
import { type PostgresError, postgresErrorOf } from "./errors";
import { callerIsManager, callerRole, memberCte, type Role } from "./membership";
import { failsIfMatch, versionMatches } from "./versions";

/** Runs a statement in place of `db.execute`, returning its rows as the driver parses them. */
export type StatementRunner = (query: SQL) => Promise<Record<string, unknown>[]>;
const nextStatementRunners = new WeakMap<Db, StatementRunner>();

/**
 * The next statement `queryOne` runs on `db` goes through `runner`, the ones after it as usual: the
 * Idempotency-Key middleware extends a request's first statement with its claim this way.
 */
export function interceptNextStatement(db: Db, runner: StatementRunner) {
  nextStatementRunners.set(db, runner);
}

/** Runs one statement (one round trip) and returns its rows. */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const runner = nextStatementRunners.get(db);
  if (runner) nextStatementRunners.delete(db);
  return (runner ? await runner(query) : (await db.execute(query)).rows) as T[];
}

/** Runs one statement (one round trip) and returns its single row. */
export async function queryOne<T>(db: Db, query: SQL): Promise<T> {
  return (await queryRows<T>(db, query))[0] as T;
}

/**
 * Runs a statement and turns a violation of a named constraint into the API error
 * it means. The statement checks these itself; the constraint only fires when a
 * concurrent write slipped in between its snapshot and its write.
 */
export async function withConstraintErrors<T>(
  run: () => Promise<T>,
  errors: Record<string, (error: PostgresError) => ApiError | Promise<ApiError>>,
) {
  try {
    return await run();
  } catch (error) {
    const postgresError = postgresErrorOf(error);
    const toApiError = errors[postgresError?.constraint ?? ""];
    if (postgresError && toApiError) throw await toApiError(postgresError);
    throw error;
  }
}

/**
 * The fields a PATCH body gives, as typed SQL values: `value(key)` is the new
 * value cast to its column type; `assignments` is the SET list.
 */
export function changedFields<K extends string>(changes: Partial<Record<K, unknown>>, columnTypes: Record<K, string>) {
  const given = (Object.keys(columnTypes) as K[]).filter((key) => changes[key] !== undefined);
  const value = (key: K) => sql`${changes[key] ?? null}::${sql.raw(columnTypes[key])}`;
  return {
    given,
    value,
    has: (key: K) => given.includes(key),
    assignments: given.map((key) => sql`${sql.identifier(key)} = ${value(key)}`),
  };
}

/**
 * Deletes one row of `table` (aliased `x` in `inUse`) unless `inUse` says other
 * rows still reference it: nothing is ever deleted in cascade. Owners and admins
 * only. A reference created concurrently trips one of `referencingConstraints`,
 * which then answers `inUseError` too. With `ifMatch`, only the version it names
 * is deleted.
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
  },
) {
  const table = sql.identifier(options.table);
  return withConstraintErrors(
    () =>
      queryOne<{ role: Role | null; found: boolean; precondition_failed: boolean; in_use: boolean }>(
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
          where x.id = t.id and not t.in_use and ${versionMatches("x.version", options.ifMatch)}
          returning x.id
        )
        select ${callerRole} as role, exists (select 1 from target) as found,
          ${failsIfMatch("target", options.ifMatch)} as precondition_failed,
          coalesce((select in_use from target), false) as in_use`,
      ),
    Object.fromEntries(options.referencingConstraints.map((name) => [name, options.inUseError])),
  );
}
