// organizations.prevent_overlaps: enforced by a trigger in the database, so the
// API, an operator's SQL and two concurrent requests all meet the same rule.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMember, createOrganization, type Member } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { onPostgres } from "../support/postgres";
import { concurrently } from "../support/races";

let h: Harness;
let strictOrg: string;
let relaxedOrg: string;

beforeAll(async () => {
  h = await startHarness();
  strictOrg = await createOrganization(h, "No overlaps");
  relaxedOrg = await createOrganization(h, "Overlaps allowed");
  await h.sql("update organizations set prevent_overlaps = true where id = $1", [strictOrg]);
});
afterAll(() => h?.close());

const create = (member: Member, start: string, end: string | null, extra: Record<string, unknown> = {}) =>
  h.call("POST", "/v1/time-entries", {
    token: member.token,
    body: { start_time: start, ...(end ? { end_time: end } : {}), description: `${start}–${end}`, ...extra },
  });

const overlapError = (id: string) => ({
  error: {
    code: "OVERLAP",
    message: "The time entry would overlap another entry of the same user",
    details: { overlapping_entry_id: id },
  },
});

describe("prevent_overlaps on", () => {
  it("refuses an entry overlapping another of the same user with 409 OVERLAP naming it, and writes nothing", async () => {
    const member = await createMember(h, strictOrg, "member");
    const first = await create(member, "2026-11-28T09:00:00Z", "2026-11-28T13:00:00Z");
    expect(first.status).toBe(201);
    const res = await create(member, "2026-11-28T12:59:59Z", "2026-11-28T14:00:00Z");
    expect(res.status).toBe(409);
    expect(res.body).toEqual(overlapError(first.body.data.id));
    const inside = await create(member, "2026-11-28T10:00:00+01:00", "2026-11-28T10:30:00+01:00");
    expect(inside.body).toEqual(overlapError(first.body.data.id));
    const rows = await h.sql("select id from time_entries where user_id = $1", [member.id]);
    expect(rows).toEqual([{ id: first.body.data.id }]);
  });

  it("accepts entries that only touch: one ends 13:00:00, the next starts 13:00:00", async () => {
    const member = await createMember(h, strictOrg, "member");
    expect((await create(member, "2026-11-28T09:00:00Z", "2026-11-28T13:00:00Z")).status).toBe(201);
    expect((await create(member, "2026-11-28T13:00:00Z", "2026-11-28T14:00:00Z")).status).toBe(201);
    expect((await create(member, "2026-11-28T08:00:00Z", "2026-11-28T09:00:00Z")).status).toBe(201);
  });

  it("keeps users apart: another member may log the same hours", async () => {
    const one = await createMember(h, strictOrg, "member");
    const two = await createMember(h, strictOrg, "member");
    expect((await create(one, "2026-11-28T09:00:00Z", "2026-11-28T10:00:00Z")).status).toBe(201);
    expect((await create(two, "2026-11-28T09:00:00Z", "2026-11-28T10:00:00Z")).status).toBe(201);
  });

  it("refuses moving an entry onto another with PATCH, and allows moving it next to it", async () => {
    const member = await createMember(h, strictOrg, "member");
    const a = await create(member, "2026-11-28T09:00:00Z", "2026-11-28T10:00:00Z");
    const b = await create(member, "2026-11-28T11:00:00Z", "2026-11-28T12:00:00Z");
    const moved = await h.call("PATCH", `/v1/time-entries/${b.body.data.id}`, {
      token: member.token,
      body: { start_time: "2026-11-28T09:30:00Z" },
    });
    expect(moved.status).toBe(409);
    expect(moved.body).toEqual(overlapError(a.body.data.id));
    const next = await h.call("PATCH", `/v1/time-entries/${b.body.data.id}`, {
      token: member.token,
      body: { start_time: "2026-11-28T10:00:00Z" },
    });
    expect(next.status).toBe(200);
    const renamed = await h.call("PATCH", `/v1/time-entries/${b.body.data.id}`, {
      token: member.token,
      body: { description: "Only the text changes" },
    });
    expect(renamed.status).toBe(200);
  });

  it("treats a running timer as reaching into the future, and ignores deleted entries", async () => {
    const member = await createMember(h, strictOrg, "member");
    const timer = await create(member, "2026-11-28T09:00:00Z", null);
    expect(timer.status).toBe(201);
    const later = await create(member, "2026-11-28T15:00:00Z", "2026-11-28T16:00:00Z");
    expect(later.body).toEqual(overlapError(timer.body.data.id));
    expect((await create(member, "2026-11-28T08:00:00Z", "2026-11-28T09:00:00Z")).status).toBe(201);

    expect((await h.call("DELETE", `/v1/time-entries/${timer.body.data.id}`, { token: member.token })).status).toBe(
      204,
    );
    expect((await create(member, "2026-11-28T15:00:00Z", "2026-11-28T16:00:00Z")).status).toBe(201);
  });

  it("lets stop_running end the running timer where the new one starts, in the same statement", async () => {
    const member = await createMember(h, strictOrg, "member");
    const timer = await create(member, "2026-11-28T09:00:00Z", null);
    const next = await create(member, "2026-11-28T10:00:00Z", null, { stop_running: true });
    expect(next.status).toBe(201);
    const rows = await h.sql("select id, end_time from time_entries where user_id = $1 order by start_time", [
      member.id,
    ]);
    expect(rows).toEqual([
      { id: timer.body.data.id, end_time: expect.stringMatching(/^2026-11-28 10:00:00/) },
      { id: next.body.data.id, end_time: null },
    ]);
  });

  it("refuses an overlapping restart and an overlapping stop time", async () => {
    const member = await createMember(h, strictOrg, "member");
    const future = await create(member, "2099-01-01T09:00:00Z", "2099-01-01T10:00:00Z");
    const restart = await h.call("POST", `/v1/time-entries/${future.body.data.id}/restart`, { token: member.token });
    expect(restart.status).toBe(409);
    expect(restart.body).toEqual(overlapError(future.body.data.id));

    const other = await createMember(h, strictOrg, "member");
    const timer = await create(other, "2026-11-28T09:00:00Z", null);
    // An operator turns the rule off, writes a later entry in SQL, and turns it on again.
    await h.sql("update organizations set prevent_overlaps = false where id = $1", [strictOrg]);
    const [row] = await h.sql(
      `insert into time_entries (organization_id, user_id, start_time, end_time, description)
       values ($1, $2, '2026-11-28T11:00:00Z', '2026-11-28T12:00:00Z', 'in SQL') returning id`,
      [strictOrg, other.id],
    );
    await h.sql("update organizations set prevent_overlaps = true where id = $1", [strictOrg]);
    const stop = await h.call("POST", `/v1/time-entries/${timer.body.data.id}/stop`, {
      token: other.token,
      body: { end_time: "2026-11-28T11:30:00Z" },
    });
    expect(stop.status).toBe(409);
    expect(stop.body).toEqual(overlapError(row?.id as string));
  });

  it("is enforced for SQL written by an operator too", async () => {
    const member = await createMember(h, strictOrg, "member");
    await create(member, "2026-11-28T09:00:00Z", "2026-11-28T10:00:00Z");
    await expect(
      h.sql(
        `insert into time_entries (organization_id, user_id, start_time, end_time, description)
         values ($1, $2, '2026-11-28T09:30:00Z', '2026-11-28T10:30:00Z', 'in SQL')`,
        [strictOrg, member.id],
      ),
    ).rejects.toThrow(/overlaps/);
  });

  it(`lets one of two concurrent overlapping writes through (${onPostgres() ? "Postgres server" : "PGlite"})`, async () => {
    const member = await createMember(h, strictOrg, "member");
    const responses = await concurrently(10, (i) =>
      create(member, `2026-11-28T09:0${i}:00Z`, `2026-11-28T10:0${i}:00Z`),
    );
    expect(responses.map((r) => r.status).sort()).toEqual([201, ...Array(9).fill(409)]);
    const winner = responses.find((r) => r.status === 201)?.body.data.id;
    for (const res of responses.filter((r) => r.status === 409)) expect(res.body).toEqual(overlapError(winner));
    expect(await h.sql("select id from time_entries where user_id = $1", [member.id])).toEqual([{ id: winner }]);
  });
});

describe("prevent_overlaps off (the default)", () => {
  it("accepts overlapping entries", async () => {
    const member = await createMember(h, relaxedOrg, "member");
    expect((await create(member, "2026-11-28T09:00:00Z", "2026-11-28T13:00:00Z")).status).toBe(201);
    expect((await create(member, "2026-11-28T10:00:00Z", "2026-11-28T11:00:00Z")).status).toBe(201);
  });
});
