import { OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { errorForLog, isDatabaseBusy, isDatabaseUnavailable, isTransientConflict, postgresErrorOf } from "../db/errors";
import { allowedMethodsOnly } from "../middleware/allowed-methods";
import { cors } from "../middleware/cors";
import { ApiError, keptColliding } from "./errors";
import { jsonReadingOf } from "./media-type";
import { refusePreconditions, withPreconditionRule } from "./preconditions";
import { allowedMethods } from "./route-table";
import type { AppEnv } from "./types";
import { UNKNOWN_FIELD, validationHook } from "./validation";

/** What an operation without query parameters takes: none, so that a misspelt or unknown one is 400, not ignored. */
const NoQuery = z.object({}).strict();

/**
 * An optional body sent empty is no body, even under `Content-Type: application/json` (what `curl -X POST -H
 * "Content-Type: application/json"` sends without `-d`): otherwise it would be parsed as JSON and refused.
 */
const emptyBodyIsNone: MiddlewareHandler = async (c, next) => {
  // Read once (Hono caches it for the validator); only routes whose body is optional pay for it. Read as bytes, not
  // text, so that jsonBodyOnly still sees what was sent (text would have turned invalid UTF-8 into U+FFFD already).
  if (c.req.header("content-type") && (await c.req.arrayBuffer()).byteLength === 0) withContentType(c, null);
  await next();
};

/**
 * Puts in place of the request one with another `Content-Type` (`null`: none), what the validators read. Rebuilt from
 * its URL, not from the request, whose body has been read here (Hono keeps it cached for the validators): a Request
 * cannot be made from one whose body was read (a TypeError, answered 500).
 */
function withContentType(c: Context, contentType: string | null, body?: ArrayBuffer) {
  const headers = new Headers(c.req.raw.headers);
  if (contentType === null) headers.delete("content-type");
  else headers.set("content-type", contentType);
  const { url, method, signal } = c.req.raw;
  c.req.raw = new Request(url, { method, headers, signal, body });
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * No content coding is decoded here (Workers hand the body over as sent): a compressed body is refused as such, with
 * the coding that is accepted (RFC 9110 §15.5.16), rather than read as broken JSON, whether the operation takes a body
 * or not. Without a body there is nothing coded (a client that labels every request alike): taken.
 */
async function refuseContentCoding(c: Context) {
  const coding = c.req.header("content-encoding")?.trim().toLowerCase();
  if (coding && coding !== "identity" && (await c.req.arrayBuffer()).byteLength > 0) {
    throw new ApiError(
      "UNSUPPORTED_MEDIA_TYPE",
      "The request body must not be compressed: send it without Content-Encoding",
      { "Content-Encoding": [`Unsupported: ${coding.slice(0, 40)}`] },
      { "Accept-Encoding": "identity" },
    );
  }
}

/**
 * A JSON body as RFC 8259 and RFC 9110 have it, before the route's validators read it: UTF-8 only (invalid bytes are a
 * 400, not text quietly changed to U+FFFD and stored), and any well-formed `Content-Type` of a JSON media type, with
 * whitespace before a `;` or an empty parameter too (the validators would answer those 415). Runs after the
 * route's scope check, as the validators do.
 */
const jsonBodyOnly: MiddlewareHandler = async (c, next) => {
  await refuseContentCoding(c);
  const reading = jsonReadingOf(c.req.header("content-type") ?? "");
  if (reading) {
    const bytes = await c.req.arrayBuffer();
    try {
      strictUtf8.decode(bytes);
    } catch {
      throw new ApiError("VALIDATION_ERROR", "The request body is not valid UTF-8", {
        body: ["Must be JSON encoded in UTF-8"],
      });
    }
    // Parameters mean nothing to application/json (RFC 8259 §11), nor does a `+json` subtype here: a header the
    // validators would refuse reaches them as `application/json`. The request is rebuilt for that only (the body
    // stays read: Hono caches it), so `application/json` and `application/json; charset=utf-8`, what clients send,
    // cost nothing more.
    if (reading === "as application/json") withContentType(c, "application/json", bytes);
  }
  await next();
};

const NOT_UTF8 = "Must be percent-encoded UTF-8 (RFC 3986; a % of the text itself is %25)";

/** A query component decoded as Hono decodes it (`+` is a space), or null when its escapes are no UTF-8. */
const decodedComponent = (component: string) => {
  try {
    return decodeURIComponent(component.replace(/\+/g, " "));
  } catch {
    return null;
  }
};

/**
 * A query string as RFC 3986 has it, before the validators read it: every percent-escape decodes to UTF-8, and every
 * parameter has a name. Hono keeps an escape it cannot decode as its text (`q=caf%E9`, Latin-1's `é`, searched for
 * `caf%E9`; `q=50%` for `50%`) and drops `=1` without a word: 400 on the parameter instead, as bodies are.
 */
const strictQueryString: MiddlewareHandler = async (c, next) => {
  // The query ends where a fragment begins, as Hono reads it: what follows `#` is no parameter of the request.
  const hash = c.req.url.indexOf("#");
  const url = hash === -1 ? c.req.url : c.req.url.slice(0, hash);
  const start = url.indexOf("?");
  if (start !== -1) {
    const details: Record<string, string[]> = Object.create(null);
    for (const pair of url.slice(start + 1).split("&")) {
      const equals = pair.indexOf("=");
      const rawName = equals === -1 ? pair : pair.slice(0, equals);
      const name = decodedComponent(rawName);
      // Nameless first: its value's escapes would otherwise be reported under "", a field no client can name.
      if (name === null) details[rawName.slice(0, 100)] = [NOT_UTF8];
      else if (name === "" && equals !== -1)
        details.query = ["Every parameter needs a name: found one starting with ="];
      else if (equals !== -1 && decodedComponent(pair.slice(equals + 1)) === null) details[name] = [NOT_UTF8];
    }
    if (Object.keys(details).length > 0) throw new ApiError("VALIDATION_ERROR", "Invalid request query", details);
  }
  await next();
};

/**
 * An operation that takes no body (restart, ping, a DELETE of one resource) refuses one that asks for something, as a
 * strict object refuses an unknown field: `{"description": "x"}` sent to restart is 400 on `description`, not quietly
 * ignored. No body, an empty one and `{}` (what generic clients send with every POST) are taken.
 */
const noBody: MiddlewareHandler = async (c, next) => {
  await refuseContentCoding(c);
  const bytes = await c.req.arrayBuffer();
  if (bytes.byteLength > 0) {
    let value: unknown;
    try {
      value = JSON.parse(strictUtf8.decode(bytes));
    } catch {
      value = undefined;
    }
    const fields = value && typeof value === "object" && !Array.isArray(value) ? Object.keys(value) : undefined;
    if (fields === undefined) {
      throw new ApiError("VALIDATION_ERROR", "Invalid request body", {
        body: ["This operation takes no body: send none, or {}"],
      });
    }
    if (fields.length > 0) {
      throw new ApiError(
        "VALIDATION_ERROR",
        "Invalid request body",
        Object.fromEntries(fields.map((field) => [field, [UNKNOWN_FIELD]])),
      );
    }
  }
  await next();
};

/** The routes' router: strict query strings, optional bodies that may come empty, the shared validation hook. */
export function createRouter() {
  const router = new OpenAPIHono<AppEnv>({ strict: true, defaultHook: validationHook });
  const register = router.openapi.bind(router);
  const withDefaults = (route: RouteConfig): RouteConfig => {
    const request = route.request?.query ? route.request : { ...route.request, query: NoQuery };
    const body = route.request?.body;
    const optionalBody = body?.required === false;
    const middleware = [...(optionalBody ? [emptyBodyIsNone] : []), ...[route.middleware ?? []].flat()];
    const bodyRule = body ? [jsonBodyOnly] : route.method === "get" ? [] : [noBody];
    const description = withPreconditionRule(route);
    return {
      ...route,
      description,
      request,
      middleware: [...middleware, strictQueryString, refusePreconditions(route), ...bodyRule],
    };
  };
  router.openapi = ((route: RouteConfig, ...rest: unknown[]) =>
    // biome-ignore lint/suspicious/noExplicitAny: passes the handler and hook on exactly as given.
    (register as any)(withDefaults(route), ...rest)) as typeof router.openapi;
  return router;
}

/** The app shell every resource router is mounted on: request ids, CORS, the error envelope, 404s and 405s. */
export function createApp() {
  const app = createRouter();
  // Read at request time, so every route registered on the app after this counts.
  const methodsFor = (pathname: string) => allowedMethods(app, pathname);
  app.use(requestId());
  app.use(async (c, next) => {
    await next();
    c.header("X-Content-Type-Options", "nosniff");
  });
  app.use(cors(methodsFor));
  app.use(allowedMethodsOnly(methodsFor));
  app.notFound((c) => {
    // A 404 is heuristically cacheable (RFC 9110 §15.5.5), and one outside /v1 misses its no-store middleware.
    const headers = { "Cache-Control": "no-store" };
    throw new ApiError("NOT_FOUND", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`, undefined, headers);
  });
  app.onError((error, c) => {
    // A response decided as a whole before the handler could finish (a replayed Idempotency-Key answer): made
    // outside the context, so it carries this request's id only if given it here.
    if (error instanceof HTTPException && error.res) {
      const decided = error.getResponse();
      decided.headers.set("X-Request-Id", c.get("requestId"));
      return decided;
    }
    const apiError = toApiError(error);
    // Server errors, and requests Postgres refused that the schemas let through (a gap to close).
    const level = apiError.status >= 500 ? "error" : postgresErrorOf(error) ? "warn" : undefined;
    if (level) {
      (level === "error" ? console.error : console.warn)(
        JSON.stringify({
          level,
          request_id: c.get("requestId"),
          method: c.req.method,
          path: new URL(c.req.url).pathname,
          code: apiError.code,
          ...errorForLog(error),
        }),
      );
    }
    for (const [name, value] of Object.entries(apiError.headers ?? {})) c.header(name, value);
    return c.json(apiError.toBody(), apiError.status as ContentfulStatusCode);
  });
  return app;
}

function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException) {
    switch (error.status) {
      case 400:
        // Hono's JSON validator: the body is not parseable JSON.
        return new ApiError("VALIDATION_ERROR", "The request body is not valid JSON", {
          body: [error.message],
        });
      case 413:
        return new ApiError("PAYLOAD_TOO_LARGE", "The request body is larger than 64 KiB");
      case 415:
        return new ApiError(
          "UNSUPPORTED_MEDIA_TYPE",
          "The request body must be sent as Content-Type: application/json",
        );
    }
  }
  const postgresError = postgresErrorOf(error);
  if (postgresError?.code.startsWith("22")) {
    // A data exception (SQLSTATE class 22): a value the request carried that
    // Postgres cannot take (a NUL character, a number out of range…) and that
    // the route's schema let through. The client's doing; the SQL stays in the logs.
    return new ApiError("VALIDATION_ERROR", "A value in the request cannot be stored", {
      request: ["A value is out of range or contains characters that cannot be stored (such as U+0000)"],
    });
  }
  if (isTransientConflict(error)) return keptColliding();
  if (isDatabaseUnavailable(error)) {
    return new ApiError("SERVICE_UNAVAILABLE", "The database is unreachable; retry shortly", undefined, {
      "Retry-After": "2",
    });
  }
  if (isDatabaseBusy(error)) {
    return new ApiError("SERVICE_UNAVAILABLE", "The database is busy; retry shortly", undefined, {
      "Retry-After": "2",
    });
  }
  return new ApiError("INTERNAL_ERROR", "An unexpected error occurred");
}
