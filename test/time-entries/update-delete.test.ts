import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { TimeEntryEnvelope } from "../../src/routes/time-entries/time-entries.schemas";
import {
  createEntry,
  createInvoice,
  createOrganization,
  createProject,
  createTeam,
  type Team,
} from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { expectNoOpPatch } from "../support/no-op";
import { eventsOf, subscribe } from "../support/webhooks";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(async () => {
  team = await createTeam(h);
});

const patch = (token: string, id: string, body: unknown) => h.call("PATCH", `/v1/time-entries/${id}`, { token, body });
const stored = async (id: string) => (await h.sql("select * from time_entries where id = $1", [id]))[0];

describe("PATCH /v1/time-entries/{id}", () => {
  it("changes the given fields, keeps the rest, and bumps updated_at", async () => {
    const projectId = await createProject(h, team.organizationId, { name: "P", hourlyRate: "10", currency: "EUR" });
    const id = await createEntry(h, team.member, {
      description: "before",
      start: "2026-11-20T09:00:00Z",
      end: "2026-11-20T10:00:00Z",
    });
    await h.sql(
      "update time_entries set created_at = '2026-01-01T00:00:00Z', updated_at = '2026-01-01T00:00:00Z' where id = $1",
      [id],
    );

    const res = await patch(team.member.token, id, { description: "after", project_id: projectId, billable: true });

    expect(res.status).toBe(200);
    expect(TimeEntryEnvelope.parse(res.body)).toEqual(res.body);
    expect(res.body.data).toMatchObject({
      id,
      description: "after",
      project_id: projectId,
      billable: true,
      start_time: "2026-11-20T09:00:00.000Z",
      end_time: "2026-11-20T10:00:00.000Z",
      duration: 3600,
      created_at: "2026-01-01T00:00:00.000Z",
      project: { id: projectId, name: "P", hourly_rate: 10, currency: "EUR" },
    });
    expect(Date.parse(res.body.data.updated_at)).toBeGreaterThan(Date.parse("2026-11-28T00:00:00Z"));
  });

  it("stops a running entry by setting end_time", async () => {
    const id = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const res = await patch(team.member.token, id, { end_time: "2026-11-28T11:15:30+01:00" });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ end_time: "2026-11-28T10:15:30.000Z", duration: 4530 });
  });

  it("makes an entry run again with end_time null, under the one-timer rule", async () => {
    const stopped = await createEntry(h, team.member);
    const res = await patch(team.member.token, stopped, { end_time: null });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ end_time: null, duration: null });

    const another = await createEntry(h, team.member);
    const blocked = await patch(team.member.token, another, { end_time: null });
    expect(blocked.status).toBe(409);
    expect(blocked.body).toEqual({
      error: {
        code: "TIMER_ALREADY_RUNNING",
        message: "A timer is already running for this user; stop it first",
        details: { running_entry_id: stopped },
      },
    });
    expect((await stored(another))?.end_time).not.toBeNull();
  });

  it("lets a running entry change other fields while it runs", async () => {
    const id = await createEntry(h, team.member, { end: null });
    const res = await patch(team.member.token, id, { description: "still running" });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ end_time: null, description: "still running" });
  });

  it("applies the one-timer rule to the entry's owner when an admin edits it", async () => {
    const running = await createEntry(h, team.member, { end: null, start: "2026-11-28T08:00:00Z" });
    const stopped = await createEntry(h, team.member);
    const res = await patch(team.admin.token, stopped, { end_time: null });
    expect(res.status).toBe(409);
    expect(res.body.error.details).toEqual({ running_entry_id: running });
  });

  it("checks the merged times: end_time must stay after start_time", async () => {
    const id = await createEntry(h, team.member, { start: "2026-11-20T09:00:00Z", end: "2026-11-20T10:00:00Z" });
    const res = await patch(team.member.token, id, { start_time: "2026-11-20T10:00:00Z" });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        code: "VALIDATION_ERROR",
        message: "Invalid end_time",
        details: { end_time: ["Must be after start_time"] },
      },
    });
    const both = await patch(team.member.token, id, {
      start_time: "2026-11-20T12:00:00Z",
      end_time: "2026-11-20T11:00:00Z",
    });
    expect(both.status).toBe(400);
    expect(both.body.error.details).toEqual({ end_time: ["Must be after start_time"] });
    expect(await stored(id)).toMatchObject({
      start_time: "2026-11-20 09:00:00+00",
      end_time: "2026-11-20 10:00:00+00",
    });
  });

  it("moves a start time later on a running entry without a check on end_time", async () => {
    const id = await createEntry(h, team.member, { start: "2026-11-20T09:00:00Z", end: null });
    const res = await patch(team.member.token, id, { start_time: "2026-11-21T09:00:00Z" });
    expect(res.status).toBe(200);
    expect(res.body.data.start_time).toBe("2026-11-21T09:00:00.000Z");
  });

  it("clears the project with project_id null and refuses a project of another organization", async () => {
    const projectId = await createProject(h, team.organizationId);
    const id = await createEntry(h, team.member, { projectId });
    const cleared = await patch(team.member.token, id, { project_id: null });
    expect(cleared.status).toBe(200);
    expect(cleared.body.data).toMatchObject({ project_id: null, project: null });

    const foreign = await createProject(h, await createOrganization(h));
    const res = await patch(team.member.token, id, { project_id: foreign });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({ project_id: ["No such project in this organization"] });
    expect((await stored(id))?.project_id).toBeNull();
  });

  it("changes nothing when every given field has that value, compared as typed values; sync does not list it", async () => {
    const projectId = await createProject(h, team.organizationId, { name: "P", hourlyRate: "10", currency: "EUR" });
    const id = await createEntry(h, team.member, {
      projectId,
      start: "2026-11-20T09:00:00Z",
      end: "2026-11-20T10:30:00Z",
    });
    await h.sql("update time_entries set updated_at = '2026-01-01T00:00:00Z' where id = $1", [id]);
    const same = {
      // Instants written otherwise, an upper-case id: the same values.
      start_time: "2026-11-20T10:00:00+01:00",
      end_time: "2026-11-20T10:30:00.000Z",
      user_id: team.member.id.toUpperCase(),
      project_id: projectId,
      description: "Work",
      billable: false,
    };
    expect((await patch(team.admin.token, id, same)).status).toBe(200);
    const sync = await h.call("GET", "/v1/time-entries?updated_since=2026-06-01T00:00:00Z", {
      token: team.admin.token,
    });
    expect(sync.body.data).toEqual([]);
    await expectNoOpPatch(h, {
      path: `/v1/time-entries/${id}`,
      token: team.admin.token,
      organizationId: team.organizationId,
      same,
      change: { ...same, billable: true },
      changedEvent: "time_entry.updated",
    });
  });

  it("changes nothing for end_time null on a running entry: no restart, no timer event", async () => {
    const id = await createEntry(h, team.member, { start: "2026-11-28T08:00:00Z", end: null });
    await expectNoOpPatch(h, {
      path: `/v1/time-entries/${id}`,
      token: team.member.token,
      organizationId: team.organizationId,
      same: { end_time: null, start_time: "2026-11-28T08:00:00Z" },
      change: { end_time: null, description: "Running" },
      changedEvent: "time_entry.updated",
    });
  });

  it("keeps its checks for a patch that would change nothing: 409 for an invoiced entry, 404 for a colleague's", async () => {
    await subscribe(h, team.organizationId, { events: ["*"] });
    const invoiceId = await createInvoice(h, team.organizationId);
    const billed = await createEntry(h, team.member, { invoiceId, description: "billed" });
    const locked = await patch(team.owner.token, billed, { description: "billed" });
    expect([locked.status, locked.body.error?.code]).toEqual([409, "ENTRY_LOCKED"]);
    const id = await createEntry(h, team.member);
    const colleague = await patch(team.otherMember.token, id, { description: "Work" });
    expect(colleague.status).toBe(404);
    expect(await eventsOf(h, team.organizationId)).toEqual([]);
  });

  it("refuses to change an invoiced entry", async () => {
    const invoiceId = await createInvoice(h, team.organizationId);
    const id = await createEntry(h, team.member, { invoiceId, description: "billed" });
    const res = await patch(team.owner.token, id, { description: "rewritten" });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: { code: "ENTRY_LOCKED", message: "The time entry is attached to an invoice and cannot be changed" },
    });
    expect((await stored(id))?.description).toBe("billed");
  });

  it("lets owner and admin change a member's entry, but not another member", async () => {
    const id = await createEntry(h, team.member);
    expect((await patch(team.owner.token, id, { description: "by owner" })).status).toBe(200);
    expect((await patch(team.admin.token, id, { description: "by admin" })).status).toBe(200);
    const res = await patch(team.otherMember.token, id, { description: "by another member" });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: "NOT_FOUND", message: "Time entry not found" } });
    expect((await stored(id))?.description).toBe("by admin");
  });

  it("rejects an empty patch, unknown fields and null for required fields", async () => {
    const id = await createEntry(h, team.member);
    const empty = await patch(team.member.token, id, {});
    expect(empty.status).toBe(400);
    expect(empty.body.error.details).toEqual({ body: ["Provide at least one field to change"] });
    const unknown = await patch(team.member.token, id, { organization_id: crypto.randomUUID() });
    expect(unknown.body.error.details).toEqual({
      organization_id: ["Unknown field"],
      body: ["Provide at least one field to change"],
    });
    const mixed = await patch(team.member.token, id, { description: "ok", invoice_id: null });
    expect(mixed.body.error.details).toEqual({ invoice_id: ["Unknown field"] });
    for (const field of ["start_time", "description", "billable"]) {
      const res = await patch(team.member.token, id, { [field]: null });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.error.details)).toEqual([field]);
    }
  });

  it("answers 404 for an unknown id", async () => {
    const res = await patch(team.owner.token, crypto.randomUUID(), { description: "x" });
    expect(res.status).toBe(404);
  });
});

