import { z } from "@hono/zod-openapi";
import { Version } from "../../lib/conditional";
import { Id, UtcTimestamp } from "../../lib/schemas";
import type { AppOpenAPI } from "../../lib/types";
import { EVENT_TYPES, type EventType, PING_EVENT } from "../../webhooks/event-types";
import { Customer } from "../customers/customers.schemas";
import { Invoice, InvoiceWithSummary } from "../invoices/invoices.schemas";
import { Member } from "../members/members.schemas";
import { Project } from "../projects/projects.schemas";
import { TimeEntry } from "../time-entries/time-entries.schemas";
import { Webhook } from "./webhooks.schemas";

// What the API POSTs to subscribers, under the document's `webhooks`: one entry per event type, whose body's
// `data` is what that event's SQL builds (the resource as its GET answers it, or a tombstone for a deletion).

const Tombstone = z
  .object({
    id: Id.openapi({ example: "4a3d7f3e-2a51-4f5e-9a8b-5b7e2c1d0f42" }),
    version: Version,
    deleted_at: UtcTimestamp,
  })
  .openapi("Tombstone", { description: "A deleted resource; `version` is one more than its last." });

const resources = {
  time_entry: TimeEntry,
  timer: TimeEntry,
  project: Project,
  customer: Customer,
  invoice: InvoiceWithSummary,
  member: Member,
  webhook: Webhook,
};

/** What the example of an event's `data` changes in its resource's, where that would contradict the event. */
export const eventDataExamples: Partial<Record<EventType, object>> = {
  "timer.started": { end_time: null, duration: null },
  "member.removed": { status: "removed", removed_at: "2026-12-01T17:00:00.000Z" },
  "invoice.status_changed": { status: "sent" },
};

/** The old value of each top-level field the change altered (`updated_at`, `version`, `summary` left out). */
const changed = (schema: z.ZodObject, example: object) =>
  schema.partial().openapi({ description: "The old values of the top-level fields that changed.", example });

const previous: Record<string, z.ZodType> = {
  "time_entry.updated": changed(TimeEntry, { description: "Planning" }),
  "project.updated": changed(Project, { name: "Website" }),
  "customer.updated": changed(Customer, { name: "Acme" }),
  "invoice.updated": changed(Invoice, { due_date: "2026-12-07" }),
  "invoice.status_changed": Invoice.pick({ status: true }),
  "member.updated": changed(Member, { role: "admin" }),
};

const notes: Record<string, string> = {
  "time_entry.updated": "Also on attaching to or releasing from an invoice.",
  "timer.started": "Beside the entry's own event.",
  "timer.stopped": "Beside the entry's own event.",
  "invoice.updated": "Also when entries are attached or detached.",
  "invoice.status_changed": "Beside `invoice.updated`.",
  "member.added": "Added or reinstated.",
  "member.removed": "Offboarded.",
  [PING_EVENT]: "Sent by `POST /v1/webhooks/{id}/ping`, whatever `events`.",
};

const EventId = Id.openapi({ example: "1ec50d7a-63d8-4151-b3ab-588a692887b5" });

const header = (name: string, schema: z.ZodType, description: string) =>
  schema.openapi({ param: { name, in: "header", required: true, description } });

const SignatureHeaders = z.object({
  "webhook-id": header("webhook-id", EventId, "The event's `id`, the same on every retry."),
  "webhook-timestamp": header(
    "webhook-timestamp",
    z.number().int().openapi({ example: 1795861862 }),
    "Unix seconds of this attempt.",
  ),
  "webhook-signature": header(
    "webhook-signature",
    z.string().openapi({ example: "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=" }),
    "`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` with the secret; one per secret (space separated) after a rotation.",
  ),
});

const description =
  "`data` is the resource as its `GET` answers it; a deletion's is a tombstone. Verify `webhook-signature` over the raw body with a Standard Webhooks library. Answer 2xx within 10 s: anything else but a 410 is retried with backoff, 8 attempts over about 23 hours; a `410 Gone` fails the delivery and disables the subscription. At least once, in any order: de-duplicate on `webhook-id`, keep the highest `data.version`.";

/** Registers every event the API sends, and `webhook.ping`, as webhooks of the document. */
export function registerWebhookEvents(app: AppOpenAPI) {
  const bodies: z.ZodObject[] = [];
  for (const type of [...EVENT_TYPES, PING_EVENT]) {
    const [resource = "", action = ""] = type.split(".");
    const previousAttributes = previous[type];
    const id = type.replace(/[._](\w)/g, (_, letter: string) => letter.toUpperCase());
    const body = z
      .object({
        id: EventId,
        type: z.literal(type),
        created_at: UtcTimestamp,
        organization_id: Id.openapi({ example: "0b9c1a52-7c1e-4a8e-9d0b-3f2f6f1c1a01" }),
        data: action === "deleted" ? Tombstone : resources[resource as keyof typeof resources],
        ...(previousAttributes && { previous_attributes: previousAttributes }),
      })
      .openapi(`${id[0]?.toUpperCase()}${id.slice(1)}Event`);
    bodies.push(body);
    app.openAPIRegistry.registerWebhook({
      method: "post",
      path: type,
      operationId: `${id}Webhook`,
      tags: ["Webhooks"],
      summary: `${resource[0]?.toUpperCase()}${resource.slice(1)} ${action}`.replace("_", " "),
      description: notes[type] ? `${notes[type]}\n\n${description}` : description,
      security: [],
      request: {
        headers: SignatureHeaders,
        body: { required: true, content: { "application/json": { schema: body } } },
      },
      responses: {
        "2XX": { description: "Received." },
        "410": {
          description: "Gone: the delivery fails, and the subscription is disabled until it is set active again.",
        },
        default: { description: "Not received: retried." },
      },
    });
  }
  // One type for a receiver's handler: generators make nothing of `webhooks`, but a component they type.
  const [first, ...rest] = bodies as [z.ZodObject, ...z.ZodObject[]];
  app.openAPIRegistry.register(
    "WebhookEvent",
    z.discriminatedUnion("type", [first, ...rest]).openapi({
      description: "Any body the API POSTs to a subscriber (see `webhooks`), told apart by `type`.",
    }),
  );
}
