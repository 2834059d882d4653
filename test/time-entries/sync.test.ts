// Incremental sync: GET /v1/time-entries?updated_since=… lists changes oldest
// first, and with include_deleted=true shows deleted entries as tombstones.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEntry, createMember, createTeam, type Member, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { subscribe } from "../support/webhooks";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

const sync = (member: Member, query: string) => h.call("GET", `/v1/time-entries?${query}`, { token: member.token });

/** An entry whose last change is at `changedAt`, deleted then when `deleted`. */
async function changedEntry(member: Member, description: string, changedAt: string, deleted = false) {
  const id = await createEntry(h, member, { description });
  await h.sql(
    "update time_entries set updated_at = $2, deleted_at = case when $3 then $2::timestamptz end where id = $1",
    [id, changedAt, String(deleted)],
  );
  return id;
}

const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((item) => item.id);

describe("GET /v1/time-entries?updated_since=…", () => {
  it("lists entries changed after the instant, oldest change first, tombstones only with include_deleted", async () => {
    const member = await createMember(h, team.organizationId, "member");
    const before = await changedEntry(member, "s1 before", "2020-01-01T08:59:59.999Z");
    const first = await changedEntry(member, "s1 first", "2020-01-01T09:00:00.001Z");
    const gone = await changedEntry(member, "s1 gone", "2020-01-01T09:30:00.000Z", true);
    const last = await changedEntry(member, "s1 last", "2020-01-01T10:00:00.000Z");

    const live = await sync(member, "updated_since=2020-01-01T10:00:00%2B01:00");
    expect(live.status).toBe(200);
    expect(ids(live)).toEqual([first, last]);
    expect(ids(live)).not.toContain(before);
    expect(live.body.data[0]).toMatchObject({
      id: first,
      description: "s1 first",
      updated_at: "2020-01-01T09:00:00.001Z",
    });

    const all = await sync(member, "updated_since=2020-01-01T09:00:00Z&include_deleted=true");
    expect(all.body.data[1]).toEqual({ id: gone, version: 2, deleted_at: "2020-01-01T09:30:00.000Z" });
    expect(ids(all)).toEqual([first, gone, last]);
  });

  it("pages by cursor in change order; an entry changed meanwhile comes again later", async () => {
    const member = await createMember(h, team.organizationId, "member");
    const made: string[] = [];
    for (let i = 1; i <= 5; i++) made.push(await changedEntry(member, `page ${i}`, `2021-01-01T0${i}:00:00Z`));

    const page1 = await sync(member, "updated_since=2021-01-01T00:00:00Z&limit=2");
    expect(ids(page1)).toEqual(made.slice(0, 2));
    const patched = await h.call("PATCH", `/v1/time-entries/${made[0]}`, {
      token: member.token,
      body: { description: "changed meanwhile" },
    });
    expect(patched.status).toBe(200);
    await h.sql("update time_entries set updated_at = '2021-01-01T09:00:00Z' where id = $1", [made[0]]);

    const page2 = await sync(
      member,
      `updated_since=2021-01-01T00:00:00Z&limit=2&cursor=${page1.body.meta.next_cursor}`,
    );
    expect(ids(page2)).toEqual(made.slice(2, 4));
    const page3 = await sync(
      member,
      `updated_since=2021-01-01T00:00:00Z&limit=2&cursor=${page2.body.meta.next_cursor}`,
    );
    expect(ids(page3)).toEqual([made[4], made[0]]);
    expect(page3.body.meta.next_cursor).toBeNull();
  });

  it("brings an entry an operator corrected in SQL: every UPDATE moves updated_at with the version", async () => {
    const member = await createMember(h, team.organizationId, "member");
    const id = await changedEntry(member, "typo", "2020-01-01T00:00:00Z");
    expect(ids(await sync(member, "updated_since=2025-01-01T00:00:00Z"))).toEqual([]);
    await h.sql("update time_entries set description = 'corrected' where id = $1", [id]);
    const res = await sync(member, "updated_since=2025-01-01T00:00:00Z");
    expect(res.body.data).toEqual([expect.objectContaining({ id, description: "corrected", version: 3 })]);
  });

  it("shows the caller's own deletions through the API as tombstones, and hides them everywhere else", async () => {
    const member = team.member;
    await subscribe(h, team.organizationId);
    const [row] = await h.sql("select now() - interval '1 second' as now");
    const since = new Date(String(row?.now)).toISOString();
    const created = await h.call("POST", "/v1/time-entries", {
      token: member.token,
      body: { start_time: "2026-11-28T09:00:00Z", end_time: "2026-11-28T10:00:00Z", description: "to delete" },
    });
    const id = created.body.data.id;
    expect((await h.call("DELETE", `/v1/time-entries/${id}`, { token: member.token })).status).toBe(204);

    const res = await sync(member, `updated_since=${encodeURIComponent(since)}&include_deleted=true&limit=100`);
    const tombstone = res.body.data.find((item: { id: string }) => item.id === id);
    expect(tombstone).toEqual({
      id,
      version: 2,
      deleted_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    // The version the deletion's event carries: one more than the entry's last.
    const [event] = await h.sql(
      "select data->>'version' as version from webhook_events where type = 'time_entry.deleted' and data->>'id' = $1",
      [id],
    );
    expect(event?.version).toBe("2");
    const withoutDeleted = await sync(member, `updated_since=${encodeURIComponent(since)}&limit=100`);
    expect(ids(withoutDeleted)).not.toContain(id);
  });

  it("keeps a member to their own changes; owner and admin see the organization's", async () => {
    const team = await createTeam(h);
    const colleague = await changedEntry(team.admin, "s4 colleague", "2022-01-01T09:00:00Z", true);
    const memberView = await sync(team.member, "updated_since=2022-01-01T00:00:00Z&include_deleted=true");
    expect(ids(memberView)).toEqual([]);
    const ownerView = await sync(team.owner, "updated_since=2022-01-01T00:00:00Z&include_deleted=true");
    expect(ids(ownerView)).toEqual([colleague]);
    const forbidden = await sync(team.member, `updated_since=2022-01-01T00:00:00Z&user_id=${team.admin.id}`);
    expect(forbidden.status).toBe(403);
  });

  it("refuses include_deleted without updated_since, a timestamp without offset, and a cursor of the other order", async () => {
    const alone = await sync(team.owner, "include_deleted=true");
    expect(alone.status).toBe(400);
    expect(alone.body.error.details).toEqual({ include_deleted: ["Only with updated_since"] });
    const naive = await sync(team.owner, "updated_since=2020-01-01T09:00:00");
    expect(naive.status).toBe(400);
    expect(Object.keys(naive.body.error.details)).toEqual(["updated_since"]);

    await createEntry(h, team.owner, { start: "2026-11-01T09:00:00Z", end: "2026-11-01T10:00:00Z" });
    await createEntry(h, team.owner, { start: "2026-11-02T09:00:00Z", end: "2026-11-02T10:00:00Z" });
    const listCursor = (await sync(team.owner, "limit=1")).body.meta.next_cursor;
    const mixed = await sync(team.owner, `updated_since=2020-01-01T00:00:00Z&limit=1&cursor=${listCursor}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.code).toBe("INVALID_CURSOR");
    const syncCursor = (await sync(team.owner, "updated_since=2020-01-01T00:00:00Z&limit=1")).body.meta.next_cursor;
    const back = await sync(team.owner, `limit=1&cursor=${syncCursor}`);
    expect(back.status).toBe(400);
    expect(back.body.error.code).toBe("INVALID_CURSOR");
  });

  it("costs one round trip", async () => {
    const trips = await h.roundTrips(() => sync(team.owner, "updated_since=2020-01-01T00:00:00Z&include_deleted=true"));
    expect(trips).toBe(1);
  });
});
