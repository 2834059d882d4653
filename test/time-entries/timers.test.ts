import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CurrentTimeEntryEnvelope, TimeEntryEnvelope } from "../../src/routes/time-entries/time-entries.schemas";
import {
  createEntry,
  createInvoice,
  createMember,
  createOrganization,
  createProject,
  createTeam,
  type Team,
} from "../support/factories";
import { type Harness, startHarness } from "../support/harness";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(async () => {
  team = await createTeam(h);
});

const stored = async (id: string) => (await h.sql("select * from time_entries where id = $1", [id]))[0];
const runningOf = async (userId: string) =>
  h.sql("select id from time_entries where user_id = $1 and end_time is null", [userId]);
const notFound = { error: { code: "NOT_FOUND", message: "Time entry not found" } };
const notRunning = { error: { code: "TIMER_NOT_RUNNING", message: "The time entry has already been stopped" } };
const locked = {
  error: { code: "ENTRY_LOCKED", message: "The time entry is attached to an invoice and cannot be changed" },
};
const alreadyRunning = (id: string) => ({
  error: {
    code: "TIMER_ALREADY_RUNNING",
    message: "A timer is already running for this user; stop it first",
    details: { running_entry_id: id },
  },
});
const endTimeError = {
  error: {
    code: "VALIDATION_ERROR",
    message: "Invalid end_time",
    details: { end_time: ["Must be after start_time"] },
  },
};

describe("GET /v1/time-entries/current", () => {
  it("answers the caller's running entry in the shape of GET /v1/time-entries/{id}", async () => {
    const projectId = await createProject(h, team.organizationId, { name: "P", hourlyRate: "10", currency: "EUR" });
    await createEntry(h, team.member, { start: "2026-11-28T08:00:00Z", end: "2026-11-28T09:00:00Z" });
    const id = await createEntry(h, team.member, {
      start: "2026-11-28T09:00:00Z",
      end: null,
      projectId,
      description: "running",
    });
    await createEntry(h, team.owner, { end: null });

    const res = await h.call("GET", "/v1/time-entries/current", { token: team.member.token });
    const one = await h.call("GET", `/v1/time-entries/${id}`, { token: team.member.token });

    expect(res.status).toBe(200);
    expect(CurrentTimeEntryEnvelope.parse(res.body)).toEqual(res.body);
    expect(res.body).toEqual(one.body);
    expect(res.body.data).toMatchObject({
      id,
      user_id: team.member.id,
      start_time: "2026-11-28T09:00:00.000Z",
      end_time: null,
      duration: null,
      description: "running",
      project: { id: projectId, name: "P" },
    });
  });

  it("answers {data: null} when no timer runs, even when others' timers do", async () => {
    await createEntry(h, team.member);
    await createEntry(h, team.owner, { end: null });
    for (const caller of [team.member, team.admin]) {
      const res = await h.call("GET", "/v1/time-entries/current", { token: caller.token });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: null });
    }
  });

  it("is 403 for a caller who is not a member of the organization", async () => {
    const token = await h.sessionToken(team.owner.id, await createOrganization(h, "Elsewhere"));
    const res = await h.call("GET", "/v1/time-entries/current", { token });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("FORBIDDEN");
  });

  it("costs one round trip", async () => {
    await createEntry(h, team.member, { end: null });
    const trips = await h.roundTrips(async () => {
      expect((await h.call("GET", "/v1/time-entries/current", { token: team.member.token })).status).toBe(200);
    });
    expect(trips).toBe(1);
  });
});

