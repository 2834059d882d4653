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

/**
 * The read scope an OAuth token needs to receive each event's data: a subscription sends the resources of its events
 * to a URL of the caller's choosing, so a token may subscribe only to what it could read itself.
 */
const readScopeOf: Record<string, string> = {
  time_entry: "entries:read",
  timer: "entries:read",
  project: "entries:read",
  customer: "invoices:read",
  invoice: "invoices:read",
  member: "team:read",
};

/** The read scopes `events` (`*` is every one) need that `scopes` lacks, sorted; none for a session token (null). */
export function missingEventScopes(events: readonly string[], scopes: readonly string[] | null): string[] {
  if (!scopes) return [];
  const types = events.includes(ALL_EVENTS) ? EVENT_TYPES : events;
  // A type this list does not know (written in SQL) needs every read scope.
  const every = [...new Set(Object.values(readScopeOf))];
  const needed = new Set(types.flatMap((type) => readScopeOf[type.split(".")[0] as string] ?? every));
  return [...needed].filter((scope) => !scopes.includes(scope)).toSorted();
}

/** The event types a token of `scopes` may subscribe to; null for a session token or one with every read scope. */
export function eventsAllowedTo(scopes: readonly string[] | null): EventType[] | null {
  if (!scopes || missingEventScopes([ALL_EVENTS], scopes).length === 0) return null;
  return EVENT_TYPES.filter((type) => missingEventScopes([type], scopes).length === 0);
}
