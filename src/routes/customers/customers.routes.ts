import { createRoute, z } from "@hono/zod-openapi";
import { etagHeader, IfMatchHeaders, ifMatchRule } from "../../lib/conditional";
import { errorResponses } from "../../lib/errors";
import { authErrors, bodyErrors, jsonContent as json, jsonBody, scoped } from "../../lib/openapi-helpers";
import { IdParams } from "../../lib/schemas";
import {
  CreateCustomerBody,
  CustomerEnvelope,
  CustomerPage,
  ListCustomersQuery,
  UpdateCustomerBody,
} from "./customers.schemas";

const tags = ["Customers"];
const read = scoped("invoices:read");
const write = scoped("invoices:write");
const writeRule =
  "Only owner and admin may do this (a member gets 403 `FORBIDDEN`). Needs scope `invoices:write` for OAuth tokens.";

export const list = createRoute({
  operationId: "listCustomers",
  method: "get",
  path: "/v1/customers",
  tags,
  summary: "List customers",
  description:
    "Alphabetical by name (ties by id), with keyset pagination: pass `meta.next_cursor` as `cursor` for the next page. Every member can read customers. Needs scope `invoices:read` for OAuth tokens.",
  ...read,
  request: { query: ListCustomersQuery },
  responses: {
    200: json(CustomerPage, "A page of customers."),
    ...errorResponses("VALIDATION_ERROR", "INVALID_CURSOR", ...authErrors),
  },
});

export const create = createRoute({
  operationId: "createCustomer",
  method: "post",
  path: "/v1/customers",
  tags,
  summary: "Create a customer",
  description: `Only \`name\` is required; every other field is optional and may be null. ${writeRule}`,
  ...write,
  request: { body: jsonBody(CreateCustomerBody, "The customer to create.") },
  responses: {
    201: {
      ...json(CustomerEnvelope, "The created customer."),
      headers: z.object({
        Location: z.string().openapi({
          description: "URL of the new customer.",
          example: "/v1/customers/2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
        }),
        ...etagHeader.shape,
      }),
    },
    ...errorResponses(...bodyErrors, ...authErrors),
  },
});

export const getOne = createRoute({
  operationId: "getCustomer",
  method: "get",
  path: "/v1/customers/{id}",
  tags,
  summary: "Get a customer",
  description:
    "Another organization's customer is 404 like an id that does not exist. Needs scope `invoices:read` for OAuth tokens.",
  ...read,
  request: { params: IdParams },
  responses: {
    200: { ...json(CustomerEnvelope, "The customer."), headers: etagHeader },
    ...errorResponses("VALIDATION_ERROR", "NOT_FOUND", ...authErrors),
  },
});

export const patch = createRoute({
  operationId: "updateCustomer",
  method: "patch",
  path: "/v1/customers/{id}",
  tags,
  summary: "Update a customer",
  description: `Changes any subset of the fields (null clears an optional one) and bumps \`updated_at\`. ${ifMatchRule} ${writeRule}`,
  ...write,
  request: {
    params: IdParams,
    headers: IfMatchHeaders,
    body: jsonBody(UpdateCustomerBody, "The fields to change."),
  },
  responses: {
    200: { ...json(CustomerEnvelope, "The updated customer."), headers: etagHeader },
    ...errorResponses("NOT_FOUND", "PRECONDITION_FAILED", ...bodyErrors, ...authErrors),
  },
});

export const remove = createRoute({
  operationId: "deleteCustomer",
  method: "delete",
  path: "/v1/customers/{id}",
  tags,
  summary: "Delete a customer",
  description: `A customer that still has projects or invoices is 409 \`IN_USE\`: nothing is deleted in cascade. ${ifMatchRule} ${writeRule}`,
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