describe("DELETE /v1/time-entries/{id}", () => {
  it("deletes the entry: 204 with no body, then 404 everywhere, leaving a tombstone", async () => {
    const id = await createEntry(h, team.member);
    const res = await h.call("DELETE", `/v1/time-entries/${id}`, { token: team.member.token });
    expect(res.status).toBe(204);
    expect(res.body).toBe("");
    const [row] = await h.sql(
      "select deleted_at is not null as gone, project_id, version from time_entries where id = $1",
      [id],
    );
    expect(row).toEqual({ gone: "t", project_id: null, version: "2" });
    expect((await h.call("GET", `/v1/time-entries/${id}`, { token: team.member.token })).status).toBe(404);
    expect(
      (await h.call("PATCH", `/v1/time-entries/${id}`, { token: team.member.token, body: { description: "x" } }))
        .status,
    ).toBe(404);
    expect((await h.call("DELETE", `/v1/time-entries/${id}`, { token: team.member.token })).status).toBe(404);
    expect((await h.call("POST", `/v1/time-entries/${id}/restart`, { token: team.member.token })).status).toBe(404);
    const list = await h.call("GET", "/v1/time-entries?limit=100", { token: team.member.token });
    expect(list.body.data.map((entry: { id: string }) => entry.id)).not.toContain(id);
  });

  it("frees the running-timer slot when a running entry is deleted", async () => {
    const running = await h.call("POST", "/v1/time-entries", {
      token: team.otherMember.token,
      body: { start_time: "2026-11-28T09:00:00Z", description: "Running, then deleted" },
    });
    expect(running.status).toBe(201);
    const id = running.body.data.id;
    expect((await h.call("DELETE", `/v1/time-entries/${id}`, { token: team.otherMember.token })).status).toBe(204);
    const current = await h.call("GET", "/v1/time-entries/current", { token: team.otherMember.token });
    expect(current.body).toEqual({ data: null });
    const next = await h.call("POST", "/v1/time-entries", {
      token: team.otherMember.token,
      body: { start_time: "2026-11-28T10:00:00Z", description: "The next timer" },
    });
    expect(next.status).toBe(201);
    await h.call("POST", `/v1/time-entries/${next.body.data.id}/stop`, { token: team.otherMember.token });
  });

  it("refuses to delete an invoiced entry", async () => {
    const id = await createEntry(h, team.member, { invoiceId: await createInvoice(h, team.organizationId) });
    const res = await h.call("DELETE", `/v1/time-entries/${id}`, { token: team.owner.token });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("ENTRY_LOCKED");
    expect(await stored(id)).toBeDefined();
  });

  it("lets an admin delete a member's entry but not another member", async () => {
    const id = await createEntry(h, team.member);
    const denied = await h.call("DELETE", `/v1/time-entries/${id}`, { token: team.otherMember.token });
    expect(denied.status).toBe(404);
    expect(await stored(id)).toBeDefined();
    const res = await h.call("DELETE", `/v1/time-entries/${id}`, { token: team.admin.token });
    expect(res.status).toBe(204);
  });

  it("answers 404 for an unknown id and 400 for a malformed one", async () => {
    expect(
      (await h.call("DELETE", `/v1/time-entries/${crypto.randomUUID()}`, { token: team.owner.token })).status,
    ).toBe(404);
    const res = await h.call("DELETE", "/v1/time-entries/123", { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({ id: ["Must be a UUID"] });
  });
});