describe("POST /v1/time-entries/{id}/stop", () => {
  const stop = (token: string, id: string, body?: unknown) =>
    h.call("POST", `/v1/time-entries/${id}/stop`, { token, body });

  it("stops a running entry at now without a body", async () => {
    const id = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const before = Date.now();
    const res = await stop(team.member.token, id);
    expect(res.status).toBe(200);
    expect(TimeEntryEnvelope.parse(res.body)).toEqual(res.body);
    const end = Date.parse(res.body.data.end_time);
    expect(end).toBeGreaterThanOrEqual(before - 1000);
    expect(end).toBeLessThanOrEqual(Date.now() + 1000);
    expect(res.body.data.duration).toBe(Math.floor((end - Date.parse("2026-11-28T09:00:00Z")) / 1000));
    expect(await runningOf(team.member.id)).toEqual([]);
  });

  it("stops at the end_time of the body, in UTC", async () => {
    const id = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const res = await stop(team.member.token, id, { end_time: "2026-11-28T11:15:30+01:00" });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id, end_time: "2026-11-28T10:15:30.000Z", duration: 4530 });
    expect(Number((await stored(id))?.duration)).toBe(4530);
  });

  it("accepts an empty body", async () => {
    const id = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const res = await stop(team.member.token, id, {});
    expect(res.status).toBe(200);
    expect(res.body.data.end_time).not.toBeNull();
  });

  it("takes no body sent as Content-Type: application/json (curl -H without -d)", async () => {
    const id = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const res = await h.call("POST", `/v1/time-entries/${id}/stop`, {
      token: team.member.token,
      headers: { "Content-Type": "application/json" },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.end_time).not.toBeNull();
    const malformed = await stop(team.member.token, id, "{");
    expect(malformed.status).toBe(400);
  });

  it("takes an empty body sent with Content-Length: 0 under Content-Type: application/json (curl -d '')", async () => {
    for (const headers of [{}, { "Idempotency-Key": "stop-empty-body" }] as Record<string, string>[]) {
      const id = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
      const res = await h.call("POST", `/v1/time-entries/${id}/stop`, {
        token: team.member.token,
        body: "",
        headers: { "Content-Type": "application/json", ...headers },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.data.end_time).not.toBeNull();
    }
  });

  it("takes no body under a Content-Encoding (nothing is coded) and refuses a compressed one with 415", async () => {
    const id = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const compressed = await h.call("POST", `/v1/time-entries/${id}/stop`, {
      token: team.member.token,
      body: { end_time: "2026-11-28T10:00:00Z" },
      headers: { "Content-Encoding": "gzip" },
    });
    expect(compressed.status).toBe(415);
    expect((await stored(id))?.end_time).toBeNull();
    const res = await h.call("POST", `/v1/time-entries/${id}/stop`, {
      token: team.member.token,
      headers: { "Content-Encoding": "gzip" },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.data.end_time).not.toBeNull();
  });

  it("is 400 on end_time when it is not after start_time, changing nothing", async () => {
    const id = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    for (const end_time of ["2026-11-28T09:00:00Z", "2026-11-28T08:00:00Z", "2026-11-28T10:00:00.0004+01:00"]) {
      const res = await stop(team.member.token, id, { end_time });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(endTimeError);
    }
    expect((await stored(id))?.end_time).toBeNull();
  });

  it("is 400 on end_time, saying that omitted means now, for a timer that starts in the future", async () => {
    const id = await createEntry(h, team.member, { start: "2099-01-01T09:00:00Z", end: null });
    const res = await stop(team.member.token, id);
    expect([res.status, res.body]).toEqual([
      400,
      {
        error: {
          ...endTimeError.error,
          details: { end_time: ["Omitted means now, which is not after start_time: give an end_time"] },
        },
      },
    ]);
    expect((await stored(id))?.end_time).toBeNull();
  });

  it("honours If-Match: a stale version is 412 and the timer runs on; the current one stops it", async () => {
    const id = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const stopIf = (ifMatch: string) =>
      h.call("POST", `/v1/time-entries/${id}/stop`, { token: team.member.token, headers: { "If-Match": ifMatch } });
    const stale = await stopIf('"2"');
    expect([stale.status, stale.body.error?.code]).toEqual([412, "PRECONDITION_FAILED"]);
    expect((await stored(id))?.end_time).toBeNull();
    const current = await stopIf('"1"');
    expect([current.status, current.headers.get("ETag")]).toEqual([200, '"2"']);
  });

  it("refuses unknown fields and malformed timestamps", async () => {
    const id = await createEntry(h, team.member, { end: null });
    const unknown = await stop(team.member.token, id, { end_time: "2026-11-28T11:00:00Z", foo: 1 });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe("VALIDATION_ERROR");
    const noOffset = await stop(team.member.token, id, { end_time: "2026-11-28T11:00:00" });
    expect(noOffset.status).toBe(400);
    expect(Object.keys(noOffset.body.error.details)).toEqual(["end_time"]);
    expect((await stored(id))?.end_time).toBeNull();
  });

  it("is 409 TIMER_NOT_RUNNING for an entry already stopped, changing nothing", async () => {
    const id = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: "2026-11-28T10:00:00Z" });
    const before = await stored(id);
    const res = await stop(team.member.token, id, { end_time: "2026-11-28T11:00:00Z" });
    expect(res.status).toBe(409);
    expect(res.body).toEqual(notRunning);
    expect(await stored(id)).toEqual(before);
  });

  it("is 409 ENTRY_LOCKED for an invoiced entry", async () => {
    const invoiceId = await createInvoice(h, team.organizationId);
    const id = await createEntry(h, team.member, { invoiceId });
    const res = await stop(team.owner.token, id);
    expect(res.status).toBe(409);
    expect(res.body).toEqual(locked);
  });

  it("lets a member stop only their own entries; owner and admin stop anyone's", async () => {
    const theirs = await createEntry(h, team.otherMember, { start: "2026-11-28T09:00:00Z", end: null });
    const res = await stop(team.member.token, theirs, { end_time: "2026-11-28T10:00:00Z" });
    expect(res.status).toBe(404);
    expect(res.body).toEqual(notFound);
    expect((await stored(theirs))?.end_time).toBeNull();
    const missing = await stop(team.member.token, crypto.randomUUID(), { end_time: "2026-11-28T10:00:00Z" });
    expect(missing.body).toEqual(res.body);

    const byAdmin = await stop(team.admin.token, theirs, { end_time: "2026-11-28T10:00:00Z" });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.data).toMatchObject({ id: theirs, user_id: team.otherMember.id, duration: 3600 });
  });

  it("is 404 for another organization's entry", async () => {
    const stranger = await createMember(h, await createOrganization(h, "Elsewhere"), "owner");
    const theirs = await createEntry(h, stranger, { end: null });
    const res = await stop(team.owner.token, theirs);
    expect(res.status).toBe(404);
    expect(res.body).toEqual(notFound);
    expect((await stored(theirs))?.end_time).toBeNull();
  });

  it("costs one round trip, also when refused", async () => {
    const running = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const stopped = await createEntry(h, team.member);
    for (const [id, status] of [
      [running, 200],
      [stopped, 409],
    ] as const) {
      const trips = await h.roundTrips(async () => {
        expect((await stop(team.member.token, id)).status).toBe(status);
      });
      expect(trips).toBe(1);
    }
  });
});

