// Concurrent writes that must leave exactly one winner. Meaningful on a real
// Postgres server (TEST_BACKEND=postgres, as .ci/run does), where the requests
// really run at the same time; on PGlite they are serialised but must still
// give the same answers.
//
// Other races live beside this file: concurrent attach of the same entries to
// two invoices (invoices.test.ts), concurrent PATCHes with the same If-Match
// (etag.test.ts). Use `concurrently` from ../support/races.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMember, createOrganization, type Member } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { onPostgres } from "../support/postgres";
import { concurrently } from "../support/races";

let h: Harness;
let organizationId: string;

beforeAll(async () => {
  h = await startHarness();
  organizationId = await createOrganization(h, "Racers");
});
afterAll(() => h?.close());

const startTimer = (member: Member, index: number) =>
  h.call("POST", "/v1/time-entries", {
    token: member.token,
    body: { start_time: "2026-11-28T09:00:00Z", description: `start ${index}` },
  });

describe(`concurrent timer starts (${onPostgres() ? "Postgres server" : "PGlite"})`, () => {
  it("20 at once for one user: exactly one 201, nineteen 409 TIMER_ALREADY_RUNNING naming the winner", async () => {
    const member = await createMember(h, organizationId, "member");
    const responses = await concurrently(20, (i) => startTimer(member, i));

    const created = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status === 409);
    expect(responses.map((r) => r.status).sort()).toEqual([201, ...Array(19).fill(409)]);
    const winner = created[0]?.body.data.id;
    for (const res of refused) {
      expect(res.body).toEqual({
        error: {
          code: "TIMER_ALREADY_RUNNING",
          message: "A timer is already running for this user; stop it first",
          details: { running_entry_id: winner },
        },
      });
    }
    const rows = await h.sql("select id, end_time from time_entries where user_id = $1", [member.id]);
    expect(rows).toEqual([{ id: winner, end_time: null }]);
  });

  it("for different users of one organization all succeed", async () => {
    const members = await Promise.all(Array.from({ length: 8 }, () => createMember(h, organizationId, "member")));
    const responses = await concurrently(members.length, (i) => startTimer(members[i] as Member, i));
    expect(responses.map((r) => r.status)).toEqual(Array(members.length).fill(201));
  });

  it("racing a stop and a restart of the same timer never leaves two running", async () => {
    const member = await createMember(h, organizationId, "member");
    const first = await startTimer(member, 0);
    expect(first.status).toBe(201);
    const id = first.body.data.id;
    const responses = await concurrently(10, (i) =>
      i % 2 === 0
        ? h.call("PATCH", `/v1/time-entries/${id}`, { token: member.token, body: { end_time: "2026-11-28T10:00:00Z" } })
        : startTimer(member, i),
    );
    for (const res of responses) expect([200, 201, 409]).toContain(res.status);
    const running = await h.sql("select id from time_entries where user_id = $1 and end_time is null", [member.id]);
    expect(running.length).toBeLessThanOrEqual(1);
  });
});
