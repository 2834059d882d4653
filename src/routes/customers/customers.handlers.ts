import { z } from "@hono/zod-openapi";
import { requireManager, requireMember } from "../../db/membership";
import { preconditionsOf } from "../../lib/conditional";
import { resourceAnswer } from "../../lib/crud-responses";
import { decodeCursor } from "../../lib/cursor";
import { notFound, preconditionFailed } from "../../lib/errors";
import { pageAnswer } from "../../lib/pagination";
import { Id, storableText } from "../../lib/schemas";
import type { AppRouteHandler } from "../../lib/types";
import {
  createCustomer,
  customerInUse,
  deleteCustomer,
  getCustomer,
  listCustomers,
  updateCustomer,
} from "./customers.queries";
import type { CreateRoute, GetOneRoute, ListRoute, PatchRoute, RemoveRoute } from "./customers.routes";

const CustomerCursor = z.tuple([z.string().superRefine(storableText), Id]);
const customerNotFound = () => notFound("Customer");

export const list: AppRouteHandler<ListRoute> = async (c) => {
  const query = c.req.valid("query");
  const cursor = query.cursor ? decodeCursor(query.cursor, "customers", CustomerCursor, c.req.url) : undefined;
  const page = await listCustomers(c.get("db"), c.get("caller"), {
    limit: query.limit,
    q: query.q,
    after: cursor && { name: cursor[0], id: cursor[1] },
  });
  requireMember(page.role);
  return pageAnswer(c, "customers", page.customers, query.limit, (customer) => [customer.name, customer.id]);
};

export const create: AppRouteHandler<CreateRoute> = async (c) => {
  const result = await createCustomer(c.get("db"), c.get("caller"), c.req.valid("json"));
  requireManager(result.role, "create customers");
  if (!result.customer) throw new Error("the insert returned no row although the caller may write");
  return resourceAnswer(c, result.customer, 201, `/v1/customers/${result.customer.id}`);
};

export const getOne: AppRouteHandler<GetOneRoute> = async (c) => {
  const result = await getCustomer(c.get("db"), c.get("caller"), c.req.valid("param").id);
  requireMember(result.role);
  if (!result.customer) throw customerNotFound();
  return resourceAnswer(c, result.customer, 200);
};

export const patch: AppRouteHandler<PatchRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const result = await updateCustomer(c.get("db"), c.get("caller"), id, c.req.valid("json"), ifMatch);
  requireManager(result.role, "change customers");
  if (!result.found) throw customerNotFound();
  if (result.precondition_failed) throw preconditionFailed("customer", result.precondition_failed);
  if (!result.customer) throw new Error("the update matched no row although every check passed");
  return resourceAnswer(c, result.customer, 200);
};

export const remove: AppRouteHandler<RemoveRoute> = async (c) => {
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const result = await deleteCustomer(c.get("db"), c.get("caller"), c.req.valid("param").id, ifMatch);
  requireManager(result.role, "delete customers");
  if (!result.found) throw customerNotFound();
  if (result.precondition_failed) throw preconditionFailed("customer", result.precondition_failed);
  if (result.in_use) throw customerInUse();
  return c.body(null, 204);
};
