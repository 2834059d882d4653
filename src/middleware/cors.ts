import { createMiddleware } from "hono/factory";
import { allowedOrigins } from "../lib/config";
import type { AppEnv } from "../lib/types";

const ALLOWED_HEADERS = [
  "Authorization",
  "Content-Type",
  "Idempotency-Key",
  "If-Match",
  "If-None-Match",
  "X-Request-Id",
];
const EXPOSED_HEADERS = [
  "X-Request-Id",
  "ETag",
  "Location",
  "Retry-After",
  "RateLimit-Policy",
  "RateLimit",
  "Idempotent-Replayed",
  "WWW-Authenticate",
  // The export's file name.
  "Content-Disposition",
];
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * CORS for the origins in CORS_ALLOWED_ORIGINS only; any other origin gets no
 * CORS headers, so browsers keep their same-origin rule. `methodsFor` says which
 * methods a path has, for preflights.
 */
export const cors = (methodsFor: (pathname: string) => string[]) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const origin = c.req.header("Origin");
    const allowed = origin !== undefined && allowedOrigins(c.env).has(origin);
    const isPreflight = c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method") !== undefined;
    if (isPreflight) {
      const methods = methodsFor(c.req.path);
      if (methods.length > 0) {
        c.header("Vary", "Origin");
        if (allowed) {
          c.header("Access-Control-Allow-Origin", origin);
          c.header("Access-Control-Allow-Methods", methods.join(", "));
          c.header("Access-Control-Allow-Headers", ALLOWED_HEADERS.join(", "));
          c.header("Access-Control-Max-Age", String(PREFLIGHT_MAX_AGE_SECONDS));
        }
        return c.body(null, 204);
      }
    }
    await next();
    c.res.headers.append("Vary", "Origin");
    if (allowed) {
      c.res.headers.set("Access-Control-Allow-Origin", origin);
      c.res.headers.set("Access-Control-Expose-Headers", EXPOSED_HEADERS.join(", "));
    }
  });
