import { createRoute } from "@hono/zod-openapi";
import { etagHeader, IfMatchHeaders, ifMatchRule, noChangeRule } from "../../lib/conditional";
import { errorResponses } from "../../lib/error-responses";
import { authErrors, bodyErrors, jsonContent as json, jsonBody, scoped } from "../../lib/openapi-helpers";
import { OrganizationEnvelope, UpdateOrganizationBody } from "./organizations.schemas";

const tags = ["Team"];

export const getCurrent = createRoute({
  operationId: "getCurrentOrganization",
  method: "get",
  path: "/v1/organizations/current",
  tags,
  summary: "Get the organization",
  description:
    "The organization of the token (`org_id`) and its settings. Every member can read it. Needs scope `team:read` for OAuth tokens.",
  ...scoped("team:read"),
  responses: {
    200: { ...json(OrganizationEnvelope, "The organization."), headers: etagHeader },
    ...errorResponses("VALIDATION_ERROR", ...authErrors),
  },
});

export const patchCurrent = createRoute({
  operationId: "updateCurrentOrganization",
  method: "patch",
  path: "/v1/organizations/current",
  tags,
  summary: "Update the organization",
  description: `Changes any subset of \`name\`, \`timezone\`, \`prevent_overlaps\` and \`week_start\`, and bumps \`updated_at\`. A time zone Postgres does not know is 400 on \`timezone\`. ${noChangeRule} ${ifMatchRule} Only owner and admin may do this (a member gets 403 \`FORBIDDEN\`). Needs scope \`team:admin\` for OAuth tokens.`,
  ...scoped("team:admin"),
  request: {
    headers: IfMatchHeaders,
    body: jsonBody(UpdateOrganizationBody, "The settings to change."),
  },
  responses: {
    200: { ...json(OrganizationEnvelope, "The updated organization."), headers: etagHeader },
    ...errorResponses("PRECONDITION_FAILED", ...bodyErrors, ...authErrors),
  },
});

export type GetCurrentRoute = typeof getCurrent;
export type PatchCurrentRoute = typeof patchCurrent;
