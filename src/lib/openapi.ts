import { Scalar } from "@scalar/hono-api-reference";
import { IDEMPOTENCY_KEY_FORMAT } from "../middleware/idempotency";
import { eventDataExamples, registerWebhookEvents } from "../routes/webhooks/webhook-events";
import type { EventType } from "../webhooks/event-types";
import { errorResponses, withOperationErrorExamples } from "./error-responses";
import { responseHeaders as headers, methodNotAllowed } from "./openapi-headers";
import type { AppOpenAPI } from "./types";

export const API_VERSION = "1.0.0";

export function configureOpenApi(app: AppOpenAPI) {
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: [
      "Every `/v1` operation needs `Authorization: Bearer <token>`. Two kinds of token are accepted:",
      "",
      "- **Session token**: a JWT signed HS256 with the deployment's `SESSION_JWT_SECRET`, claims `sub` (user id), `org_id` (organization id), `exp` (required) and optionally `iat`. It acts with the user's full rights in that organization.",
      "- **OAuth2 access token** (RFC 9068): header `typ: at+jwt`, signed RS256 or ES256 with a key from `OAUTH_JWKS_URL`, `iss` = `OAUTH_ISSUER`, `aud` = `OAUTH_AUDIENCE`, claims `sub`, `org_id`, `client_id`, `exp`, `iat`, `jti` (RFC 9068 requires both) and `scope` (space separated). `entries:read` and `entries:write` cover time entries and projects, `invoices:read` and `invoices:write` customers and invoices, `team:read` and `team:admin` members and the organization, `webhooks:read` and `webhooks:write` webhook subscriptions (read for GET, write/admin for the rest); `/v1/me` needs no scope.",
      "",
      "Tokens are verified following RFC8725 (JSON Web Token Best Current Practices): algorithms are allow-listed per token kind (never `none`), `typ` separates access tokens from session tokens, and `exp` and `nbf` are checked, with `iss` and `aud` for access tokens (a session token carries neither). Clocks may differ by up to 30 seconds. A bad token is 401 with `WWW-Authenticate: Bearer error=\"invalid_token\"`; a missing scope is 403 `INSUFFICIENT_SCOPE`. The caller's role (owner, admin, member) is read from the organization's membership on every request, so a removed member loses access at once.",
    ].join("\n"),
  });

  registerWebhookEvents(app);

  app.get("/openapi.json", (c) => {
    const document = app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "Time Entries API",
        version: API_VERSION,
        description: [
          "Log, bill and report working time: time entries with their users, projects, customers and invoices.",
          "",
          '**Conventions.** Request bodies are strict JSON objects: an unknown field is a 400. Timestamps must carry an offset (`Z` or `±hh:mm`) and come back in UTC ISO 8601 with milliseconds. Lists page with opaque keyset cursors: time entries newest first (the sync feed oldest change first), projects, customers and members A to Z by name, webhook subscriptions oldest first, deliveries newest first. Every error is `{"error": {"code", "message", "details"?}}` with a stable `code`, and every response carries an `X-Request-Id`.',
          "",
          "**Tenancy.** Everything is scoped to the token's organization: another organization's ids answer exactly like ids that do not exist (404).",
          "",
          "**Methods.** A method a path does not take is 405 `METHOD_NOT_ALLOWED` (the `MethodNotAllowed` response: `Allow` lists the path's methods, as does `details.allow`), decided before authentication. `HEAD` is answered wherever `GET` is, with its status and headers and no body; `OPTIONS` on a path of the API answers 204 with `Allow` (and a CORS preflight from an allowed origin, its CORS headers). Neither is listed as an operation.",
          "",
          '**Outside the API.** Three paths serve no data and are not operations of this document: `GET /healthz`, a liveness check that needs no token and touches no database (`200 {"status":"ok"}`, `Cache-Control: no-store`; a database outage shows on `/v1` as `503`); `GET /openapi.json`, this document; and `GET /docs`, an API reference rendered from it (`/` redirects there).',
        ].join("\n"),
      },
      servers: [
        {
          url: new URL(c.req.url).origin,
          // Short: generators make an identifier of it (oazapfts); OWASP asks it to name the environment.
          description: "This server (production or local)",
          "x-internal": false,
        },
      ],
      security: [{ bearerAuth: [] }],
      tags: [
        { name: "Time entries", description: "Recorded and running time." },
        { name: "Projects", description: "What time is spent on, with an optional customer and hourly rate." },
        { name: "Customers", description: "Who is billed." },
        { name: "Invoices", description: "Bills to customers, with the time entries they charge for." },
        { name: "Team", description: "The organization's members, with their life cycle, and its settings." },
        {
          name: "Webhooks",
          description:
            "Changes pushed to your URL as they happen: signed (Standard Webhooks), retried with backoff for about 23 hours, delivered at least once (de-duplicate on `webhook-id`).",
        },
        { name: "Me", description: "The caller." },
      ],
    });
    return c.json(
      withOptionalParametersUnsent(withOperationErrorExamples(withWebhookExamples(withResponseHeaders(document)))),
    );
  });

  // The reference's script is a static asset of this Worker (public/docs/scalar.js, see wrangler.toml
  // [assets]); Scalar's web fonts, telemetry and hosted AI agent are off: the page needs nothing from
  // the internet.
  app.get(
    "/docs",
    Scalar({
      url: "/openapi.json",
      pageTitle: "Time Entries API reference",
      cdn: "/docs/scalar.js",
      withDefaultFonts: false,
      telemetry: false,
      agent: { disabled: true },
      defaultOpenAllTags: true,
    }),
  );
}