describe("POST /v1/time-entries/{id}/restart", () => {
  const restart = (token: string, id: string) => h.call("POST", `/v1/time-entries/${id}/restart`, { token });

  it("starts a new running entry for the caller now, copying project, description and billable", async () => {
    const projectId = await createProject(h, team.organizationId, { name: "P", hourlyRate: "10", currency: "EUR" });
    const id = await createEntry(h, team.member, { projectId, description: "Sprint planning", billable: true });
    const before = await stored(id);
    const started = Date.now();

    const res = await restart(team.member.token, id);

    expect(res.status).toBe(201);
    expect(TimeEntryEnvelope.parse(res.body)).toEqual(res.body);
    expect(res.headers.get("Location")).toBe(`/v1/time-entries/${res.body.data.id}`);
    expect(res.body.data).toMatchObject({
      user_id: team.member.id,
      project_id: projectId,
      description: "Sprint planning",
      billable: true,
      end_time: null,
      duration: null,
      invoice_id: null,
      project: { id: projectId, name: "P" },
    });
    expect(res.body.data.id).not.toBe(id);
    expect(Date.parse(res.body.data.start_time)).toBeGreaterThanOrEqual(started - 1000);
    expect(Date.parse(res.body.data.start_time)).toBeLessThanOrEqual(Date.now() + 1000);
    expect(await stored(id)).toEqual(before);
    expect(await runningOf(team.member.id)).toEqual([{ id: res.body.data.id }]);
  });

  it("restarts another member's entry for an admin, as the admin's own timer", async () => {
    const theirs = await createEntry(h, team.member, { description: "theirs", billable: false });
    const res = await restart(team.admin.token, theirs);
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ user_id: team.admin.id, description: "theirs", billable: false });
    expect(await runningOf(team.member.id)).toEqual([]);
  });

  it("is 409 TIMER_ALREADY_RUNNING when the caller's timer runs, naming it", async () => {
    const running = await createEntry(h, team.member, { end: null });
    const done = await createEntry(h, team.member);
    for (const id of [done, running]) {
      const res = await restart(team.member.token, id);
      expect(res.status).toBe(409);
      expect(res.body).toEqual(alreadyRunning(running));
    }
    expect(await runningOf(team.member.id)).toEqual([{ id: running }]);
  });

  it("is 404 for another member's entry (as a member) and another organization's", async () => {
    const theirs = await createEntry(h, team.otherMember);
    const stranger = await createMember(h, await createOrganization(h, "Elsewhere"), "owner");
    const foreign = await createEntry(h, stranger);
    for (const [token, id] of [
      [team.member.token, theirs],
      [team.owner.token, foreign],
      [team.member.token, crypto.randomUUID()],
    ] as const) {
      const res = await restart(token, id);
      expect(res.status).toBe(404);
      expect(res.body).toEqual(notFound);
    }
    expect(await runningOf(team.member.id)).toEqual([]);
    expect(await runningOf(team.owner.id)).toEqual([]);
  });

  it("costs one round trip, also when refused", async () => {
    const id = await createEntry(h, team.member);
    for (const status of [201, 409]) {
      const trips = await h.roundTrips(async () => {
        expect((await restart(team.member.token, id)).status).toBe(status);
      });
      expect(trips).toBe(1);
    }
  });
});

