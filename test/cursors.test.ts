// A cursor is a position in the list that issued it; lists sorted on keys of the same shape (a name and an id, an
// instant and an id) must not take each other's cursors and answer a page from a meaningless position.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "../src/lib/cursor";
import { createCustomer, createEntry, createInvoice, createProject, createTeam, type Team } from "./support/factories";
import { type Harness, startHarness } from "./support/harness";
import { subscribe } from "./support/webhooks";

let h: Harness;
let team: Team;
let webhookId: string;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
  const org = team.owner.organizationId;
  for (const name of ["A", "B"]) {
    await createProject(h, org, { name });
    await createCustomer(h, org, name);
    await createInvoice(h, org);
  }
  await createEntry(h, team.owner, { start: "2026-11-01T09:00:00Z", end: "2026-11-01T10:00:00Z" });
  await createEntry(h, team.owner, { start: "2026-11-02T09:00:00Z", end: "2026-11-02T10:00:00Z" });
  webhookId = (await subscribe(h, org)).id;
  await subscribe(h, org);
});
afterAll(() => h?.close());

const lists = {
  "time-entries": "/v1/time-entries",
  changes: "/v1/time-entries?updated_since=2020-01-01T00:00:00Z",
  projects: "/v1/projects",
  customers: "/v1/customers",
  members: "/v1/members",
  invoices: "/v1/invoices",
  webhooks: "/v1/webhooks",
  deliveries: "/v1/webhooks/{id}/deliveries",
};
const pathOf = (list: keyof typeof lists) => lists[list].replace("{id}", webhookId);
/** A cursor as the version before canonical instants issued it: each filter's value digested in lower case. */
function legacyCursor(list: string, key: unknown[], pathname: string, query: string) {
  const params = [...new URLSearchParams(query)].map(([name, value]) => [name, value.toLowerCase()]).sort();
  let hash = 0x811c9dc5;
  for (const char of JSON.stringify([pathname, params]))
    hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 0x01000193);
  const f = (hash >>> 0).toString(16).padStart(8, "0");
  return btoa(JSON.stringify([list, ...key, { f }]))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

const withCursor = (path: string, cursor: string) =>
  `${path}${path.includes("?") ? "&" : "?"}limit=1&cursor=${encodeURIComponent(cursor)}`;

