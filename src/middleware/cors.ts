import { createMiddleware } from "hono/factory";
import { allowedOrigins } from "../lib/config";
import { TOKEN } from "../lib/media-type";
import type { AppEnv } from "../lib/types";
import { withOptions } from "./allowed-methods";

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
  // A 415's accepted coding, a 405's methods.
  "Accept-Encoding",
  "Allow",
];
const PREFLIGHT_MAX_AGE_SECONDS = 600;
const METHOD = new RegExp(`^${TOKEN}$`);

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
      c.header("Vary", "Origin");
      if (methods.length > 0) c.header("Allow", withOptions(methods).join(", "));
      if (allowed) {
        c.header("Access-Control-Allow-Origin", origin);
        // A path with no route lets the request through (whatever its method) to its 404, or its 401 without a
        // token, which a script can read; a failed preflight would tell it nothing.
        const requested = c.req.header("Access-Control-Request-Method") ?? "";
        const method = requested.length <= 32 && METHOD.test(requested) ? requested : undefined;
        const allowedMethods = methods.length > 0 ? methods.join(", ") : method;
        if (allowedMethods) c.header("Access-Control-Allow-Methods", allowedMethods);
        if (methods.length === 0) c.header("Vary", "Access-Control-Request-Method", { append: true });
        c.header("Access-Control-Allow-Headers", ALLOWED_HEADERS.join(", "));
        c.header("Access-Control-Max-Age", String(PREFLIGHT_MAX_AGE_SECONDS));
      }
      return c.body(null, 204);
    }
    await next();
    c.res.headers.append("Vary", "Origin");
    if (allowed) {
      c.res.headers.set("Access-Control-Allow-Origin", origin);
      c.res.headers.set("Access-Control-Expose-Headers", EXPOSED_HEADERS.join(", "));
    }
  });
