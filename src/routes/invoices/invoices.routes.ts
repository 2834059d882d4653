import { createRoute, z } from "@hono/zod-openapi";
import { etagHeader, IfMatchHeaders, ifMatchRule, noChangeRule } from "../../lib/conditional";
import { errorResponses, errorResponsesWith } from "../../lib/error-responses";

import { authErrors, bodyErrors, jsonContent as json, jsonBody, noBodyErrors, scoped } from "../../lib/openapi-helpers";
import { IdParams } from "../../lib/schemas";
import {
  CreateInvoiceBody,
  InvoiceEnvelope,
  InvoicePage,
  ListInvoicesQuery,
  TimeEntryIdsBody,
  UpdateInvoiceBody,
} from "./invoices.schemas";

/**
 * What attach and detach answer: the invoice with its new totals, or why not (ids that are no time entry of the
 * organization in `details.time_entry_ids`).
 */
const entryChangeResponses = {
  200: { ...json(InvoiceEnvelope, "The invoice with its new totals."), headers: etagHeader },
  ...errorResponsesWith(
    {
      NOT_FOUND: {
        message: "Some time entries were not found",
        details: { time_entry_ids: ["1c9e6a2b-7d4f-4e8a-b3c5-2f6d8e0a1b3c"] },
      },
    },
    "NOT_FOUND",
    "INVOICE_NOT_DRAFT",
    "ENTRIES_NOT_ATTACHABLE",
    ...bodyErrors,
    ...authErrors,
  ),
};

const tags = ["Invoices"];
const read = scoped("invoices:read");
const write = scoped("invoices:write");
const managersOnly = "Invoices are for owner and admin only (a member gets 403 `FORBIDDEN`).";

export const list = createRoute({
  operationId: "listInvoices",
  method: "get",
  path: "/v1/invoices",
  tags,
  summary: "List invoices",
  description: `Newest invoice date first (ties by id), with keyset pagination: pass \`meta.next_cursor\` as \`cursor\` for the next page. Filter by \`status\` and \`customer_id\`. Items carry no summary; get one invoice for its totals. ${managersOnly} Needs scope \`invoices:read\` for OAuth tokens.`,
  ...read,
  request: { query: ListInvoicesQuery },
  responses: {
    200: json(InvoicePage, "A page of invoices."),
    ...errorResponses("VALIDATION_ERROR", "INVALID_CURSOR", ...authErrors),
  },
});

export const create = createRoute({
  operationId: "createInvoice",
  method: "post",
  path: "/v1/invoices",
  tags,
  summary: "Create a draft invoice",
  description: `Creates a \`draft\` for a customer of the organization (another organization's customer is a 400 on \`customer_id\`). \`number\` is unique in the organization (409 \`DUPLICATE_NUMBER\`); \`due_date\`, when given, is on or after \`date\`. ${managersOnly} Needs scope \`invoices:write\` for OAuth tokens.`,
  ...write,
  request: { body: jsonBody(CreateInvoiceBody, "The invoice to create.") },
  responses: {
    201: {
      ...json(InvoiceEnvelope, "The created invoice, with an empty summary."),
      headers: z.object({
        Location: z.string().openapi({
          description: "URL of the new invoice.",
          example: "/v1/invoices/7b6a5948-3726-4150-8f9e-0d1c2b3a4958",
        }),
        ...etagHeader.shape,
      }),
    },
    ...errorResponses("DUPLICATE_NUMBER", ...bodyErrors, ...authErrors),
  },
});

export const getOne = createRoute({
  operationId: "getInvoice",
  method: "get",
  path: "/v1/invoices/{id}",
  tags,
  summary: "Get an invoice with its totals",
  description: `The invoice, its customer, and a summary of its attached time entries: count, total and billable seconds, and the amount per currency. ${managersOnly} Needs scope \`invoices:read\` for OAuth tokens.`,
  ...read,
  request: { params: IdParams },
  responses: {
    200: { ...json(InvoiceEnvelope, "The invoice."), headers: etagHeader },
    ...errorResponses("VALIDATION_ERROR", "NOT_FOUND", ...authErrors),
  },
});

