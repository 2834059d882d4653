import { z } from "@hono/zod-openapi";
import { Version } from "../../lib/conditional";
import { atLeastOneField, Cursor, Id, Limit, PageMeta, storableText, Text, UtcTimestamp } from "../../lib/schemas";
import { ALL_EVENTS, EVENT_TYPES } from "../../webhooks/event-types";
import { URL_RULES } from "../../webhooks/url-policy";

export const exampleWebhookId = "3f2e1d0c-9b8a-4765-8432-10fedcba9876";
export const exampleDeliveryId = "6c5b4a39-2817-4f06-a5e4-d3c2b1a09f8e";
const exampleEventId = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";

const statusDescription =
  "`healthy`: deliveries succeed (or none failed yet); `failing`: an event went to the dead-letter queue after every retry failed, and the next delivered one makes it healthy again; `disabled`: `active` is false, set by an admin, or by the API after `WEBHOOK_DISABLE_AFTER_FAILURES` dead-lettered events in a row or at once when the receiver answers 410 Gone or its stored URL is one the rules refuse.";

export const Webhook = z
  .object({
    id: Id.openapi({ example: exampleWebhookId }),
    url: z.string().openapi({ example: "https://hooks.example.com/time-entries" }),
    events: z.array(z.string()).openapi({
      description: 'The event types delivered, in alphabetical order, or `["*"]` for every type.',
      example: ["time_entry.created", "time_entry.updated"],
    }),
    description: z.string().nullable().openapi({ example: "Payroll sync" }),
    active: z.boolean().openapi({ description: "Whether events are delivered.", example: true }),
    status: z.enum(["healthy", "failing", "disabled"]).openapi({ description: statusDescription, example: "healthy" }),
    created_at: UtcTimestamp,
    updated_at: UtcTimestamp,
    version: Version,
  })
  .openapi("Webhook");

export type Webhook = z.infer<typeof Webhook>;

const Secret = z.string().openapi({
  description:
    "The signing secret, `whsec_` and base64: shown only in this answer, store it now. Verify `webhook-signature` with it (Standard Webhooks).",
  example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw0Am1fAgAFF0=",
});

export const WebhookWithSecret = Webhook.extend({ secret: Secret }).openapi("WebhookWithSecret");
export type WebhookWithSecret = z.infer<typeof WebhookWithSecret>;

export const WebhookEnvelope = z.object({ data: Webhook }).openapi("WebhookResponse");
export const WebhookWithSecretEnvelope = z.object({ data: WebhookWithSecret }).openapi("WebhookWithSecretResponse");
export const WebhookPage = z.object({ data: z.array(Webhook), meta: PageMeta }).openapi("WebhookList");

export const ListWebhooksQuery = z.object({ cursor: Cursor.optional(), limit: Limit }).strict();

const eventsMessage = `Give ["*"] alone, or 1 to ${EVENT_TYPES.length} distinct event types`;

