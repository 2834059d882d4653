import { createMiddleware } from "hono/factory";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../lib/types";

/** What `Allow` lists for a path with routes for `methods`: them and OPTIONS, which every path answers. */
export const withOptions = (methods: string[]) => [...methods, "OPTIONS"];

/**
 * A method the path has no route for is 405 METHOD_NOT_ALLOWED with `Allow`
 * (RFC 9110 §15.5.6), before authentication: which methods a path has is public
 * in /openapi.json. OPTIONS answers 204 with `Allow`. Paths with no route at all
 * go on to the 404.
 */
export const allowedMethodsOnly = (methodsFor: (pathname: string) => string[]) =>
  createMiddleware<AppEnv>(async (c, next) => {
    // Decoded as the router decodes it: /v1/%6De is /v1/me.
    const pathname = c.req.path;
    const methods = methodsFor(pathname);
    if (methods.length > 0 && !methods.includes(c.req.method)) {
      const allowed = withOptions(methods);
      const allow = allowed.join(", ");
      if (c.req.method === "OPTIONS") return c.body(null, 204, { Allow: allow });
      throw new ApiError(
        "METHOD_NOT_ALLOWED",
        `${c.req.method} is not allowed on ${pathname}`,
        // The same list as `Allow`, so a client reading either learns the same.
        { allow: allowed },
        // A 405 is heuristically cacheable (RFC 9110 §15.5.6); it answers before the /v1 no-store middleware.
        { Allow: allow, "Cache-Control": "no-store" },
      );
    }
    await next();
  });
