import { createRoute } from "@hono/zod-openapi";
import { errorResponses } from "../../lib/error-responses";
import { authErrors, jsonContent as json, noBodyErrors } from "../../lib/openapi-helpers";
import { IdParams } from "../../lib/schemas";
import { managersOnly, read, tags, write } from "./webhooks.routes";
import { DeliveryEnvelope, DeliveryPage, DeliveryParams, ListDeliveriesQuery } from "./webhooks.schemas";

export const ping = createRoute({
  operationId: "pingWebhook",
  method: "post",
  path: "/v1/webhooks/{id}/ping",
  tags,
  summary: "Send a test event",
  description: `Sends a \`webhook.ping\` event (its \`data\` is the subscription) to this subscription at once, whatever its \`events\`, signed and retried like any other; the answer is its delivery, \`pending\`, to follow in the deliveries log. A disabled subscription is 409 \`WEBHOOK_DISABLED\`. ${managersOnly} Needs scope \`webhooks:write\` for OAuth tokens.`,
  ...write,
  request: { params: IdParams },
  responses: {
    202: json(DeliveryEnvelope, "The ping's delivery, queued."),
    ...errorResponses("VALIDATION_ERROR", "NOT_FOUND", "WEBHOOK_DISABLED", ...noBodyErrors, ...authErrors),
  },
});

export const list = createRoute({
  operationId: "listWebhookDeliveries",
  method: "get",
  path: "/v1/webhooks/{id}/deliveries",
  tags,
  summary: "List a subscription's deliveries",
  description: `The deliveries log: each event sent (or to be sent) to this subscription, newest first (ties by id), with keyset pagination (\`meta.next_cursor\`): its status, attempts, the last attempt's HTTP status, duration and error, and when the next retry is due. Kept 30 days. ${managersOnly} Needs scope \`webhooks:read\` for OAuth tokens.`,
  ...read,
  request: { params: IdParams, query: ListDeliveriesQuery },
  responses: {
    200: json(DeliveryPage, "A page of deliveries."),
    ...errorResponses("VALIDATION_ERROR", "INVALID_CURSOR", "NOT_FOUND", ...authErrors),
  },
});

export const retry = createRoute({
  operationId: "retryWebhookDelivery",
  method: "post",
  path: "/v1/webhooks/{id}/deliveries/{deliveryId}/retry",
  tags,
  summary: "Send a delivery again",
  description: `Queues the delivery again at once, whatever its status (a failed one after the receiver was fixed, a delivered one the receiver lost), with a fresh retry schedule that replaces any still running (no second send); the receiver sees the same \`webhook-id\`. 404 names what is missing: \`Webhook subscription not found\` or \`Delivery not found\`. A disabled subscription is 409 \`WEBHOOK_DISABLED\`. ${managersOnly} Needs scope \`webhooks:write\` for OAuth tokens.`,
  ...write,
  request: { params: DeliveryParams },
  responses: {
    202: json(DeliveryEnvelope, "The delivery, pending again."),
    ...errorResponses("VALIDATION_ERROR", "NOT_FOUND", "WEBHOOK_DISABLED", ...noBodyErrors, ...authErrors),
  },
});

export type PingRoute = typeof ping;
export type ListDeliveriesRoute = typeof list;
export type RetryDeliveryRoute = typeof retry;
