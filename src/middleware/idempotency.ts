import { sql } from "drizzle-orm";
import { createMiddleware } from "hono/factory";
import type { Db } from "../db/client";
import { queryOne } from "../db/query";
import { entityTag } from "../lib/conditional";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../lib/types";
import type { Caller } from "../lib/verify-token";

/** What an Idempotency-Key may be; `/openapi.json` documents the header from this too. */
export const IDEMPOTENCY_KEY_FORMAT = {
  pattern: "^[\\x21-\\x7e]+$",
  minLength: 1,
  maxLength: 255,
  description: "1 to 255 visible ASCII characters",
} as const;
const keyPattern = new RegExp(IDEMPOTENCY_KEY_FORMAT.pattern);
const isIdempotencyKey = (key: string) =>
  key.length >= IDEMPOTENCY_KEY_FORMAT.minLength &&
  key.length <= IDEMPOTENCY_KEY_FORMAT.maxLength &&
  keyPattern.test(key);

async function sha256(text: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

const keyOf = (caller: Caller, key: string) =>
  sql`organization_id = ${caller.organizationId}::uuid and user_id = ${caller.userId}::uuid and key = ${key}`;

/**
 * A claim without an answer this old belongs to a request that died before it
 * could store or release it (the database went away mid-request, say); a retry
 * takes it over rather than hearing 409 for a day. Each write is one statement,
 * so the dead request either committed nothing or its answer would be stored.
 */
const ABANDONED_AFTER_SECONDS = 60;

/** Claims the key, or returns what the first request with it stored: one statement. */
const claim = (db: Db, caller: Caller, key: string, hash: string) =>
  queryOne<{
    claimed: boolean;
    request_hash: string | null;
    response_status: number | null;
    response_body: string | null;
    response_location: string | null;
  }>(
    db,
    sql`with claimed as (
      insert into idempotency_keys (organization_id, user_id, key, request_hash)
      values (${caller.organizationId}::uuid, ${caller.userId}::uuid, ${key}, ${hash})
      on conflict (organization_id, user_id, key) do update set created_at = now()
        where idempotency_keys.response_status is null
          and idempotency_keys.request_hash = excluded.request_hash
          and idempotency_keys.created_at < now() - interval '${sql.raw(String(ABANDONED_AFTER_SECONDS))} seconds'
      returning 1
    )
    select exists (select 1 from claimed) as claimed, k.request_hash, k.response_status, k.response_body, k.response_location
    from (select 1) one
    left join idempotency_keys k on ${keyOf(caller, key)} and not exists (select 1 from claimed)`,
  );

/**
 * `Idempotency-Key` on POST (IETF draft): the first request's final answer is
 * stored for 24 hours, scoped to the caller's organization and user; a retry
 * with the same key and request replays it with `Idempotent-Replayed: true`.
 * A 5xx is not stored, so the retry runs again. The claim is the one extra
 * round trip on the request's path; storing the answer happens after it is sent.
 */
export const idempotency = createMiddleware<AppEnv>(async (c, next) => {
  const key = c.req.header("Idempotency-Key");
  if (c.req.method !== "POST" || key === undefined) return next();
  if (!isIdempotencyKey(key)) {
    throw new ApiError("VALIDATION_ERROR", "Invalid request header", {
      "Idempotency-Key": [`Must be ${IDEMPOTENCY_KEY_FORMAT.description}`],
    });
  }
  const db = c.get("db");
  const caller = c.get("caller");
  const hash = await sha256(`${c.req.method} ${c.req.path}\n${await c.req.text()}`);
  const found = await claim(db, caller, key, hash);

  if (!found.claimed) {
    if (found.request_hash !== hash) {
      throw new ApiError("IDEMPOTENCY_KEY_MISMATCH", "This Idempotency-Key was already used with a different request");
    }
    if (found.response_status === null) {
      throw new ApiError(
        "IDEMPOTENCY_KEY_IN_USE",
        "A request with this Idempotency-Key is still in progress",
        undefined,
        {
          "Retry-After": "1",
        },
      );
    }
    const headers: Record<string, string> = { "Content-Type": "application/json", "Idempotent-Replayed": "true" };
    if (found.response_location) headers.Location = found.response_location;
    const etag = etagOfStoredBody(found.response_body);
    if (etag) headers.ETag = etag;
    return c.body(found.response_body ?? "", found.response_status as 200, headers);
  }

  await next();
  const response = c.res;
  const done =
    response.status >= 500
      ? db.execute(sql`delete from idempotency_keys where ${keyOf(caller, key)}`)
      : db.execute(sql`update idempotency_keys
          set response_status = ${response.status}, response_body = ${await response.clone().text()},
            response_location = ${response.headers.get("Location")}
          where ${keyOf(caller, key)}`);
  await afterResponse(c, done);
});

/**
 * The `ETag` the first answer carried: the version of the resource in its body
 * (`{"data": {"version": 3, …}}`), from which the handler wrote it. Only the
 * body is stored, so the tag is read back from it.
 */
function etagOfStoredBody(body: string | null) {
  try {
    const version = (JSON.parse(body ?? "") as { data?: { version?: unknown } } | null)?.data?.version;
    return Number.isInteger(version) ? entityTag(version as number) : undefined;
  } catch {
    return undefined;
  }
}

/** Off the response's path in a Worker; awaited where there is no execution context (tests, Node). */
async function afterResponse(
  c: { executionCtx: { waitUntil(promise: Promise<unknown>): void } },
  work: Promise<unknown>,
) {
  let ctx: { waitUntil(promise: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    ctx = undefined;
  }
  if (ctx) ctx.waitUntil(work.catch((error) => console.error("idempotency: storing the response failed", error)));
  else await work;
}
