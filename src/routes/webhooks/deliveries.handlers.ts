import { z } from "@hono/zod-openapi";
import { requireManager } from "../../db/membership";
import { decodeCursor } from "../../lib/cursor";
import { ApiError, notFound } from "../../lib/errors";
import { pageAnswer } from "../../lib/pagination";
import { Id, UtcTimestamp } from "../../lib/schemas";
import type { AppRouteHandler } from "../../lib/types";
import { listDeliveries, pingWebhook, retryDelivery } from "./deliveries.queries";
import type { ListDeliveriesRoute, PingRoute, RetryDeliveryRoute } from "./deliveries.routes";
import { webhookNotFound } from "./webhooks.handlers";

const DeliveryCursor = z.tuple([UtcTimestamp, Id]);
const webhookDisabled = () =>
  new ApiError("WEBHOOK_DISABLED", "The webhook subscription is disabled; PATCH it with active: true first");

export const ping: AppRouteHandler<PingRoute> = async (c) => {
  const result = await pingWebhook(c.get("db"), c.get("caller"), c.req.valid("param").id);
  requireManager(result.role, "ping webhook subscriptions");
  if (!result.found) throw webhookNotFound();
  if (!result.active || !result.delivery) throw webhookDisabled();
  return c.json({ data: result.delivery }, 202);
};

export const list: AppRouteHandler<ListDeliveriesRoute> = async (c) => {
  const query = c.req.valid("query");
  const cursor = query.cursor ? decodeCursor(query.cursor, "deliveries", DeliveryCursor, c.req.url) : undefined;
  const page = await listDeliveries(c.get("db"), c.get("caller"), c.req.valid("param").id, {
    limit: query.limit,
    status: query.status,
    before: cursor && { createdAt: cursor[0], id: cursor[1] },
  });
  requireManager(page.role, "read webhook deliveries");
  if (!page.found) throw webhookNotFound();
  return pageAnswer(c, "deliveries", page.deliveries, query.limit, (delivery) => [delivery.created_at, delivery.id]);
};

export const retry: AppRouteHandler<RetryDeliveryRoute> = async (c) => {
  const { id, deliveryId } = c.req.valid("param");
  const result = await retryDelivery(c.get("db"), c.get("caller"), id, deliveryId);
  requireManager(result.role, "retry webhook deliveries");
  if (!result.found) throw webhookNotFound();
  if (!result.delivery_found) throw notFound("Delivery");
  if (!result.active || !result.delivery) throw webhookDisabled();
  return c.json({ data: result.delivery }, 202);
};
