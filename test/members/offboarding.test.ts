// DELETE /v1/members/{userId} is offboarding, not deletion: every hour stays on record.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createEntry,
  createInvoice,
  createMember,
  createOrganization,
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

const remove = (userId: string, token: string, headers?: Record<string, string>) =>
  h.call("DELETE", `/v1/members/${userId}`, { token, headers });

/** What the organization's owner sees of `member`'s hours through the list, the summary and the export. */
async function hoursOf(team: Team, member: Member) {
  const owner = team.owner.token;
  const range = "start_date=2026-01-01&end_date=2026-12-31";
  const list = await h.call("GET", `/v1/time-entries?user_id=${member.id}&limit=100&${range}`, { token: owner });
  const summary = await h.call("GET", `/v1/time-entries/summary?group_by=user&${range}`, { token: owner });
  const csv = await h.call("GET", `/v1/time-entries/export?format=csv&user_id=${member.id}&${range}`, { token: owner });
  expect([list.status, summary.status, csv.status]).toEqual([200, 200, 200]);
  return {
    entries: list.body.data.map((entry: Record<string, unknown>) => ({ ...entry, version: undefined })),
    summary: summary.body.data,
    csvRows: csv.body.trim().split("\r\n").length - 1,
  };
}

describe("DELETE /v1/members/{userId}: offboarding", () => {
  it("keeps every hour: the list, the summary and the export show the same before and after", async () => {
    const team = await createTeam(h);
    const project = await createProject(h, team.organizationId, { hourlyRate: "100", currency: "EUR" });
    for (const day of [2, 3, 4]) {
      await createEntry(h, team.otherMember, {
        start: `2026-11-0${day}T09:00:00Z`,
        end: `2026-11-0${day}T11:30:00Z`,
        projectId: project,
        billable: true,
      });
    }
    const invoice = await createInvoice(h, team.organizationId);
    await createEntry(h, team.otherMember, {
      start: "2026-10-01T09:00:00Z",
      end: "2026-10-01T10:00:00Z",
      invoiceId: invoice,
    });
    const before = await hoursOf(team, team.otherMember);
    expect(before.entries).toHaveLength(4);
    expect(before.csvRows).toBe(4);

    const res = await remove(team.otherMember.id, team.admin.token);
    expect(res.status).toBe(204);
    expect(res.body).toBe("");

    expect(await hoursOf(team, team.otherMember)).toEqual(before);
    expect(
      await h.sql("select status, removed_at is not null as removed from organization_members where user_id = $1", [
        team.otherMember.id,
      ]),
    ).toEqual([{ status: "removed", removed: "t" }]);
    expect(await h.sql("select count(*) from users where id = $1", [team.otherMember.id])).toEqual([{ count: "1" }]);
    const member = await h.call("GET", `/v1/members/${team.otherMember.id}`, { token: team.member.token });
    expect(member.body.data).toMatchObject({ status: "removed", removed_at: expect.any(String), version: 2 });
  });

  it("refuses every token of theirs for this organization on their very next request", async () => {
    const team = await createTeam(h);
    const oauth = await h.issuer.sign({
      userId: team.otherMember.id,
      organizationId: team.organizationId,
      scope: "entries:read",
    });
    expect((await h.call("GET", "/v1/time-entries", { token: oauth })).status).toBe(200);
    expect((await remove(team.otherMember.id, team.owner.token)).status).toBe(204);
    for (const token of [team.otherMember.token, oauth]) {
      const res = await h.call("GET", "/v1/time-entries", { token });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: { code: "FORBIDDEN", message: "You are not a member of this organization" } });
    }
    expect((await h.call("GET", "/v1/me", { token: team.otherMember.token })).status).toBe(403);
  });

  it("stops their running timer at the moment of removal, and only theirs", async () => {
    const team = await createTeam(h);
    const theirs = await createEntry(h, team.otherMember, { start: "2026-11-20T09:00:00Z", end: null });
    const colleagues = await createEntry(h, team.member, { start: "2026-11-20T09:00:00Z", end: null });
    const [{ now } = { now: "" }] = await h.sql("select now() as now");

    expect((await remove(team.otherMember.id, team.admin.token)).status).toBe(204);

    const [stopped] = await h.sql(
      "select end_time, end_time >= $2::timestamptz as after, version from time_entries where id = $1",
      [theirs, now],
    );
    expect(stopped).toMatchObject({ after: "t", version: "2" });
    const [removal] = await h.sql("select removed_at from organization_members where user_id = $1", [
      team.otherMember.id,
    ]);
    expect(stopped?.end_time).toBe(removal?.removed_at);
    expect(await h.sql("select end_time from time_entries where id = $1", [colleagues])).toEqual([{ end_time: null }]);
  });

  it("stops a timer even where it overlaps entries written before prevent_overlaps was on", async () => {
    const team = await createTeam(h);
    const timer = await createEntry(h, team.otherMember, { start: "2026-11-20T09:00:00Z", end: null });
    await createEntry(h, team.otherMember, { start: "2026-11-20T11:00:00Z", end: "2026-11-20T12:00:00Z" });
    await h.call("PATCH", "/v1/organizations/current", { token: team.owner.token, body: { prevent_overlaps: true } });
    // Their own stop would be refused: it leaves the overlap in place.
    const stop = await h.call("POST", `/v1/time-entries/${timer}/stop`, {
      token: team.otherMember.token,
      body: { end_time: "2026-11-20T11:30:00Z" },
    });
    expect(stop.status).toBe(409);

    expect((await remove(team.otherMember.id, team.owner.token)).status).toBe(204);
    const [stopped] = await h.sql("select end_time is not null as stopped from time_entries where id = $1", [timer]);
    expect(stopped).toEqual({ stopped: "t" });
    // The exemption was the removal's alone: the next write in the organization is checked again.
    const overlapping = await h.call("POST", "/v1/time-entries", {
      token: team.owner.token,
      body: {
        user_id: team.member.id,
        start_time: "2026-11-20T09:00:00Z",
        end_time: "2026-11-20T10:00:00Z",
        description: "first",
      },
    });
    expect(overlapping.status).toBe(201);
    const second = await h.call("POST", "/v1/time-entries", {
      token: team.owner.token,
      body: {
        user_id: team.member.id,
        start_time: "2026-11-20T09:30:00Z",
        end_time: "2026-11-20T10:30:00Z",
        description: "x",
      },
    });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("OVERLAP");
  });

  it("still lets owners and admins filter, edit and invoice a removed member's entries, but record none for them", async () => {
    const team = await createTeam(h);
    const entry = await createEntry(h, team.otherMember, { description: "before leaving" });
    await remove(team.otherMember.id, team.owner.token);

    const filtered = await h.call("GET", `/v1/time-entries?user_id=${team.otherMember.id}`, {
      token: team.admin.token,
    });
    expect(filtered.body.data.map((e: { id: string }) => e.id)).toEqual([entry]);
    const edited = await h.call("PATCH", `/v1/time-entries/${entry}`, {
      token: team.admin.token,
      body: { description: "fixed typo", user_id: team.otherMember.id },
    });
    expect(edited.status).toBe(200);
    expect(edited.body.data).toMatchObject({ description: "fixed typo", user_id: team.otherMember.id });
    const invoice = await createInvoice(h, team.organizationId);
    const attached = await h.call("POST", `/v1/invoices/${invoice}/time-entries`, {
      token: team.owner.token,
      body: { time_entry_ids: [entry] },
    });
    expect(attached.status).toBe(200);

    const refusals = [
      await h.call("POST", "/v1/time-entries", {
        token: team.owner.token,
        body: {
          user_id: team.otherMember.id,
          start_time: "2026-11-21T09:00:00Z",
          end_time: "2026-11-21T10:00:00Z",
          description: "x",
        },
      }),
      await h.call("PATCH", `/v1/time-entries/${await createEntry(h, team.member)}`, {
        token: team.owner.token,
        body: { user_id: team.otherMember.id },
      }),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("VALIDATION_ERROR");
      expect(Object.keys(res.body.error.details)).toEqual(["user_id"]);
    }
  });

  it("lets a member leave, but not remove anyone else; an admin never removes an owner", async () => {
    const team = await createTeam(h);
    const byMember = await remove(team.otherMember.id, team.member.token);
    expect(byMember.status).toBe(403);
    expect(byMember.body).toEqual({ error: { code: "FORBIDDEN", message: "Members can only remove themselves" } });
    const byAdmin = await remove(team.owner.id, team.admin.token);
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.error.code).toBe("FORBIDDEN");

    expect((await remove(team.member.id, team.member.token)).status).toBe(204);
    expect((await h.call("GET", "/v1/projects", { token: team.member.token })).status).toBe(403);
    expect(
      await h.sql(
        "select user_id, status from organization_members where organization_id = $1 and status = 'active' order by role",
        [team.organizationId],
      ),
    ).toHaveLength(3);
  });

  it("keeps the last active owner (409 LAST_OWNER), answers 409 MEMBER_REMOVED once removed, and honours If-Match", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner");
    const member = await createMember(h, org, "member");
    const last = await remove(owner.id, owner.token);
    expect(last.status).toBe(409);
    expect(last.body.error.code).toBe("LAST_OWNER");

    const stale = await remove(member.id, owner.token, { "If-Match": '"7"' });
    expect(stale.status).toBe(412);
    expect((await remove(member.id, owner.token, { "If-Match": '"1"' })).status).toBe(204);
    const again = await remove(member.id, owner.token);
    expect(again.status).toBe(409);
    expect(again.body.error).toEqual({
      code: "MEMBER_REMOVED",
      message: "The member has been removed; reinstate them with POST /v1/members",
    });
    expect((await remove(crypto.randomUUID(), owner.token)).status).toBe(404);
  });

  it("reinstates a removed member with the given role: access returns and their history is theirs again", async () => {
    const team = await createTeam(h);
    const entry = await createEntry(h, team.otherMember, { description: "old work" });
    await remove(team.otherMember.id, team.admin.token);
    const [{ email } = { email: "" }] = await h.sql("select email from users where id = $1", [team.otherMember.id]);

    const res = await h.call("POST", "/v1/members", {
      token: team.admin.token,
      body: { email: email?.toUpperCase(), role: "admin" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("Location")).toBe(`/v1/members/${team.otherMember.id}`);
    expect(res.body.data).toMatchObject({
      id: team.otherMember.id,
      role: "admin",
      status: "active",
      removed_at: null,
      version: 3,
    });

    const own = await h.call("GET", "/v1/time-entries?user_id=me", { token: team.otherMember.token });
    expect(own.status).toBe(200);
    expect(own.body.data.map((e: { id: string }) => e.id)).toEqual([entry]);
    expect((await h.call("GET", "/v1/me", { token: team.otherMember.token })).body.data.role).toBe("admin");
  });
});