describe("cursors", () => {
  it("answer the next page of the list that issued them and INVALID_CURSOR on every other list", async () => {
    const issued = new Map<string, string>();
    for (const list of Object.keys(lists) as (keyof typeof lists)[]) {
      if (list === "deliveries") continue;
      const path = pathOf(list);
      const first = await h.call("GET", `${path}${path.includes("?") ? "&" : "?"}limit=1`, { token: team.owner.token });
      expect([list, first.status, typeof first.body.meta.next_cursor]).toEqual([list, 200, "string"]);
      issued.set(list, first.body.meta.next_cursor);
    }
    for (const [issuer, cursor] of issued) {
      for (const list of Object.keys(lists) as (keyof typeof lists)[]) {
        const res = await h.call("GET", withCursor(pathOf(list), cursor), { token: team.owner.token });
        const expected = list === issuer ? [200, undefined] : [400, "INVALID_CURSOR"];
        expect([issuer, list, res.status, res.body.error?.code]).toEqual([issuer, list, ...expected]);
      }
    }
  });

  it("are refused with other filters, taken with another limit, and those issued before they carried filters are taken", async () => {
    const otherFilters = {
      error: {
        code: "INVALID_CURSOR",
        message:
          "The cursor was issued for other filters; send the same filters as the page it came from, or start again without a cursor",
      },
    };
    const page = (path: string) => h.call("GET", path, { token: team.owner.token });
    const range = "start_date=2026-11-01&end_date=2026-11-30";
    const entries = (await page(`/v1/time-entries?limit=1&${range}`)).body.meta.next_cursor;
    expect((await page(`/v1/time-entries?limit=5&${range}&cursor=${entries}`)).status).toBe(200);
    // The same filters in another order, with an empty one or in another case, are the same filters.
    expect((await page(`/v1/time-entries?end_date=2026-11-30&cursor=${entries}&start_date=2026-11-01`)).status).toBe(
      200,
    );
    expect((await page(`/v1/time-entries?${range}&q=&cursor=${entries}`)).status).toBe(200);
    const upper = `/v1/time-entries?limit=1&${range}&timezone=Europe/Berlin`;
    const berlin = (await page(upper)).body.meta.next_cursor;
    expect((await page(`${upper.toLowerCase()}&cursor=${berlin}`)).status).toBe(200);
    // The same instant in another offset or with other zeros is the same filter; another microsecond is not.
    const since = (await page("/v1/time-entries?limit=1&updated_since=2020-01-01T00:00:00Z")).body.meta.next_cursor;
    for (const [spelling, status] of [
      ["2020-01-01T00:00:00.000Z", 200],
      ["2020-01-01t01:00:00.000000%2B01:00", 200],
      ["2019-12-31T23:30:00-00:30", 200],
      ["2020-01-01T00:00:00.000001Z", 400],
    ] as const) {
      const res = await page(`/v1/time-entries?limit=1&updated_since=${spelling}&cursor=${since}`);
      expect([spelling, res.status]).toEqual([spelling, status]);
    }
    // As the previous version issued it, its filters digested as written (in lower case): still taken over a deploy.
    const query = "updated_since=2020-01-01T00:00:00.120Z";
    const [, ...sortKey] = JSON.parse(atob(since.replaceAll("-", "+").replaceAll("_", "/"))).slice(0, -1);
    const previous = legacyCursor("changes", sortKey, "/v1/time-entries", query);
    expect((await page(`/v1/time-entries?limit=1&${query}&cursor=${previous}`)).status).toBe(200);
    const moved = await page(`/v1/time-entries?limit=1&start_date=2026-12-01&end_date=2026-12-31&cursor=${entries}`);
    expect([moved.status, moved.body]).toEqual([400, otherFilters]);
    const dropped = await page(`/v1/time-entries?limit=1&cursor=${entries}`);
    expect([dropped.status, dropped.body]).toEqual([400, otherFilters]);

    const projects = (await page("/v1/projects?limit=1")).body.meta.next_cursor;
    expect((await page(`/v1/projects?limit=1&q=B&cursor=${projects}`)).body).toEqual(otherFilters);
    const deliveries = await subscribe(h, team.organizationId);
    await h.sql(
      `with e as (insert into webhook_events (organization_id, type, data) select $1, 'time_entry.created', '{}'
         from generate_series(1, 2) returning id)
       insert into webhook_deliveries (organization_id, event_id, subscription_id) select $1, id, $2 from e`,
      [team.organizationId, deliveries.id],
    );
    const log = (await page(`/v1/webhooks/${deliveries.id}/deliveries?limit=1`)).body.meta.next_cursor;
    expect((await page(`/v1/webhooks/${deliveries.id}/deliveries?limit=1&cursor=${log}`)).status).toBe(200);
    expect((await page(`/v1/webhooks/${webhookId}/deliveries?limit=1&cursor=${log}`)).body).toEqual(otherFilters);

    // Issued before cursors carried their filters: the sort key alone, taken as it was.
    const [first] = (await page("/v1/projects?limit=1")).body.data;
    const legacy = encodeCursor("projects", [first.name, first.id]);
    expect((await page(`/v1/projects?limit=1&q=B&cursor=${legacy}`)).status).toBe(200);
  });

  it("of names as long as the API takes, in characters JSON escapes, still take the next page", async () => {
    const other = await createTeam(h);
    const org = other.organizationId;
    // 200 UTF-16 units that JSON writes as \u0001 each: the longest cursor a name written through the API makes.
    const name = (last: string) => `${"\u0001".repeat(199)}${last}`;
    for (const last of ["a", "b"]) {
      await createProject(h, org, { name: name(last) });
      await createCustomer(h, org, name(last));
    }
    await h.sql("update organization_members set full_name = $2 where user_id = $1", [other.owner.id, name("a")]);
    await h.sql("update organization_members set full_name = $2 where user_id = $1", [other.admin.id, name("b")]);
    for (const [path, field, expected] of [
      ["/v1/projects", "name", name("b")],
      ["/v1/customers", "name", name("b")],
      ["/v1/members", "full_name", name("b")],
    ] as const) {
      const first = await h.call("GET", `${path}${path.includes("?") ? "&" : "?"}limit=1`, {
        token: other.owner.token,
      });
      const cursor: string = first.body.meta.next_cursor;
      expect(cursor.length, path).toBeGreaterThan(1600);
      const next = await h.call("GET", withCursor(path, cursor), { token: other.owner.token });
      expect([path, next.status], JSON.stringify(next.body.error)).toEqual([path, 200]);
      const item = next.body.data[0];
      expect(field === "name" ? item.name : item.user.full_name).toBe(expected);
    }
  });
});
