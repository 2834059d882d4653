// owner and admin record time for other members with user_id; a member may not.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMember, createOrganization, createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

const entry = (userId: string, description: string) => ({
  user_id: userId,
  start_time: "2026-11-28T09:00:00Z",
  end_time: "2026-11-28T10:00:00Z",
  description,
});

describe("time entries on behalf of another member", () => {
  it("lets owner and admin create an entry for a member, recorded under that member", async () => {
    for (const manager of [team.owner, team.admin]) {
      const res = await h.call("POST", "/v1/time-entries", {
        token: manager.token,
        body: entry(team.member.id, `by ${manager.role}`),
      });
      expect(res.status).toBe(201);
      expect(res.body.data.user_id).toBe(team.member.id);
      expect(res.body.data.user.full_name).toBe("Mia Member");
    }
    const mine = await h.call("GET", "/v1/time-entries?user_id=me&q=by%20", { token: team.member.token });
    expect(mine.body.data.map((e: { description: string }) => e.description).sort()).toEqual(["by admin", "by owner"]);
  });

  it("starts a timer for a member under that member's one-timer rule", async () => {
    const member = await createMember(h, team.organizationId, "member");
    const body = { user_id: member.id, start_time: "2026-11-28T09:00:00Z", description: "Timer for a member" };
    const first = await h.call("POST", "/v1/time-entries", { token: team.owner.token, body });
    expect(first.status).toBe(201);
    expect(first.body.data.end_time).toBeNull();
    const second = await h.call("POST", "/v1/time-entries", { token: team.admin.token, body });
    expect(second.status).toBe(409);
    expect(second.body.error).toEqual({
      code: "TIMER_ALREADY_RUNNING",
      message: "A timer is already running for this user; stop it first",
      details: { running_entry_id: first.body.data.id },
    });
    // The owner's own timer slot is untouched: the timer is the member's.
    const own = await h.call("GET", "/v1/time-entries/current", { token: team.owner.token });
    expect(own.body).toEqual({ data: null });
  });

  it("refuses a member recording time for someone else: 403 FORBIDDEN, nothing written", async () => {
    const res = await h.call("POST", "/v1/time-entries", {
      token: team.member.token,
      body: entry(team.otherMember.id, "not allowed"),
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      error: { code: "FORBIDDEN", message: "Only owners and admins can record time for another member" },
    });
    expect(await h.sql("select id from time_entries where description = 'not allowed'")).toEqual([]);
  });

  it("accepts a member naming themselves", async () => {
    const res = await h.call("POST", "/v1/time-entries", {
      token: team.member.token,
      body: entry(team.member.id.toUpperCase(), "myself"),
    });
    expect(res.status).toBe(201);
    expect(res.body.data.user_id).toBe(team.member.id);
  });

  it("answers 400 on user_id for a user who is not a member of the organization, even of another one", async () => {
    const elsewhere = await createMember(h, await createOrganization(h, "Elsewhere"), "owner");
    for (const userId of [elsewhere.id, crypto.randomUUID()]) {
      const res = await h.call("POST", "/v1/time-entries", { token: team.owner.token, body: entry(userId, "ghost") });
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual({
        code: "VALIDATION_ERROR",
        message: "Invalid user_id",
        details: { user_id: ["No such member in this organization"] },
      });
    }
    expect(await h.sql("select id from time_entries where description = 'ghost'")).toEqual([]);
  });

  it("lets owner and admin move an entry to another member with PATCH; a member may not", async () => {
    const created = await h.call("POST", "/v1/time-entries", {
      token: team.member.token,
      body: { start_time: "2026-11-27T09:00:00Z", end_time: "2026-11-27T10:00:00Z", description: "to move" },
    });
    const id = created.body.data.id;
    const denied = await h.call("PATCH", `/v1/time-entries/${id}`, {
      token: team.member.token,
      body: { user_id: team.otherMember.id },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe("FORBIDDEN");

    const moved = await h.call("PATCH", `/v1/time-entries/${id}`, {
      token: team.admin.token,
      body: { user_id: team.otherMember.id },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.data.user_id).toBe(team.otherMember.id);
    expect((await h.call("GET", `/v1/time-entries/${id}`, { token: team.member.token })).status).toBe(404);
    expect((await h.call("GET", `/v1/time-entries/${id}`, { token: team.otherMember.token })).status).toBe(200);

    const ghost = await h.call("PATCH", `/v1/time-entries/${id}`, {
      token: team.owner.token,
      body: { user_id: crypto.randomUUID() },
    });
    expect(ghost.status).toBe(400);
    expect(ghost.body.error.details).toEqual({ user_id: ["No such member in this organization"] });
  });

  it("reports a NUL character in the description or in q on that field, never as a database error", async () => {
    const body = { start_time: "2026-11-28T09:00:00Z", end_time: "2026-11-28T10:00:00Z", description: "a\u0000b" };
    const created = await h.call("POST", "/v1/time-entries", { token: team.member.token, body });
    expect(created.status).toBe(400);
    expect(created.body.error.details).toEqual({ description: ["Must not contain the NUL character"] });
    const listed = await h.call("GET", "/v1/time-entries?q=a%00b", { token: team.member.token });
    expect(listed.status).toBe(400);
    expect(listed.body.error.details).toEqual({ q: ["Must not contain the NUL character"] });
  });

  it("costs one round trip", async () => {
    const trips = await h.roundTrips(() =>
      h.call("POST", "/v1/time-entries", { token: team.owner.token, body: entry(team.member.id, "counted") }),
    );
    expect(trips).toBe(1);
  });
});
