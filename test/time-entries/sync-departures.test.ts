// Sync with include_departures=true: a narrowed feed (a member's own, or filtered) is told of the entries that left
// it, as departures {id, version, left_at}, which the entries' new rows cannot tell.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { purgeExpired } from "../../src/housekeeping";
import {
  createCustomer,
  createEntry,
  createInvoice,
  createProject,
  createTeam,
  type Member,
  type Team,
} from "../support/factories";
import { type Harness, startHarness } from "../support/harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

type Item = { id: string; version: number; left_at?: string; deleted_at?: string; description?: string };

/** A sync mark just before now, as the database tells time. */
async function mark() {
  const [row] = await h.sql("select now() - interval '1 millisecond' as now");
  return encodeURIComponent(new Date(String(row?.now)).toISOString());
}

async function feed(member: Member, query: string): Promise<Item[]> {
  const res = await h.call("GET", `/v1/time-entries?${query}&limit=100`, { token: member.token });
  expect(res.status).toBe(200);
  return res.body.data;
}

async function patch(caller: Member, id: string, body: Record<string, unknown>) {
  const res = await h.call("PATCH", `/v1/time-entries/${id}`, { token: caller.token, body });
  expect(res.status).toBe(200);
  return res.body.data as { version: number; updated_at: string };
}