export const patch = createRoute({
  operationId: "updateInvoice",
  method: "patch",
  path: "/v1/invoices/{id}",
  tags,
  summary: "Update an invoice or move its status",
  description: `\`status\` moves draft → sent → paid, sent → overdue → paid, and any status but paid → void; any other move is 409 \`INVALID_STATUS_TRANSITION\`. Leaving draft freezes \`summary\` (a project's later rate or currency no longer moves it). Voiding releases the entries, unbilled (a \`time_entry.updated\` event each); the void invoice keeps its summary. \`number\`, \`date\` and \`due_date\` change only while the invoice is a draft (409 \`INVOICE_NOT_DRAFT\`), in the same request as a move out of draft if you like. The customer cannot change. ${noChangeRule} ${ifMatchRule} ${managersOnly} Needs scope \`invoices:write\` for OAuth tokens.`,
  ...write,
  request: {
    params: IdParams,
    headers: IfMatchHeaders,
    body: jsonBody(UpdateInvoiceBody, "The fields to change."),
  },
  responses: {
    200: { ...json(InvoiceEnvelope, "The updated invoice."), headers: etagHeader },
    ...errorResponses(
      "NOT_FOUND",
      "PRECONDITION_FAILED",
      "DUPLICATE_NUMBER",
      "INVALID_STATUS_TRANSITION",
      "INVOICE_NOT_DRAFT",
      ...bodyErrors,
      ...authErrors,
    ),
  },
});

export const remove = createRoute({
  operationId: "deleteInvoice",
  method: "delete",
  path: "/v1/invoices/{id}",
  tags,
  summary: "Delete a draft invoice",
  description: `Only drafts can be deleted (409 \`INVOICE_NOT_DRAFT\`; void a sent invoice instead). Its attached entries are released, unbilled, in the same statement. ${ifMatchRule} ${managersOnly} Needs scope \`invoices:write\` for OAuth tokens.`,
  ...write,
  request: { params: IdParams, headers: IfMatchHeaders },
  responses: {
    204: { description: "Deleted." },
    ...errorResponses(
      "VALIDATION_ERROR",
      "NOT_FOUND",
      "PRECONDITION_FAILED",
      "INVOICE_NOT_DRAFT",
      ...noBodyErrors,
      ...authErrors,
    ),
  },
});

const entryRules =
  "All or nothing: ids that are no time entry of the organization are 404 `NOT_FOUND` with `details.time_entry_ids`; entries that cannot take part are 409 `ENTRIES_NOT_ATTACHABLE` with their ids in `details` by reason; either way nothing changes.";

export const attach = createRoute({
  operationId: "attachInvoiceTimeEntries",
  method: "post",
  path: "/v1/invoices/{id}/time-entries",
  tags,
  summary: "Attach time entries to a draft invoice",
  description: `Attaches stopped, unbilled time entries of projects of the invoice's customer (for an invoice without customer: entries of projects without customer, or without project). Attached entries are locked: the time entry API answers 409 \`ENTRY_LOCKED\` until they are detached. Entries already on this invoice are left as they are. ${entryRules} Reasons: \`running\`, \`invoiced\` (on another invoice), \`other_customer\`. The invoice must be a draft (409 \`INVOICE_NOT_DRAFT\`). ${managersOnly} Needs scope \`invoices:write\` for OAuth tokens.`,
  ...write,
  request: { params: IdParams, body: jsonBody(TimeEntryIdsBody, "The entries to attach, 1 to 100 distinct ids.") },
  responses: {
    ...entryChangeResponses,
  },
});

export const detach = createRoute({
  operationId: "detachInvoiceTimeEntries",
  method: "delete",
  path: "/v1/invoices/{id}/time-entries",
  tags,
  summary: "Detach time entries from a draft invoice",
  description: `Releases entries from the invoice so they can change again or go on another invoice. ${entryRules} Reason: \`not_attached\` (not on this invoice). The invoice must be a draft (409 \`INVOICE_NOT_DRAFT\`). ${managersOnly} Needs scope \`invoices:write\` for OAuth tokens.`,
  ...write,
  request: { params: IdParams, body: jsonBody(TimeEntryIdsBody, "The entries to detach, 1 to 100 distinct ids.") },
  responses: {
    ...entryChangeResponses,
  },
});

export type ListRoute = typeof list;
export type CreateRoute = typeof create;
export type GetOneRoute = typeof getOne;
export type PatchRoute = typeof patch;
export type RemoveRoute = typeof remove;
export type AttachRoute = typeof attach;
export type DetachRoute = typeof detach;
