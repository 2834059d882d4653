import { createRoute, z } from "@hono/zod-openapi";
import { etagHeader, IfMatchHeaders, ifMatchRule } from "../../lib/conditional";
import { errorResponses } from "../../lib/errors";
import { authErrors, bodyErrors, jsonContent as json, jsonBody, scoped } from "../../lib/openapi-helpers";
import { IdParams } from "../../lib/schemas";
import {
  CreateProjectBody,
  ListProjectsQuery,
  ProjectEnvelope,
  ProjectPage,
  UpdateProjectBody,
} from "./projects.schemas";

const tags = ["Projects"];
const read = scoped("entries:read");
const write = scoped("entries:write");
const writeRule =
  "Only owner and admin may do this (a member gets 403 `FORBIDDEN`). Needs scope `entries:write` for OAuth tokens.";

export const list = createRoute({
  operationId: "listProjects",
  method: "get",
  path: "/v1/projects",
  tags,
  summary: "List projects",
  description:
    "Alphabetical by name (ties by id), each with its customer, with keyset pagination: pass `meta.next_cursor` as `cursor` for the next page. Filter by `q`, `active` and `customer_id`. Every member can read projects. Needs scope `entries:read` for OAuth tokens.",
  ...read,
  request: { query: ListProjectsQuery },
  responses: {
    200: json(ProjectPage, "A page of projects."),
    ...errorResponses("VALIDATION_ERROR", "INVALID_CURSOR", ...authErrors),
  },
});

export const create = createRoute({
  operationId: "createProject",
  method: "post",
  path: "/v1/projects",
  tags,
  summary: "Create a project",
  description: `Only \`name\` is required. \`customer_id\` must name a customer of the organization (otherwise 400 on \`customer_id\`); \`currency\` is required when \`hourly_rate\` is set. Projects start active. ${writeRule}`,
  ...write,
  request: { body: jsonBody(CreateProjectBody, "The project to create.") },
  responses: {
    201: {
      ...json(ProjectEnvelope, "The created project."),
      headers: z.object({
        Location: z.string().openapi({
          description: "URL of the new project.",
          example: "/v1/projects/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
        }),
        ...etagHeader.shape,
      }),
    },
    ...errorResponses(...bodyErrors, ...authErrors),
  },
});

export const getOne = createRoute({
  operationId: "getProject",
  method: "get",
  path: "/v1/projects/{id}",
  tags,
  summary: "Get a project",
  description:
    "Another organization's project is 404 like an id that does not exist. Every member can read projects. Needs scope `entries:read` for OAuth tokens.",
  ...read,
  request: { params: IdParams },
  responses: {
    200: { ...json(ProjectEnvelope, "The project."), headers: etagHeader },
    ...errorResponses("VALIDATION_ERROR", "NOT_FOUND", ...authErrors),
  },
});

export const patch = createRoute({
  operationId: "updateProject",
  method: "patch",
  path: "/v1/projects/{id}",
  tags,
  summary: "Update a project",
  description: `Changes any subset of the fields (null clears an optional one) and bumps \`updated_at\`. The merged project must still have a \`currency\` when it has an \`hourly_rate\`. Deactivate a project with \`active: false\`. ${ifMatchRule} ${writeRule}`,
  ...write,
  request: {
    params: IdParams,
    headers: IfMatchHeaders,
    body: jsonBody(UpdateProjectBody, "The fields to change."),
  },
  responses: {
    200: { ...json(ProjectEnvelope, "The updated project."), headers: etagHeader },
    ...errorResponses("NOT_FOUND", "PRECONDITION_FAILED", ...bodyErrors, ...authErrors),
  },
});

export const remove = createRoute({
  operationId: "deleteProject",
  method: "delete",
  path: "/v1/projects/{id}",
  tags,
  summary: "Delete a project",
  description: `A project that has time entries is 409 \`IN_USE\` (deactivate it with \`active: false\` instead): nothing is deleted in cascade. ${ifMatchRule} ${writeRule}`,
  ...write,
  request: { params: IdParams, headers: IfMatchHeaders },
  responses: {
    204: { description: "Deleted." },
    ...errorResponses("VALIDATION_ERROR", "NOT_FOUND", "PRECONDITION_FAILED", "IN_USE", ...authErrors),
  },
});

export type ListRoute = typeof list;
export type CreateRoute = typeof create;
export type GetOneRoute = typeof getOne;
export type PatchRoute = typeof patch;
export type RemoveRoute = typeof remove;