const utcMillis = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("GET /v1/time-entries?updated_since=…&include_departures=true", () => {
  let team: Team;
  beforeAll(async () => {
    team = await createTeam(h);
  });

  it("tells a member's feed of their entry an admin gave to a colleague, and only with include_departures", async () => {
    const id = await createEntry(h, team.member, { description: "handed over" });
    const since = await mark();
    const moved = await patch(team.admin, id, { user_id: team.otherMember.id });

    expect(await feed(team.member, `updated_since=${since}&include_departures=true`)).toEqual([
      { id, version: moved.version, left_at: moved.updated_at },
    ]);
    expect(moved.updated_at).toMatch(utcMillis);
    expect(await feed(team.member, `updated_since=${since}`)).toEqual([]);
    expect(await feed(team.member, `updated_since=${since}&include_deleted=true`)).toEqual([]);
    // The colleague gets the entry itself; so does the owner's whole feed, which it never left.
    const colleague = await feed(team.otherMember, `updated_since=${since}&include_departures=true`);
    expect(colleague).toEqual([expect.objectContaining({ id, version: moved.version, description: "handed over" })]);
    const owner = await feed(team.owner, `updated_since=${since}&include_departures=true`);
    expect(owner).toEqual([expect.objectContaining({ id, version: moved.version })]);
    // A feed of the old member by id, the owner's, is told too.
    expect(await feed(team.owner, `updated_since=${since}&include_departures=true&user_id=${team.member.id}`)).toEqual([
      { id, version: moved.version, left_at: moved.updated_at },
    ]);
  });

  it("tells a filtered feed of an entry edited out of it, and not of one edited within it", async () => {
    const [design, build] = [
      await createProject(h, team.organizationId, { name: "Design" }),
      await createProject(h, team.organizationId, { name: "Build" }),
    ];
    const out = await createEntry(h, team.owner, { projectId: design, description: "sketches" });
    const within = await createEntry(h, team.owner, { projectId: design, description: "wireframes" });
    const renamed = await createEntry(h, team.owner, { projectId: build, description: "sketch review" });
    const early = await createEntry(h, team.owner, { projectId: build, start: "2026-11-20T09:00:00Z" });
    const since = await mark();
    const movedOut = await patch(team.owner, out, { project_id: build });
    await patch(team.owner, within, { description: "wireframes v2" });
    const edited = await patch(team.owner, renamed, { description: "review" });
    const later = await patch(team.owner, early, {
      start_time: "2026-12-20T09:00:00Z",
      end_time: "2026-12-20T10:00:00Z",
    });

    const byProject = await feed(team.owner, `updated_since=${since}&include_departures=true&project_id=${design}`);
    expect(byProject).toEqual([
      { id: out, version: movedOut.version, left_at: movedOut.updated_at },
      expect.objectContaining({ id: within, description: "wireframes v2" }),
    ]);
    const byWord = await feed(team.owner, `updated_since=${since}&include_departures=true&q=sketch`);
    expect(byWord).toEqual([
      expect.objectContaining({ id: out, description: "sketches" }),
      { id: renamed, version: edited.version, left_at: edited.updated_at },
    ]);
    const november = `start_date=2026-11-01&end_date=2026-11-30&timezone=UTC`;
    const byDates = await feed(team.owner, `updated_since=${since}&include_departures=true&${november}`);
    expect(byDates.find((item) => item.id === early)).toEqual({
      id: early,
      version: later.version,
      left_at: later.updated_at,
    });
    // Its new project's feed gets the entry, never a departure.
    const building = await feed(team.owner, `updated_since=${since}&include_departures=true&project_id=${build}`);
    expect(building.map((item) => item.id)).toEqual([out, renamed, early]);
    expect(building.every((item) => item.left_at === undefined)).toBe(true);
  });

  it("says nothing of an entry that came back, and lets a tombstone speak for one deleted since", async () => {
    const [a, b] = [await createProject(h, team.organizationId), await createProject(h, team.organizationId)];
    const back = await createEntry(h, team.owner, { projectId: a });
    const gone = await createEntry(h, team.member, { projectId: a });
    const since = await mark();
    await patch(team.owner, back, { project_id: b });
    const returned = await patch(team.owner, back, { project_id: a });
    const moved = await patch(team.owner, gone, { project_id: b, user_id: team.otherMember.id });
    expect((await h.call("DELETE", `/v1/time-entries/${gone}`, { token: team.owner.token })).status).toBe(204);

    const both = `updated_since=${since}&include_departures=true&include_deleted=true`;
    expect(await feed(team.owner, `${both}&project_id=${a}`)).toEqual([
      expect.objectContaining({ id: back, version: returned.version }),
      { id: gone, version: moved.version + 1, deleted_at: expect.stringMatching(utcMillis) },
    ]);
    expect(await feed(team.owner, `updated_since=${since}&include_departures=true&project_id=${a}`)).toEqual([
      expect.objectContaining({ id: back, version: returned.version }),
      { id: gone, version: moved.version, left_at: moved.updated_at },
    ]);
    // The member no longer sees the tombstone of an entry that was given away: the departure tells them.
    expect(await feed(team.member, both)).toEqual([{ id: gone, version: moved.version, left_at: moved.updated_at }]);
  });

  it("shows a departure to nobody who could not see the entry before: colleagues, other organizations", async () => {
    const id = await createEntry(h, team.member, { description: "private" });
    const since = await mark();
    await patch(team.admin, id, { user_id: team.admin.id });
    expect(await feed(team.otherMember, `updated_since=${since}&include_departures=true`)).toEqual([]);
    const stranger = await createTeam(h);
    expect(await feed(stranger.owner, `updated_since=${since}&include_departures=true`)).toEqual([]);
    expect(
      await feed(stranger.owner, `updated_since=${since}&include_departures=true&user_id=${team.member.id}`),
    ).toEqual([]);
  });

  it("pages departures and entries together in change order", async () => {
    const solo = await createTeam(h);
    const entries = [
      await createEntry(h, solo.member, { description: "one" }),
      await createEntry(h, solo.member, { description: "two" }),
      await createEntry(h, solo.member, { description: "three" }),
    ];
    const since = await mark();
    await patch(solo.admin, entries[0] as string, { user_id: solo.otherMember.id });
    await patch(solo.member, entries[1] as string, { description: "two, edited" });
    await patch(solo.admin, entries[2] as string, { user_id: solo.otherMember.id });
    const seen: Item[] = [];
    let cursor = "";
    for (let page = 0; page < 5; page++) {
      const res = await h.call(
        "GET",
        `/v1/time-entries?updated_since=${since}&include_departures=true&limit=1${cursor}`,
        { token: solo.member.token },
      );
      seen.push(...res.body.data);
      if (!res.body.meta.next_cursor) break;
      cursor = `&cursor=${res.body.meta.next_cursor}`;
    }
    expect(seen.map((item) => [item.id, item.left_at !== undefined])).toEqual([
      [entries[0], true],
      [entries[1], false],
      [entries[2], true],
    ]);
  });

  it("records nothing when a timer stops or a field is given its own value, and departures of bulk moves", async () => {
    const solo = await createTeam(h);
    const running = await createEntry(h, solo.member, { end: null });
    const [one, two] = [await createEntry(h, solo.member), await createEntry(h, solo.member)];
    await patch(solo.member, running, { end_time: "2026-11-20T11:00:00Z" });
    // In SQL, as the API skips a write that changes nothing: the trigger's own condition is what is tested.
    await h.sql(
      "update time_entries set description = description, billable = billable, user_id = user_id where id = $1",
      [one],
    );
    const project = await createProject(h, solo.organizationId);
    const bulk = await h.call("PATCH", "/v1/time-entries", {
      token: solo.owner.token,
      body: { ids: [one, two], changes: { project_id: project } },
    });
    expect(bulk.status).toBe(200);
    const rows = await h.sql(
      "select id, version::text from time_entry_departures where organization_id = $1 order by id, version",
      [solo.organizationId],
    );
    const [first, second] = [one, two].sort();
    const versions = { [one]: "3", [two]: "2" };
    expect(rows).toEqual([
      { id: first, version: versions[first as string] },
      { id: second, version: versions[second as string] },
    ]);
  });

  it("tells a feed without tombstones of every deletion of an entry it listed, edited before or not", async () => {
    const solo = await createTeam(h);
    const [edited, untouched] = [await createEntry(h, solo.member), await createEntry(h, solo.member)];
    const since = await mark();
    await patch(solo.member, edited, { description: "edited, then deleted" });
    for (const id of [edited, untouched])
      expect((await h.call("DELETE", `/v1/time-entries/${id}`, { token: solo.member.token })).status).toBe(204);
    const deletions = (await h.sql(
      "select id, version, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') as at from time_entries where id = any($1::uuid[])",
      [`{${edited},${untouched}}`],
    )) as unknown as { id: string; version: number; at: string }[];
    const departureOf = (id: string) => {
      const row = deletions.find((deletion) => deletion.id === id);
      return { id, version: Number(row?.version), left_at: row?.at };
    };
    for (const caller of [solo.member, solo.owner]) {
      const items = await feed(caller, `updated_since=${since}&include_departures=true`);
      expect(
        items.toSorted((a, b) => a.id.localeCompare(b.id)),
        caller.role,
      ).toEqual([departureOf(edited), departureOf(untouched)].toSorted((a, b) => a.id.localeCompare(b.id)));
      // With tombstones the deletions are told by them alone.
      const both = await feed(caller, `updated_since=${since}&include_departures=true&include_deleted=true`);
      expect(
        both.every((item) => item.deleted_at !== undefined && item.left_at === undefined),
        caller.role,
      ).toBe(true);
      expect(both.map((item) => item.id).toSorted()).toEqual([edited, untouched].toSorted());
    }
  });

  it("tells an invoiced=false feed of the entries an invoice took", async () => {
    const customerId = await createCustomer(h, team.organizationId);
    const projectId = await createProject(h, team.organizationId, { customerId });
    const id = await createEntry(h, team.member, { projectId });
    const invoice = await createInvoice(h, team.organizationId, { customerId });
    const since = await mark();
    const attached = await h.call("POST", `/v1/invoices/${invoice}/time-entries`, {
      token: team.owner.token,
      body: { time_entry_ids: [id] },
    });
    expect(attached.status).toBe(200);
    const [row] = await h.sql(
      "select version, to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') as at from time_entries where id = $1",
      [id],
    );
    expect(
      await feed(team.owner, `updated_since=${since}&include_departures=true&invoiced=false&project_id=${projectId}`),
    ).toEqual([{ id, version: Number(row?.version), left_at: row?.at }]);
  });

  it("refuses include_departures without updated_since, and in the export and the summary", async () => {
    const res = await h.call("GET", "/v1/time-entries?include_departures=true", { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: "VALIDATION_ERROR",
      details: { include_departures: ["Only with updated_since"] },
    });
    for (const path of [
      "/v1/time-entries/export?format=csv&include_departures=true",
      "/v1/time-entries/summary?start_date=2026-11-01&end_date=2026-11-30&include_departures=true",
    ]) {
      const refused = await h.call("GET", path, { token: team.owner.token });
      expect(refused.status, path).toBe(400);
      expect(refused.body.error.code).toBe("VALIDATION_ERROR");
      expect(JSON.stringify(refused.body.error.details)).toContain("include_departures");
    }
  });

  it("costs one round trip", async () => {
    const trips = await h.roundTrips(() =>
      h.call(
        "GET",
        "/v1/time-entries?updated_since=2020-01-01T00:00:00Z&include_deleted=true&include_departures=true",
        {
          token: team.member.token,
        },
      ),
    );
    expect(trips).toBe(1);
  });

  it("is purged with the tombstones, after 30 days", async () => {
    const solo = await createTeam(h);
    const id = await createEntry(h, solo.member);
    await patch(solo.admin, id, { user_id: solo.otherMember.id });
    await h.sql("update time_entry_departures set left_at = now() - interval '31 days' where id = $1", [id]);
    const kept = await createEntry(h, solo.member);
    await patch(solo.admin, kept, { user_id: solo.otherMember.id });
    // A tombstone purged with departures of its own of the same age: the statement's delete and the cascade meet.
    const gone = await createEntry(h, solo.member);
    await patch(solo.admin, gone, { description: "edited before it went" });
    expect((await h.call("DELETE", `/v1/time-entries/${gone}`, { token: solo.admin.token })).status).toBe(204);
    await h.sql("update time_entries set deleted_at = now() - interval '31 days' where id = $1", [gone]);
    await h.sql("update time_entry_departures set left_at = now() - interval '31 days' where id = $1", [gone]);
    await purgeExpired(createDb(h.env.DATABASE_URL as string, h.env.SQL_HTTP_ENDPOINT));
    const rows = await h.sql("select id from time_entry_departures where organization_id = $1", [solo.organizationId]);
    expect(rows).toEqual([{ id: kept }]);
    expect(await h.sql("select id from time_entries where id = $1", [gone])).toEqual([]);
  });
});
