import { z } from "@hono/zod-openapi";
import { requireManager } from "../../db/membership";
import { entityTag, preconditionsOf } from "../../lib/conditional";
import { decodeCursor } from "../../lib/cursor";
import { ApiError, notFound, preconditionFailed } from "../../lib/errors";
import { pageAnswer } from "../../lib/pagination";
import { CalendarDate, Id } from "../../lib/schemas";
import type { AppRouteHandler } from "../../lib/types";
import { attachEntries, detachEntries, type EntryChangeResult } from "./invoice-entries.queries";
import {
  createInvoice,
  deleteInvoice,
  getInvoice,
  listInvoices,
  unknownCustomer,
  updateInvoice,
} from "./invoices.queries";
import type {
  AttachRoute,
  CreateRoute,
  DetachRoute,
  GetOneRoute,
  ListRoute,
  PatchRoute,
  RemoveRoute,
} from "./invoices.routes";
import { type InvoiceStatus, STATUS_TRANSITIONS } from "./invoices.schemas";

const InvoiceCursor = z.tuple([CalendarDate, Id]);
const invoiceNotFound = () => notFound("Invoice");
const notDraft = (status: InvoiceStatus) =>
  new ApiError("INVOICE_NOT_DRAFT", `The invoice is ${status}; only drafts can change`);

export const list: AppRouteHandler<ListRoute> = async (c) => {
  const query = c.req.valid("query");
  const cursor = query.cursor ? decodeCursor(query.cursor, "invoices", InvoiceCursor, c.req.url) : undefined;
  const page = await listInvoices(c.get("db"), c.get("caller"), {
    limit: query.limit,
    status: query.status,
    customerId: query.customer_id,
    before: cursor && { date: cursor[0], id: cursor[1] },
  });
  requireManager(page.role, "read invoices");
  return pageAnswer(c, "invoices", page.invoices, query.limit, (invoice) => [invoice.date, invoice.id]);
};

export const create: AppRouteHandler<CreateRoute> = async (c) => {
  const result = await createInvoice(c.get("db"), c.get("caller"), c.req.valid("json"));
  requireManager(result.role, "create invoices");
  if (!result.customer_found) throw unknownCustomer();
  if (!result.invoice) throw new Error("the insert returned no row although every check passed");
  c.header("Location", `/v1/invoices/${result.invoice.id}`);
  c.header("ETag", entityTag(result.invoice.version));
  return c.json({ data: result.invoice }, 201);
};

export const getOne: AppRouteHandler<GetOneRoute> = async (c) => {
  const result = await getInvoice(c.get("db"), c.get("caller"), c.req.valid("param").id);
  requireManager(result.role, "read invoices");
  if (!result.invoice) throw invoiceNotFound();
  c.header("ETag", entityTag(result.invoice.version));
  return c.json({ data: result.invoice }, 200);
};

export const patch: AppRouteHandler<PatchRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const changes = c.req.valid("json");
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const result = await updateInvoice(c.get("db"), c.get("caller"), id, changes, ifMatch);
  requireManager(result.role, "change invoices");
  if (!result.status) throw invoiceNotFound();
  if (result.precondition_failed) throw preconditionFailed("invoice", result.precondition_failed);
  if (!result.move_allowed && changes.status) {
    throw new ApiError(
      "INVALID_STATUS_TRANSITION",
      `An invoice cannot move from ${result.status} to ${changes.status}`,
      { from: result.status, to: changes.status, allowed: STATUS_TRANSITIONS[result.status] },
    );
  }
  if (!result.invoice) throw notDraft(result.status);
  c.header("ETag", entityTag(result.invoice.version));
  return c.json({ data: result.invoice }, 200);
};

export const remove: AppRouteHandler<RemoveRoute> = async (c) => {
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const result = await deleteInvoice(c.get("db"), c.get("caller"), c.req.valid("param").id, ifMatch);
  requireManager(result.role, "delete invoices");
  if (!result.status) throw invoiceNotFound();
  if (result.precondition_failed) throw preconditionFailed("invoice", result.precondition_failed);
  if (result.status !== "draft") throw notDraft(result.status);
  return c.body(null, 204);
};

function entryChangeOutcome(result: EntryChangeResult, action: "attach" | "detach") {
  requireManager(result.role, `${action} time entries`);
  if (!result.status) throw invoiceNotFound();
  if (result.status !== "draft") throw notDraft(result.status);
  if (result.missing.length > 0) {
    throw new ApiError("NOT_FOUND", "Some time entries were not found", { time_entry_ids: result.missing });
  }
  if (result.refused) {
    const message =
      action === "attach"
        ? "Some time entries cannot be attached to this invoice"
        : "Some time entries are not attached to this invoice";
    throw new ApiError("ENTRIES_NOT_ATTACHABLE", message, result.refused);
  }
  if (!result.invoice) throw new Error("the invoice vanished although it was locked");
  return result.invoice;
}

export const attach: AppRouteHandler<AttachRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const result = await attachEntries(c.get("db"), c.get("caller"), id, c.req.valid("json").time_entry_ids);
  const invoice = entryChangeOutcome(result, "attach");
  c.header("ETag", entityTag(invoice.version));
  return c.json({ data: invoice }, 200);
};

export const detach: AppRouteHandler<DetachRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const result = await detachEntries(c.get("db"), c.get("caller"), id, c.req.valid("json").time_entry_ids);
  const invoice = entryChangeOutcome(result, "detach");
  c.header("ETag", entityTag(invoice.version));
  return c.json({ data: invoice }, 200);
};
