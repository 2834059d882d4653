/** The events a subscription can ask for, besides `*` (all of them). */
export const EVENT_TYPES = [
  "time_entry.created",
  "time_entry.updated",
  "time_entry.deleted",
  "timer.started",
  "timer.stopped",
  "project.created",
  "project.updated",
  "project.deleted",
  "customer.created",
  "customer.updated",
  "customer.deleted",
  "invoice.created",
  "invoice.updated",
  "invoice.deleted",
  "invoice.status_changed",
  "member.added",
  "member.updated",
  "member.removed",
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Sent by `POST /v1/webhooks/{id}/ping` to that one subscription, whatever its `events`. */
export const PING_EVENT = "webhook.ping";

export const ALL_EVENTS = "*";
