import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "../../lib/error-responses";
import { authErrors, jsonContent as json } from "../../lib/openapi-helpers";
import { Id, WeekStart } from "../../lib/schemas";

export const ALL_SCOPES = [
  "entries:read",
  "entries:write",
  "invoices:read",
  "invoices:write",
  "team:read",
  "team:admin",
  "webhooks:read",
  "webhooks:write",
] as const;

export const Me = z
  .object({
    user: z
      .object({
        id: Id.openapi({ example: "5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9" }),
        full_name: z.string().nullable().openapi({ example: "Ada Lovelace" }),
        email: z.string().openapi({ example: "ada@example.com" }),
        avatar_url: z.string().nullable().openapi({ example: null }),
      })
      .openapi({
        description: "The caller as this organization knows them (their membership's address, name and avatar).",
      }),
    organization: z.object({
      id: Id.openapi({ example: "0b9c1a52-7c1e-4a8e-9d0b-3f2f6f1c1a01" }),
      name: z.string().nullable().openapi({ example: "Analytical Engines Ltd" }),
      timezone: z.string().openapi({
        description:
          "The organization's IANA time zone: the default `timezone` of the time entry list, summary and export. Changed with `PATCH /v1/organizations/current`.",
        example: "Europe/Berlin",
      }),
      week_start: WeekStart.openapi({
        description:
          "The day the organization's weeks start on: the default `week_start` of the summary. Changed with `PATCH /v1/organizations/current`.",
        example: "monday",
      }),
      prevent_overlaps: z.boolean().openapi({
        description:
          "When true, a member's time entries may not overlap (409 `OVERLAP`); entries that only touch are fine. Changed with `PATCH /v1/organizations/current`.",
        example: false,
      }),
    }),
    role: z.enum(["owner", "admin", "member"]).openapi({
      description: "owner and admin see and change everything in the organization; a member only their own entries.",
      example: "owner",
    }),
    scopes: z.array(z.string()).openapi({
      description:
        "What this token may do: every scope for a session token; for an OAuth access token, the scopes of its `scope` claim this API knows, each once, in the order of the list below (scopes are case-sensitive: `TEAM:ADMIN` is none of them).",
      example: [...ALL_SCOPES],
    }),
    token_type: z.enum(["session", "oauth"]).openapi({ example: "session" }),
    client_id: z
      .string()
      .nullable()
      .openapi({ description: "The OAuth client the token was issued to; null for a session token.", example: null }),
  })
  .openapi("Me");

export const getMe = createRoute({
  operationId: "getMe",
  method: "get",
  path: "/v1/me",
  tags: ["Me"],
  summary: "Who am I",
  description:
    "The caller behind the token: user, organization, role and the scopes the token grants. Any valid token may call it, whatever its scopes.",
  security: [{ bearerAuth: [] }],
  responses: {
    200: json(z.object({ data: Me }).openapi("MeResponse"), "The caller."),
    // Needs no scope, so never INSUFFICIENT_SCOPE.
    ...errorResponses("VALIDATION_ERROR", ...authErrors.filter((code) => code !== "INSUFFICIENT_SCOPE")),
  },
});

export type GetMeRoute = typeof getMe;
