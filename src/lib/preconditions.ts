// Conditional request headers the API does not evaluate where they are sent, refused rather than ignored.
import type { RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { invalidRequest } from "./validation";

const takesPreconditions = (route: RouteConfig) => {
  const headers = route.request?.headers as { shape?: object } | undefined;
  return headers?.shape !== undefined && "If-Match" in headers.shape;
};

type Precondition = "If-Match" | "If-None-Match" | "If-Unmodified-Since";
type RefusedPreconditions = Partial<Record<Precondition, string>>;

const UNCONDITIONAL_WRITE = "Not taken by this operation, which is unconditional";
// A date tells no two changes within its second apart; versions do.
const NO_DATES = "Not taken: send If-Match with the resource's ETag";

/**
 * Preconditions the API does not evaluate are refused, as a strict body refuses an unknown field: ignored, they would
 * let a write the client meant as conditional go through whatever the state. No operation takes
 * `If-Unmodified-Since` (but as RFC 9110 has it ignored, beside an `If-Match`); a write that takes no precondition (a
 * creation, a bulk edit, an attach) refuses `If-Match` and `If-None-Match`, and a read `If-Match`. (GETs take
 * `If-None-Match` as no precondition: they answer no 304, see the README.)
 */
const refusedPreconditionsOf = (route: RouteConfig): RefusedPreconditions => {
  if (route.method === "get") {
    return { "If-Match": "Not taken by a read, which changes nothing", "If-Unmodified-Since": NO_DATES };
  }
  if (takesPreconditions(route)) return { "If-Unmodified-Since": NO_DATES };
  return { "If-Match": UNCONDITIONAL_WRITE, "If-None-Match": UNCONDITIONAL_WRITE, "If-Unmodified-Since": NO_DATES };
};

/** The middleware refusing what `route` does not take. */
export const refusePreconditions = (route: RouteConfig): MiddlewareHandler => {
  const refused = refusedPreconditionsOf(route);
  return async (c, next) => {
    // Under an If-Match the route takes, If-Unmodified-Since is to be ignored (RFC 9110 §13.1.4): nothing to refuse.
    const matched = !("If-Match" in refused) && c.req.header("If-Match") !== undefined;
    const sent = Object.entries(refused).filter(
      ([name]) => c.req.header(name) !== undefined && !(matched && name === "If-Unmodified-Since"),
    );
    if (sent.length > 0) throw invalidRequest("header", Object.fromEntries(sent.map(([name, why]) => [name, [why]])));
    await next();
  };
};

const UNCONDITIONAL =
  "This write is unconditional: `If-Match`, `If-None-Match` or `If-Unmodified-Since` is 400 `VALIDATION_ERROR`.";
const READ = "`If-Match` or `If-Unmodified-Since` is 400 `VALIDATION_ERROR`: a read takes no precondition.";

/** The route's description with what it says of the preconditions it refuses. */
export const withPreconditionRule = (route: RouteConfig) => {
  const rule = route.method === "get" ? READ : takesPreconditions(route) ? undefined : UNCONDITIONAL;
  return rule ? `${route.description} ${rule}` : route.description;
};
