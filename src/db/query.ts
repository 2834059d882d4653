import { type SQL, sql } from "drizzle-orm";
import type { ApiError } from "../lib/errors";
import type { Db } from "./client";
import { isTransientConflict, type PostgresError, postgresErrorOf } from "./errors";

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

/** How often a statement that lost a deadlock or a serialization check is sent, in all. */
export const TRANSIENT_ATTEMPTS = 6;

/**
 * The wait before sending a statement again after its `attempt`-th loss: random, up to 20, 40, 80, 160 and 320 ms
 * (620 ms at most in all). Statements that queued for the same lock and lost to its holder would otherwise come
 * back together and queue again, one winning per round: 20 attaches to one draft at once, on PostgreSQL, lost 85
 * of 160 to 503s with three attempts and no wait, and 0–1 of 160 with this.
 */
const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** (attempt - 1)));

/**
 * Runs one statement (one round trip) and returns its rows. A statement Postgres aborted as the loser of a
 * deadlock (40P01) or a serialization check (40001) was rolled back whole, its Idempotency-Key claim included,
 * so it is sent again: two concurrent requests that lock rows in opposite orders both succeed instead of one of
 * them failing, after a short random wait (`backoff`). After the last attempt the error stands (a 503 with
 * Retry-After). `alsoRetry` names other errors
 * the statement is sent again for (a constraint a concurrent write made it hit, which a new snapshot would see).
 */
export async function queryRows<T>(db: Db, query: SQL, alsoRetry?: (error: PostgresError) => boolean): Promise<T[]> {
  const runner = nextStatementRunners.get(db);
  if (runner) nextStatementRunners.delete(db);
  for (let attempt = 1; ; attempt++) {
    try {
      return (runner ? await runner(query) : (await db.execute(query)).rows) as T[];
    } catch (error) {
      const postgresError = postgresErrorOf(error);
      const retried =
        isTransientConflict(error) || (postgresError !== undefined && alsoRetry?.(postgresError) === true);
      if (attempt === TRANSIENT_ATTEMPTS || !retried) throw error;
    }
    await backoff(attempt);
  }
}

/** Runs one statement (one round trip) and returns its single row. */
export async function queryOne<T>(db: Db, query: SQL): Promise<T> {
  return (await queryRows<T>(db, query))[0] as T;
}

/**
 * Runs `first`, then `query`, in one transaction sent as one HTTP request (still one round trip), and returns the
 * single row of `query`. Under READ COMMITTED, Postgres' default and Neon's, `query` takes its snapshot after
 * `first` has run; `first` hands it values through transaction-local settings (`set_config(…, true)`).
 */
export async function queryOneAfter<T>(db: Db, first: SQL, query: SQL): Promise<T> {
  const [, result] = await db.batch([db.execute(first), db.execute(query)]);
  return result.rows[0] as T;
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
 *
 * A PATCH that changes nothing writes nothing: its UPDATE also requires `differs(alias)` (some given field of the
 * row `alias` is distinct from its new value, compared as typed values: numeric 120.5 = 120.50, timestamps as
 * instants, text exactly), and the statement answers from `answered(ok)`: the row `updated` wrote or else, when
 * every check (`ok`) passed and nothing differs, the row of `target` as it is. Same version, no event.
 */
export function changedFields<K extends string>(changes: Partial<Record<K, unknown>>, columnTypes: Record<K, string>) {
  const given = (Object.keys(columnTypes) as K[]).filter((key) => changes[key] !== undefined);
  const value = (key: K) => sql`${changes[key] ?? null}::${sql.raw(columnTypes[key])}`;
  const differs = (alias: string) =>
    sql`(false${sql.join(given.map((key) => sql` or ${sql.raw(alias)}.${sql.identifier(key)} is distinct from ${value(key)}`))})`;
  return {
    given,
    value,
    has: (key: K) => given.includes(key),
    assignments: given.map((key) => sql`${sql.identifier(key)} = ${value(key)}`),
    differs,
    /** The CTE `answered`; `alias` names the locked row in `ok`, `from` is the FROM list holding it. */
    answered: (ok: SQL, alias = "t", from = `target ${alias}`) =>
      sql`answered as (select * from updated union all select ${sql.raw(alias)}.* from ${sql.raw(from)} where ${ok} and not ${differs(alias)})`,
  };
}
