// The SQL of Idempotency-Key (src/middleware/idempotency.ts): the request's own statement
// extended with the claim and the store, so that one round trip claims the key, does the work
// and keeps its result, all in one transaction; and the statements for answers given without
// such a statement. The rules live in idempotency_claim() (migrations 0007 and 0009).
import { type SQL, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type { Db } from "./client";
import { postgresErrorOf } from "./errors";
import type { Role } from "./membership";
import { splitWithClause, type WithClause } from "./with-clause";

/** A key as the caller sent it, scoped to their organization and user, with the hash of the request it came with. */
export type IdempotencyKey = { organizationId: string; userId: string; key: string; requestHash: string };

export type StoredResponse = { status: number; body: string | null; location: string | null };
/**
 * What a key already holds (its statement's result rows, or a response stored as such), with the caller's role in
 * the organization now: null once they are no longer an active member (migration 0009).
 */
export type StoredAnswer = ({ rows: Record<string, unknown>[] } | StoredResponse) & { role: Role | null };

/** Why idempotency_claim() refused the request, or the answer it found: from the SQLSTATE it raised. */
export type ClaimRefusal = { refused: "in_use" | "mismatch" } | { answered: StoredAnswer };

/** The claim's verdict carried by a Postgres error, or undefined for any other error. */
export function claimRefusalOf(error: unknown): ClaimRefusal | undefined {
  const postgresError = postgresErrorOf(error);
  switch (postgresError?.code) {
    case "IK409":
      return { refused: "in_use" };
    case "IK422":
      return { refused: "mismatch" };
    case "IK200":
      return { answered: JSON.parse(postgresError.detail ?? "") as StoredAnswer };
    default:
      return undefined;
  }
}

/** The row a key's store writes over: a claim abandoned by a request that died (see idempotency_claim). */
const takeOver = `request_hash = excluded.request_hash, result = excluded.result,
  response_status = excluded.response_status, response_body = excluded.response_body,
  response_location = excluded.response_location, created_at = now()`;

const dialect = new PgDialect();

/**
 * An operation sends the same text on every request (its values are parameters), and reading a statement of a few
 * KB character by character costs about 0.2 ms: each text is split once per isolate. Bounded, in case some text
 * varies (a list of ids written inline, say): the cache starts afresh when full.
 */
const splits = new Map<string, WithClause>();
const SPLITS_KEPT = 256;

function splitOnce(text: string): WithClause {
  let split = splits.get(text);
  if (!split) {
    if (splits.size >= SPLITS_KEPT) splits.clear();
    split = splitWithClause(text);
    splits.set(text, split);
  }
  return split;
}

/**
 * `query` (`with <ctes> <final query>`) with the key's claim and store added, as text and parameters:
 *
 *   with <ctes>, idempotency_result as (<final query>),
 *     idempotency_stored as (insert into idempotency_keys … the result rows as JSON …)
 *   select * from idempotency_result where (select idempotency_claim(…))
 *
 * The claim is an uncorrelated subquery in the WHERE of the outer query, so Postgres runs it once
 * as a one-time filter before it reads the first row of the result, hence before any of the
 * statement's work that the result depends on; every other write (unread CTEs, the store) runs
 * after the outer query. When the claim raises, the whole statement is undone. The answer is
 * the result rows, not the HTTP response: the handler makes the response from them again on a retry.
 */
export function claimingStatement(query: SQL, key: IdempotencyKey) {
  const { sql: text, params } = dialect.sqlToQuery(query);
  const { withList, finalQuery } = splitOnce(text);
  const [organizationId, userId, keyText, requestHash] = [1, 2, 3, 4].map((n) => `$${params.length + n}`);
  const claim = `idempotency_claim(${organizationId}::uuid, ${userId}::uuid, ${keyText}, ${requestHash})`;
  return {
    text: `${withList ? `${withList},` : "with"}
idempotency_result as (${finalQuery}),
idempotency_stored as (
  insert into idempotency_keys (organization_id, user_id, key, request_hash, result)
  select ${organizationId}::uuid, ${userId}::uuid, ${keyText}, ${requestHash},
    coalesce((select json_agg(r) from idempotency_result r), '[]'::json)
  where exists (select 1 from organization_members where organization_id = ${organizationId}::uuid
    and user_id = ${userId}::uuid and status = 'active')
  on conflict (organization_id, user_id, key) do update set ${takeOver}
)
select * from idempotency_result where (select ${claim})`,
    params: [...params, key.organizationId, key.userId, key.key, key.requestHash],
  };
}

/** Runs `query` extended with the key's claim and store (one round trip); its rows, parsed as the driver parses them. */
export async function runClaimingStatement(db: Db, query: SQL, key: IdempotencyKey) {
  const { text, params } = claimingStatement(query, key);
  const result = await db.$client.query(text, params, { arrayMode: false, fullResults: true });
  return result.rows;
}

const keyIs = (key: IdempotencyKey) =>
  sql`organization_id = ${key.organizationId}::uuid and user_id = ${key.userId}::uuid and key = ${key.key}`;

/**
 * Claims the key and stores `response` under it, in one statement: for an answer the handler gave
 * without a statement of its own (a 400 before any SQL), or from a statement that was undone. Only an active
 * member's answers are kept (here and in claimingStatement): someone who is not one, or no longer, writes nothing
 * into the organization's keys, whatever they send.
 * Raises as idempotency_claim() does when the key is taken.
 */
export function storeResponse(db: Db, key: IdempotencyKey, response: StoredResponse) {
  return db.execute(sql`insert into idempotency_keys
      (organization_id, user_id, key, request_hash, response_status, response_body, response_location)
    select ${key.organizationId}::uuid, ${key.userId}::uuid, ${key.key}, ${key.requestHash},
      ${response.status}::int, ${response.body}, ${response.location}
    where (select idempotency_claim(${key.organizationId}::uuid, ${key.userId}::uuid, ${key.key}, ${key.requestHash}))
      and exists (select 1 from organization_members where organization_id = ${key.organizationId}::uuid
        and user_id = ${key.userId}::uuid and status = 'active')
    on conflict (organization_id, user_id, key) do update set ${sql.raw(takeOver)}`);
}

/** Frees the key this request stored (a 5xx is not kept: the retry runs again). */
export function releaseKey(db: Db, key: IdempotencyKey) {
  return db.execute(sql`delete from idempotency_keys where ${keyIs(key)} and request_hash = ${key.requestHash}`);
}
