import { createMiddleware } from "hono/factory";
import { readConfig } from "../lib/config";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../lib/types";
import type { Caller } from "../lib/verify-token";

export const RATE_LIMIT_POLICY_NAME = "per-caller";

/**
 * Whose quota a request spends: the token's user in the token's organization, and for an OAuth token its client too.
 * Not the organization's: one runaway integration, or a removed member whose session token is still valid (the
 * membership is known only in the request's SQL), would otherwise spend the whole team's quota.
 */
export const rateLimitKey = ({ organizationId, userId, clientId }: Caller) =>
  `org:${organizationId}:user:${userId}${clientId === null ? "" : `:client:${clientId}`}`;

/**
 * Counts the request against its caller (`rateLimitKey`) with the Workers Rate
 * Limiting binding (after authentication, so the key is one the caller proved).
 * Over the limit: 429 RATE_LIMITED with `Retry-After` and `RateLimit-Policy`
 * (IETF RateLimit header fields draft); every other response announces the
 * policy in `RateLimit-Policy`. Without the binding (Node tests, a
 * deployment without `[[ratelimits]]`) nothing is limited; a binding that fails
 * lets the request through rather than taking the API down with it.
 */
export const rateLimit = createMiddleware<AppEnv>(async (c, next) => {
  const limiter = c.env?.RATE_LIMITER;
  if (limiter) {
    const { requests, periodSeconds } = readConfig(c.env).rateLimit;
    const policy = `"${RATE_LIMIT_POLICY_NAME}";q=${requests};w=${periodSeconds}`;
    let allowed = true;
    try {
      allowed = (await limiter.limit({ key: rateLimitKey(c.get("caller")) })).success;
    } catch (error) {
      console.error(
        JSON.stringify({
          level: "error",
          request_id: c.get("requestId"),
          message: "rate limiter failed; request let through",
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    }
    if (!allowed) {
      throw new ApiError(
        "RATE_LIMITED",
        `Too many requests for this user${c.get("caller").clientId === null ? "" : " through this client"}; retry in ${periodSeconds} seconds`,
        undefined,
        {
          "Retry-After": String(periodSeconds),
          "RateLimit-Policy": policy,
          // The binding tells only allowed or not, so the quota left is known only when it is nil.
          RateLimit: `"${RATE_LIMIT_POLICY_NAME}";r=0;t=${periodSeconds}`,
        },
      );
    }
    await next();
    c.res.headers.set("RateLimit-Policy", policy);
    return;
  }
  await next();
});