type Document = ReturnType<AppOpenAPI["getOpenAPI31Document"]>;

/** Documents the headers the app shell adds to responses, once, instead of on every route. */
function withResponseHeaders(document: Document): Document {
  document.components = {
    ...document.components,
    headers: { ...document.components?.headers, ...headers },
    responses: { ...document.components?.responses, MethodNotAllowed: methodNotAllowed() },
  };
  const ref = (name: keyof typeof headers) => ({
    $ref: `#/components/headers/${name}`,
  });
  // The generator keeps the routes' objects by reference, and routes share some (responses spread into several):
  // changed in place, what one operation gains would show on the others (a detach documented as idempotent). Copied
  // through JSON, which (unlike structuredClone) keeps no object shared.
  document.paths = JSON.parse(JSON.stringify(document.paths));
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    const post = (item as { post?: IdempotentOperation } | undefined)?.post;
    if (path.startsWith("/v1/") && post) withIdempotencyKey(post);
    for (const [method, operation] of Object.entries(item ?? {})) {
      const responses = (
        operation as {
          responses?: Record<string, { headers?: Record<string, unknown> }>;
        }
      ).responses;
      for (const [status, response] of Object.entries(responses ?? {})) {
        response.headers = {
          ...response.headers,
          "X-Request-Id": ref("X-Request-Id"),
          "Access-Control-Allow-Origin": ref("Access-Control-Allow-Origin"),
        };
        if (path.startsWith("/v1/")) response.headers["RateLimit-Policy"] = ref("RateLimit-Policy");
        if (status === "401" || status === "403") response.headers["WWW-Authenticate"] = ref("WWW-Authenticate");
        // 409 IDEMPOTENCY_KEY_IN_USE says when to retry too.
        if (
          status === "503" ||
          status === "429" ||
          (status === "409" && method === "post" && path.startsWith("/v1/"))
        ) {
          response.headers["Retry-After"] = ref("Retry-After");
        }
        if (status === "415") response.headers["Accept-Encoding"] = ref("Accept-Encoding");
        if (status === "429") response.headers.RateLimit = ref("RateLimit");
      }
    }
  }
  return document;
}

type Parameter = { required?: boolean; schema?: { example?: unknown }; examples?: object };

/**
 * An optional parameter's example is offered, not sent: a reference's "Test Request" (Scalar) would otherwise send
 * every example at once, and one `Idempotency-Key` for every POST (replaying the first answer to all of them, or 422),
 * a time entries `cursor` to every list, `updated_since` turning the list into the sync feed. `x-disabled` leaves the
 * parameter unticked, its example filled in.
 */
function withOptionalParametersUnsent(document: Document): Document {
  for (const item of Object.values(document.paths ?? {}))
    for (const operation of Object.values(item ?? {}))
      for (const parameter of ((operation as { parameters?: Parameter[] }).parameters ?? []) as Parameter[])
        if (!parameter.required && parameter.schema?.example !== undefined) {
          // Moved, not copied: a reference shows both, as two "Example" lines.
          const { example, ...schema } = parameter.schema;
          parameter.examples = { example: { value: example, "x-disabled": true } };
          parameter.schema = schema;
        }
  return document;
}

type Schema = {
  $ref?: string;
  example?: unknown;
  enum?: unknown[];
  properties?: object;
  allOf?: Schema[];
  anyOf?: Schema[];
  items?: Schema;
};

