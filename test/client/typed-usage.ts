// A small program against the generated client types (src/client/api-types.ts)
// with openapi-fetch. `tsc` checks it in `npm test`, and test/client/ compiles
// it again against types generated afresh from the live document. The lines
// marked as expected errors prove the types are strict: were they loose, tsc
// would report those directives as unused.
import createClient from "openapi-fetch";
import type { components, paths } from "../../src/client/api-types";

type TimeEntry = components["schemas"]["TimeEntry"];
type Tombstone = components["schemas"]["TimeEntryTombstone"];
type Departure = components["schemas"]["TimeEntryDeparture"];
type ListItem = TimeEntry | Tombstone | Departure;
const isEntry = (item: ListItem): item is TimeEntry => "start_time" in item;
const isTombstone = (item: ListItem): item is Tombstone => "deleted_at" in item;
const isDeparture = (item: ListItem): item is Departure => "left_at" in item;

export async function typedUsage(baseUrl: string, token: string) {
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

  const { data: page, error } = await api.GET("/v1/time-entries", {
    params: { query: { limit: 10, user_id: "me", start_date: "2026-11-01" } },
  });
  if (error) return { code: error.error.code };
  // Tombstones and departures only come in a sync listing, but the type says they may.
  const first: TimeEntry | undefined = page.data.find(isEntry);
  const { data: changes } = await api.GET("/v1/time-entries", {
    params: { query: { updated_since: "2026-11-28T12:00:00Z", include_deleted: "true", include_departures: "true" } },
  });
  const deleted: string[] = (changes?.data ?? []).filter(isTombstone).map((tombstone) => tombstone.deleted_at);
  const left: string[] = (changes?.data ?? []).filter(isDeparture).map((departure) => departure.left_at);
  const next: string | null = page.meta.next_cursor;

  const created = await api.POST("/v1/time-entries", {
    body: { start_time: "2026-11-28T09:00:00+01:00", end_time: "2026-11-28T10:30:00+01:00", description: "Typed" },
  });
  const id: string | undefined = created.data?.data.id;
  if (id) {
    await api.PATCH("/v1/time-entries/{id}", { params: { path: { id } }, body: { billable: true } });
    await api.DELETE("/v1/time-entries/{id}", { params: { path: { id } } });
  }

  // @ts-expect-error `limits` is not a query parameter of the list
  await api.GET("/v1/time-entries", { params: { query: { limits: 10 } } });
  // @ts-expect-error the API has no such path
  await api.GET("/v1/time-entry");
  // @ts-expect-error `description` is required to create an entry
  await api.POST("/v1/time-entries", { body: { start_time: "2026-11-28T09:00:00Z" } });
  // @ts-expect-error `duration` is a number of seconds
  const wrong: string | null = first?.duration ?? null;

  return { first, next, id, wrong, deleted, left };
}

/** A webhook receiver's handler, typed by the document's WebhookEvent and narrowed by `type`. */
export function onWebhook(event: components["schemas"]["WebhookEvent"]) {
  if (event.type === "time_entry.updated") return event.previous_attributes.description ?? event.data.description;
  if (event.type === "time_entry.deleted") return event.data.deleted_at;
  // @ts-expect-error a deletion's data is a tombstone, with no description
  if (event.type === "project.deleted") return event.data.name;
  return event.type;
}
