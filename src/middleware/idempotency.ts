import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { HTTPException } from "hono/http-exception";
import type { Db } from "../db/client";
import { errorForLog } from "../db/errors";
import { takeDeliveries } from "../db/events";
import {
  claimRefusalOf,
  type IdempotencyKey,
  releaseKey,
  runClaimingStatement,
  type StoredResponse,
  storeResponse,
} from "../db/idempotent-statement";
import { notAMember, type Role } from "../db/membership";
import { interceptNextStatement } from "../db/query";
import { entityTag } from "../lib/conditional";
import { ApiError } from "../lib/errors";
import { isJsonContentType } from "../lib/media-type";
import type { AppEnv } from "../lib/types";

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

/** SHA-256 of `head` (as UTF-8) followed by `body`, in hex. */
async function sha256(head: string, body: ArrayBuffer) {
  const prefix = new TextEncoder().encode(head);
  const bytes = new Uint8Array(prefix.byteLength + body.byteLength);
  bytes.set(prefix);
  bytes.set(new Uint8Array(body), prefix.byteLength);
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * What besides the body makes a request the one a key was used with: method, path and query string, a media type
 * the body is not read as JSON with (`application/json; charset=utf-8` and `application/merge-patch+json` are read as
 * `application/json` is, so they make the same request), a content coding of a body, and the conditional headers
 * (`If-Unmodified-Since` too). A retry that corrects one of them (a 400 for a stray query
 * parameter or header, a 415, a 412) is another request, 422, not a replay of the first answer.
 * What a plain request does not send adds no line, so its hash is the one earlier versions stored: keys in flight
 * across a deploy still match.
 */
function requestHead(c: Context<AppEnv>, body: ArrayBuffer) {
  const lines = [`${c.req.method} ${c.req.path}${new URL(c.req.url).search}`];
  const type = c.req.header("Content-Type");
  if (type !== undefined && !isJsonContentType(type)) lines.push(`Content-Type: ${type}`);
  // A body sent without any media type is refused (415) until it is labelled JSON: that retry is another request too.
  if (type === undefined && body.byteLength > 0) lines.push("Content-Type:");
  const coding = c.req.header("Content-Encoding")?.trim().toLowerCase();
  if (coding && coding !== "identity" && body.byteLength > 0) lines.push(`Content-Encoding: ${coding}`);
  // If-Unmodified-Since too, though ignored beside an If-Match the route takes: sent or not, another request (422).
  for (const name of ["If-Match", "If-None-Match", "If-Unmodified-Since"]) {
    const value = c.req.header(name);
    if (value !== undefined) lines.push(`${name}: ${value}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * What became of the key in the request's first statement: `claimed` (the statement ran and stored
 * its result under the key), `replayed` (the key held an answer), `refused` (in use, or another
 * request's), `failed` (the statement raised, so nothing of it, the claim included, was kept), or
 * `none` (the handler answered without a statement).
 */
type Outcome = "none" | "claimed" | "replayed" | "refused" | "failed";

/**
 * `Idempotency-Key` on POST (IETF draft): the first request's answer is kept for 24 hours, scoped to
 * the caller's organization and user; a retry with the same key and request gets it again with
 * `Idempotent-Replayed: true`. No round trip of its own: the handler's first statement is extended
 * to claim the key and store its result rows in the same transaction as its write
 * (src/db/idempotent-statement.ts), and a retry runs the handler's post-processing on the stored
 * rows. A 5xx is not kept, so the retry runs again.
 */
export const idempotency = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Idempotency-Key");
  if (c.req.method !== "POST" || header === undefined) return next();
  if (!isIdempotencyKey(header)) {
    throw new ApiError("VALIDATION_ERROR", "Invalid request header", {
      "Idempotency-Key": [`Must be ${IDEMPOTENCY_KEY_FORMAT.description}`],
    });
  }
  const db = c.get("db");
  const caller = c.get("caller");
  const body = await c.req.arrayBuffer();
  const key: IdempotencyKey = {
    organizationId: caller.organizationId,
    userId: caller.userId,
    key: header,
    // The body's bytes as sent (the same hash as of its text when it is valid UTF-8 without a BOM, which text dropped):
    // read as text first, invalid UTF-8 would be U+FFFD before the route could refuse it.
    requestHash: await sha256(requestHead(c, body), body),
  };
  const state: { outcome: Outcome } = { outcome: "none" };
  interceptNextStatement(db, async (query) => {
    try {
      const rows = await runClaimingStatement(db, query, key);
      state.outcome = "claimed";
      return rows;
    } catch (error) {
      const refusal = claimRefusalOf(error);
      if (!refusal) {
        state.outcome = "failed";
        throw error;
      }
      if ("refused" in refusal) {
        state.outcome = "refused";
        throw refusalError(refusal.refused);
      }
      const { answered } = refusal;
      const { role } = answered;
      if (role === null) {
        // Removed since the key was first used: refused as any request of theirs is, and nothing is kept.
        state.outcome = "refused";
        throw notAMember();
      }
      state.outcome = "replayed";
      // The handler makes its answer from the stored rows, exactly as it did the first time, but with no more rights
      // than the caller has now: demoted since, the handler's own checks refuse what the new role may not do.
      if ("rows" in answered) return answered.rows.map((row) => withLesserRole(row, role));
      // A stored response is the answer as it is, and ends the handler here (see createApp's onError).
      throw new HTTPException(answered.status as 400, { res: replayOf(answered) });
    }
  });

  await next();

  const response = c.res;
  switch (state.outcome) {
    case "replayed":
      // The stored rows name the webhook deliveries the first request made; they were enqueued then.
      takeDeliveries(db);
      c.header("Idempotent-Replayed", "true");
      return;
    case "claimed":
      if (response.status >= 500) await afterResponse(c, releaseKey(db, key));
      return;
    case "failed":
      // Nothing was kept; a 4xx is stored after the answer, so that a retry hears it again.
      if (response.status < 500) await afterResponse(c, keepResponse(db, key, await storedResponseOf(response)));
      return;
    case "none":
      // A missing scope belongs to the credential, not to the request: neither kept nor replaced by what the key
      // holds, so the same key runs once a token has the scope.
      if (response.headers.get("WWW-Authenticate")?.includes('error="insufficient_scope"')) return;
      // Claimed and stored in one statement now, which may find the key taken: replayed, in use or another request's.
      if (response.status < 500) {
        const refusal = await keepResponse(db, key, await storedResponseOf(response));
        if (refusal && "refused" in refusal) throw refusalError(refusal.refused);
        // Stored rows mean an earlier request with this key reached its statement and this one did not
        // (its token has lost a scope since, say): its own answer stands, as it does for a caller who is no longer
        // a member.
        if (refusal && !("rows" in refusal.answered) && refusal.answered.role !== null) {
          c.res = replayOf(refusal.answered);
        }
      }
      return;
  }
});

const rank: Record<Role, number> = { member: 1, admin: 2, owner: 3 };

/** A stored result row with the lesser of the role it holds (the caller's then) and the caller's role now. */
function withLesserRole(row: Record<string, unknown>, now: Role) {
  if (!Object.hasOwn(row, "role")) return row;
  const then = row.role as Role | null;
  return then === null || rank[then] <= rank[now] ? row : { ...row, role: now };
}

/** Stores `response` under the key; what the claim answered instead when the key is taken. */
async function keepResponse(db: Db, key: IdempotencyKey, response: StoredResponse) {
  try {
    await storeResponse(db, key, response);
    return undefined;
  } catch (error) {
    const refusal = claimRefusalOf(error);
    if (!refusal) throw error;
    return refusal;
  }
}

async function storedResponseOf(response: Response): Promise<StoredResponse> {
  return { status: response.status, body: await response.clone().text(), location: response.headers.get("Location") };
}

const refusalError = (refused: "in_use" | "mismatch") =>
  refused === "in_use"
    ? new ApiError("IDEMPOTENCY_KEY_IN_USE", "A request with this Idempotency-Key is still in progress", undefined, {
        "Retry-After": "1",
      })
    : new ApiError("IDEMPOTENCY_KEY_MISMATCH", "This Idempotency-Key was already used with a different request");

/** A stored response, replayed. */
function replayOf({ status, body, location }: StoredResponse): Response {
  const headers = new Headers({ "Content-Type": "application/json", "Idempotent-Replayed": "true" });
  if (location) headers.set("Location", location);
  const etag = etagOfStoredBody(body);
  if (etag) headers.set("ETag", etag);
  return new Response(body, { status, headers });
}

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
  const logged = work.catch((error) =>
    console.error(
      JSON.stringify({ level: "error", message: "idempotency: keeping the answer failed", ...errorForLog(error) }),
    ),
  );
  if (ctx) ctx.waitUntil(logged);
  else await logged;
}