/** A value of `schema` made of its properties' examples. */
function exampleOf(document: Document, schema: Schema): unknown {
  const ref = schema.$ref?.split("/").pop();
  if (ref) return exampleOf(document, document.components?.schemas?.[ref] as Schema);
  if ("example" in schema) return schema.example;
  if (schema.enum) return schema.enum[0];
  if (schema.items) return [exampleOf(document, schema.items)];
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((part) => exampleOf(document, part)));
  // A nullable object (`anyOf: [object, {type: null}]`): the object, the more telling example.
  if (schema.anyOf?.[0]) return exampleOf(document, schema.anyOf[0]);
  return Object.fromEntries(
    Object.entries(schema.properties ?? {}).map(([name, property]) => [name, exampleOf(document, property)]),
  );
}

/** Each webhook's body gets an example built from its schema, and made to fit its event (`eventDataExamples`). */
function withWebhookExamples(document: Document): Document {
  for (const [type, item] of Object.entries(document.webhooks ?? {})) {
    const media = (item as { post: { requestBody: { content: { "application/json": Schema & { schema: Schema } } } } })
      .post.requestBody.content["application/json"];
    const example = exampleOf(document, media.schema) as { data: object };
    example.data = { ...example.data, ...eventDataExamples[type as EventType] };
    media.example = example;
  }
  return document;
}

type IdempotentOperation = {
  parameters?: unknown[];
  responses?: Record<
    string,
    {
      description?: string;
      headers?: Record<string, unknown>;
      content?: Record<string, { schema?: unknown; examples?: Record<string, unknown> }>;
    }
  >;
};

/** Every POST takes `Idempotency-Key`, handled by middleware: its header, replay marker and errors. */
function withIdempotencyKey(operation: IdempotentOperation) {
  operation.parameters = [
    ...(operation.parameters ?? []),
    {
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description:
        "Makes a retry safe (IETF Idempotency-Key draft): the first answer to this key is stored for 24 hours, per organization and user, and a retry with the same key and the same request (method, path, query string, body byte for byte, the `Content-Type` when the body is not read as JSON (any JSON media type, with parameters or a `+json` suffix, is the same request), a body's `Content-Encoding` other than `identity`, `If-Match`, `If-None-Match` and `If-Unmodified-Since`) replays it with `Idempotent-Replayed: true`. The same key with another request (one that corrects any of these too) is 422 `IDEMPOTENCY_KEY_MISMATCH`; a retry while the first is still running is 409 `IDEMPOTENCY_KEY_IN_USE`. 5xx answers are not stored, nor is a missing scope's 403 (which the key's answer does not replace). A replay is for the caller as they are now: 403 `FORBIDDEN` once they are no longer a member of the organization; after a demotion, an answer made from the write's result is made again for the new role (403 for what it no longer allows), while one given before the write or refused by the database is replayed as it was. " +
        `${IDEMPOTENCY_KEY_FORMAT.description}, e.g. a UUID.`,
      schema: {
        type: "string",
        minLength: IDEMPOTENCY_KEY_FORMAT.minLength,
        maxLength: IDEMPOTENCY_KEY_FORMAT.maxLength,
        pattern: IDEMPOTENCY_KEY_FORMAT.pattern,
        example: "9d3c1f0e-7b2a-4c5d-8e6f-0a1b2c3d4e5f",
      },
    },
  ];
  const responses = operation.responses ?? {};
  for (const [status, response] of Object.entries(responses)) {
    // A 4xx is kept and replayed like a success (a 5xx is not).
    if (status.startsWith("2") || status.startsWith("4")) {
      response.headers = {
        ...response.headers,
        "Idempotent-Replayed": {
          description:
            "`true` when this answer is the stored answer to an earlier request with the same `Idempotency-Key`.",
          schema: { type: "string", enum: ["true"], example: "true" },
        },
      };
    }
  }
  for (const [status, documented] of Object.entries(
    errorResponses("IDEMPOTENCY_KEY_IN_USE", "IDEMPOTENCY_KEY_MISMATCH"),
  )) {
    const existing = responses[status];
    const examples = documented.content["application/json"].examples;
    if (!existing) {
      responses[status] = {
        description: documented.description,
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" }, examples } },
      };
      continue;
    }
    existing.description = `${existing.description}\n\n${documented.description}`;
    const existingExamples = existing.content?.["application/json"]?.examples;
    if (existingExamples) Object.assign(existingExamples, examples);
  }
  operation.responses = responses;
}