const Events = z
  .array(z.enum([ALL_EVENTS, ...EVENT_TYPES], { message: `Must be * or one of: ${EVENT_TYPES.join(", ")}` }))
  .min(1, { message: eventsMessage })
  .max(EVENT_TYPES.length, { message: eventsMessage })
  .refine((events) => new Set(events).size === events.length, { message: "Must not repeat an event type" })
  .refine((events) => !events.includes(ALL_EVENTS) || events.length === 1, { message: eventsMessage })
  // A set: kept in alphabetical order, so the same types in another order are no change.
  .transform((events) => events.toSorted())
  .openapi({
    description: `The event types to deliver, or \`["*"]\` for all of them: ${EVENT_TYPES.map((type) => `\`${type}\``).join(", ")}. A set: kept and answered in alphabetical order, so the same types in another order are no change.`,
    example: ["time_entry.created", "time_entry.updated", "time_entry.deleted"],
  });

/** Stored, answered and called as the URL parser reads it (host in lower case, spaces and tabs gone). */
const normalisedUrl = (url: string) => {
  try {
    return new URL(url).href;
  } catch {
    return url; // refused by the URL rules, with their message
  }
};

// The limit holds for what is stored: normalising percent-encodes (one é becomes %C3%A9), so it is checked after.
const Url = z
  .string()
  .superRefine(storableText)
  .transform(normalisedUrl)
  .pipe(z.string().max(2000, { message: "Must be at most 2000 characters, as stored (normalised)" }))
  .openapi({
    maxLength: 2000,
    description: `${URL_RULES} Stored and answered normalised, as it is called.`,
    example: "https://hooks.example.com/time-entries",
  });

const fields = {
  description: Text(500).nullable().optional().openapi({ example: "Payroll sync" }),
  active: z.boolean().optional().openapi({
    description:
      "false stops deliveries (`status` becomes `disabled`); true re-enables a disabled subscription (`healthy`).",
    example: true,
  }),
};

export const CreateWebhookBody = z
  .object({ url: Url, events: Events, ...fields })
  .strict()
  .openapi("CreateWebhook", {
    example: { url: "https://hooks.example.com/time-entries", events: ["time_entry.created"], description: "Payroll" },
  });

export const UpdateWebhookBody = z
  .object({ url: Url.optional(), events: Events.optional(), ...fields })
  .strict()
  .refine(atLeastOneField, { message: "Provide at least one field to change" })
  .openapi("UpdateWebhook", { minProperties: 1, example: { active: true } });

export type CreateWebhookBody = z.infer<typeof CreateWebhookBody>;
export type UpdateWebhookBody = z.infer<typeof UpdateWebhookBody>;

export const Delivery = z
  .object({
    id: Id.openapi({ example: exampleDeliveryId }),
    event_id: Id.openapi({ description: "The `webhook-id` of every attempt.", example: exampleEventId }),
    event_type: z.string().openapi({ example: "time_entry.created" }),
    status: z.enum(["pending", "delivered", "failed"]).openapi({
      description:
        "`pending`: waiting for its first attempt or a retry; `delivered`: a 2xx answer; `failed`: every attempt failed (it went to the dead-letter queue), the receiver answered 410 Gone, the subscription's stored URL is one the rules refuse (`attempts` 0: nothing was sent), or the subscription was disabled first.",
      example: "delivered",
    }),
    attempts: z.number().int().openapi({ description: "Requests sent so far.", example: 1 }),
    response_status: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "The last attempt's HTTP status; null without an answer.", example: 200 }),
    duration_ms: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "How long the last attempt took, in milliseconds.", example: 84 }),
    error: z.string().nullable().openapi({ description: "Why the last attempt failed.", example: null }),
    next_retry_at: UtcTimestamp.nullable().openapi({ description: "When the next retry is due, if one is." }),
    last_attempt_at: UtcTimestamp.nullable(),
    delivered_at: UtcTimestamp.nullable(),
    created_at: UtcTimestamp,
  })
  .openapi("WebhookDelivery");

export type Delivery = z.infer<typeof Delivery>;

export const DeliveryEnvelope = z.object({ data: Delivery }).openapi("WebhookDeliveryResponse");
export const DeliveryPage = z.object({ data: z.array(Delivery), meta: PageMeta }).openapi("WebhookDeliveryList");

export const ListDeliveriesQuery = z
  .object({
    cursor: Cursor.optional(),
    limit: Limit,
    status: z
      .enum(["pending", "delivered", "failed"], { message: "Must be pending, delivered or failed" })
      .optional()
      .openapi({ description: "Only deliveries in this status.", example: "failed" }),
  })
  .strict();

export const DeliveryParams = z.object({
  id: Id.openapi({
    param: { name: "id", in: "path" },
    description: "The webhook subscription's id.",
    example: exampleWebhookId,
  }),
  deliveryId: Id.openapi({
    param: { name: "deliveryId", in: "path" },
    description: "The delivery's id.",
    example: exampleDeliveryId,
  }),
});