describe("POST /v1/time-entries with stop_running", () => {
  const create = (token: string, body: unknown) => h.call("POST", "/v1/time-entries", { token, body });

  it("stops the running timer at the new start_time and starts the new one", async () => {
    const running = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const res = await create(team.member.token, {
      start_time: "2026-11-28T11:30:00+01:00",
      description: "next",
      stop_running: true,
    });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      start_time: "2026-11-28T10:30:00.000Z",
      end_time: null,
      description: "next",
    });
    const stopped = await h.call("GET", `/v1/time-entries/${running}`, { token: team.member.token });
    expect(stopped.body.data).toMatchObject({ end_time: "2026-11-28T10:30:00.000Z", duration: 5400 });
    expect(await runningOf(team.member.id)).toEqual([{ id: res.body.data.id }]);
  });

  it("just starts the timer when none runs", async () => {
    const res = await create(team.member.token, {
      start_time: "2026-11-28T09:00:00Z",
      description: "x",
      stop_running: true,
    });
    expect(res.status).toBe(201);
    expect(await runningOf(team.member.id)).toEqual([{ id: res.body.data.id }]);
  });

  it("is still 409 without stop_running, or with stop_running: false", async () => {
    const running = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    for (const extra of [{}, { stop_running: false }]) {
      const res = await create(team.member.token, { start_time: "2026-11-28T10:00:00Z", description: "x", ...extra });
      expect(res.status).toBe(409);
      expect(res.body).toEqual(alreadyRunning(running));
    }
    expect((await stored(running))?.end_time).toBeNull();
  });

  it("is 409 when the running timer started at or after the new start_time, changing nothing", async () => {
    const running = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const before = await stored(running);
    for (const start_time of ["2026-11-28T09:00:00Z", "2026-11-28T08:00:00Z"]) {
      const res = await create(team.member.token, { start_time, description: "x", stop_running: true });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        error: {
          code: "TIMER_ALREADY_RUNNING",
          message:
            "The running timer of this user started at or after this start_time: stop_running cannot stop it there",
          details: { running_entry_id: running },
        },
      });
    }
    expect(await stored(running)).toEqual(before);
    expect(await runningOf(team.member.id)).toEqual([{ id: running }]);
  });

  it("stops nothing when the new entry is refused for another reason", async () => {
    const running = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const res = await create(team.member.token, {
      start_time: "2026-11-28T10:00:00Z",
      description: "x",
      project_id: crypto.randomUUID(),
      stop_running: true,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({ project_id: ["No such project in this organization"] });
    expect((await stored(running))?.end_time).toBeNull();
  });

  it("leaves the running timer alone for a completed entry", async () => {
    const running = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const res = await create(team.member.token, {
      start_time: "2026-11-27T09:00:00Z",
      end_time: "2026-11-27T10:00:00Z",
      description: "yesterday",
      stop_running: true,
    });
    expect(res.status).toBe(201);
    expect((await stored(running))?.end_time).toBeNull();
  });

  it("on behalf of a member, stops that member's timer: the one the new entry would collide with", async () => {
    const admins = await createEntry(h, team.admin, { start: "2026-11-28T08:00:00Z", end: null });
    const members = await createEntry(h, team.member, { start: "2026-11-28T08:30:00Z", end: null });
    const res = await create(team.admin.token, {
      user_id: team.member.id,
      start_time: "2026-11-28T09:00:00Z",
      description: "x",
      stop_running: true,
    });
    expect(res.status).toBe(201);
    const stopped = await h.call("GET", `/v1/time-entries/${members}`, { token: team.member.token });
    expect(stopped.body.data).toMatchObject({ end_time: "2026-11-28T09:00:00.000Z", duration: 1800 });
    expect((await stored(admins))?.end_time).toBeNull();
  });

  it("stops only the caller's own timer", async () => {
    const mine = await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const theirs = await createEntry(h, team.otherMember, { start: "2026-11-28T09:00:00Z", end: null });
    const res = await create(team.otherMember.token, {
      start_time: "2026-11-28T10:00:00Z",
      description: "x",
      stop_running: true,
    });
    expect(res.status).toBe(201);
    expect((await stored(mine))?.end_time).toBeNull();
    expect((await stored(theirs))?.end_time).not.toBeNull();
  });

  it("costs one round trip", async () => {
    await createEntry(h, team.member, { start: "2026-11-28T09:00:00Z", end: null });
    const trips = await h.roundTrips(async () => {
      const res = await create(team.member.token, {
        start_time: "2026-11-28T10:00:00Z",
        description: "x",
        stop_running: true,
      });
      expect(res.status).toBe(201);
    });
    expect(trips).toBe(1);
  });
});
