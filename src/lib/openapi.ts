import { Scalar } from "@scalar/hono-api-reference";
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
      "- **OAuth2 access token** (RFC 9068): header `typ: at+jwt`, signed RS256 or ES256 with a key from `OAUTH_JWKS_URL`, `iss` = `OAUTH_ISSUER`, `aud` = `OAUTH_AUDIENCE`, claims `sub`, `org_id`, `client_id`, `exp` and `scope` (space separated). `entries:read` allows reading time entries, `entries:write` changing them.",
      "",
      "Clocks may differ by up to 30 seconds. A bad token is 401 with `WWW-Authenticate: Bearer error=\"invalid_token\"`; a missing scope is 403 `INSUFFICIENT_SCOPE`. The caller's role (owner, admin, member) is read from the organization's membership on every request, so a removed member loses access at once.",
    ].join("\n"),
  });

  app.doc31("/openapi.json", (c) => ({
    openapi: "3.1.0",
    info: {
      title: "Time Entries API",
      version: API_VERSION,
      description: [
        "Log, bill and report working time: time entries with their users, projects, customers and invoices.",
        "",
        "**Conventions.** Request bodies are strict JSON objects: an unknown field is a 400. Timestamps must carry an offset (`Z` or `±hh:mm`) and come back in UTC ISO 8601 with milliseconds. Lists are newest first with opaque keyset cursors. Every error is `{\"error\": {\"code\", \"message\", \"details\"?}}` with a stable `code`, and every response carries an `X-Request-Id`.",
        "",
        "**Tenancy.** Everything is scoped to the token's organization: another organization's ids answer exactly like ids that do not exist (404).",
      ].join("\n"),
    },
    servers: [{ url: new URL(c.req.url).origin, description: "This server" }],
    security: [{ bearerAuth: [] }],
    tags: [{ name: "Time entries", description: "Recorded and running time." }],
  }));

  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Time Entries API reference" }));
}
