// A cursor is a position in the list that issued it; lists sorted on keys of the same shape (a name and an id, an
// instant and an id) must not take each other's cursors and answer a page from a meaningless position.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
