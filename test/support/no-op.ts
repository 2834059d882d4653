// A PATCH whose every field already has that value changes nothing (README, "PATCH that changes nothing"): the
// same assertions for every resource.
import { expect } from "vitest";
import type { Harness } from "./harness";
import { eventsOf, subscribe } from "./webhooks";

type NoOpPatch = {
  /** The resource's URL, for the GET before and the PATCH. */
  path: string;
  token: string;
  organizationId: string;
  /** Fields that all have the value the resource holds (possibly written differently: 120.5 for 120.50). */
  same: Record<string, unknown>;
  /** The control: fields of which one at least differs. */
  change: Record<string, unknown>;
  /** The event the change writes; none for a resource without events (the organization). */
  changedEvent?: string;
};

/**
 * PATCH `same`, with the ETag of a GET before as If-Match: 200 with exactly what that GET answered, the same ETag,
 * `updated_at` and version, and no webhook event although the organization subscribes to all of them. A stale
 * If-Match is still 412. Then PATCH `change`: a new version, `updated_at` and ETag, and its event.
 */
export async function expectNoOpPatch(
  h: Harness,
  { path, token, organizationId, same, change, changedEvent }: NoOpPatch,
) {
  await subscribe(h, organizationId, { events: ["*"] });
  const before = await h.call("GET", path, { token });
  expect(before.status).toBe(200);
  const etag = before.headers.get("ETag") as string;
  expect(etag).toBe(`"${before.body.data.version}"`);
  const events = await eventsOf(h, organizationId);

  const unchanged = await h.call("PATCH", path, { token, body: same, headers: { "If-Match": etag } });
  expect(unchanged.status).toBe(200);
  expect(unchanged.body).toEqual(before.body);
  expect(unchanged.headers.get("ETag")).toBe(etag);
  expect(unchanged.body.data.updated_at).toBe(before.body.data.updated_at);
  expect(await eventsOf(h, organizationId)).toEqual(events);
  expect((await h.call("GET", path, { token })).body).toEqual(before.body);

  const stale = await h.call("PATCH", path, { token, body: same, headers: { "If-Match": '"999"' } });
  expect([stale.status, stale.body.error?.code]).toEqual([412, "PRECONDITION_FAILED"]);

  const changed = await h.call("PATCH", path, { token, body: change, headers: { "If-Match": etag } });
  expect(changed.status).toBe(200);
  expect(changed.body.data.version).toBe(before.body.data.version + 1);
  expect(changed.headers.get("ETag")).toBe(`"${before.body.data.version + 1}"`);
  if (before.body.data.updated_at !== undefined) {
    expect(changed.body.data.updated_at > before.body.data.updated_at).toBe(true);
  }
  const written = (await eventsOf(h, organizationId)).slice(events.length).map((event) => event.type);
  expect(written).toEqual(changedEvent ? [changedEvent] : []);
  return before;
}
