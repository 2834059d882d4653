import { type SQL, sql } from "drizzle-orm";
import type { ApiError } from "../lib/errors";
import type { Db } from "./client";
import { postgresErrorOf } from "./errors";

/** Runs one statement (one round trip) and returns its single row. */
export async function queryOne<T>(db: Db, query: SQL): Promise<T> {
  const { rows } = await db.execute(query);
  return rows[0] as T;
}

/**
 * Runs a statement and turns a violation of a named constraint into the API error
 * it means. The statement checks these itself; the constraint only fires when a
 * concurrent write slipped in between its snapshot and its write.
 */
export async function withConstraintErrors<T>(
  run: () => Promise<T>,
  errors: Record<string, () => ApiError | Promise<ApiError>>,
) {
  try {
    return await run();
  } catch (error) {
    const toApiError = errors[postgresErrorOf(error)?.constraint ?? ""];
    if (toApiError) throw await toApiError();
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
