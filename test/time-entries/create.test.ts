import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import app from "../../src/app";
import { TimeEntryEnvelope } from "../../src/routes/time-entries/time-entries.schemas";
import {
  createEntry,
  createMember,
  createOrganization,
  createProject,
  createTeam,
  type Team,
} from "../support/factories";
import { type Harness, startHarness } from "../support/harness";

let h: Harness;
let team: Team;
let ratedProject: string;
let unratedProject: string;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

beforeEach(async () => {
  team = await createTeam(h);
  ratedProject = await createProject(h, team.organizationId, { name: "Rated", hourlyRate: "95.00", currency: "USD" });
  unratedProject = await createProject(h, team.organizationId, { name: "Unrated" });
});

const post = (token: string, body: unknown) => h.call("POST", "/v1/time-entries", { token, body });

describe("POST /v1/time-entries", () => {
  it("creates a stopped entry: 201, Location, the entry in UTC", async () => {
    const res = await post(team.member.token, {
      project_id: ratedProject,
      start_time: "2026-11-28T09:00:00+01:00",
      end_time: "2026-11-28T10:30:00.250+01:00",
      description: "Sprint planning",
    });
    expect(res.status).toBe(201);
    expect(TimeEntryEnvelope.parse(res.body)).toEqual(res.body);
    const entry = res.body.data;
    expect(res.headers.get("Location")).toBe(`/v1/time-entries/${entry.id}`);
    expect(entry).toMatchObject({
      organization_id: team.organizationId,
      user_id: team.member.id,
      project_id: ratedProject,
      start_time: "2026-11-28T08:00:00.000Z",
      end_time: "2026-11-28T09:30:00.250Z",
      duration: 5400,
      description: "Sprint planning",
      billable: true,
      invoice_id: null,
      user: { id: team.member.id, full_name: "Mia Member" },
      project: { id: ratedProject, name: "Rated", hourly_rate: 95, currency: "USD", customer: null, customer_id: null },
      invoice: null,
    });
    expect(entry.created_at).toBe(entry.updated_at);

    const again = await h.call("GET", `/v1/time-entries/${entry.id}`, { token: team.member.token });
    expect(again.body).toEqual(res.body);
  });

  it("starts a running timer when end_time is omitted or null", async () => {
    const res = await post(team.member.token, { start_time: "2026-11-28T09:00:00Z", description: "" });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ end_time: null, duration: null, description: "", project: null });

    const other = await post(team.otherMember.token, {
      start_time: "2026-11-28T09:00:00Z",
      end_time: null,
      description: "x",
    });
    expect(other.status).toBe(201);
    expect(other.body.data.end_time).toBeNull();
  });

  it("refuses a second running timer with the running entry's id", async () => {
    const first = await post(team.member.token, { start_time: "2026-11-28T09:00:00Z", description: "first" });
    const second = await post(team.member.token, { start_time: "2026-11-28T10:00:00Z", description: "second" });
    expect(second.status).toBe(409);
    expect(second.body).toEqual({
      error: {
        code: "TIMER_ALREADY_RUNNING",
        message: "A timer is already running for this user; stop it first",
        details: { running_entry_id: first.body.data.id },
      },
    });
    const [count] = await h.sql("select count(*) from time_entries where user_id = $1", [team.member.id]);
    expect(count?.count).toBe("1");
  });

  it("still records stopped entries while a timer runs", async () => {
    await post(team.member.token, { start_time: "2026-11-28T09:00:00Z", description: "running" });
    const res = await post(team.member.token, {
      start_time: "2026-11-27T09:00:00Z",
      end_time: "2026-11-27T10:00:00Z",
      description: "yesterday",
    });
    expect(res.status).toBe(201);
  });

  it("counts the one-timer rule per organization", async () => {
    const otherOrg = await createOrganization(h);
    await h.sql("insert into organization_members (organization_id, user_id, role) values ($1, $2, 'member')", [
      otherOrg,
      team.member.id,
    ]);
    await post(team.member.token, { start_time: "2026-11-28T09:00:00Z", description: "here" });
    const elsewhere = await post(await h.sessionToken(team.member.id, otherOrg), {
      start_time: "2026-11-28T09:00:00Z",
      description: "there",
    });
    expect(elsewhere.status).toBe(201);
  });

  it("defaults billable to whether the project has an hourly rate, and honours an explicit value", async () => {
    const base = { start_time: "2026-11-20T09:00:00Z", end_time: "2026-11-20T10:00:00Z", description: "x" };
    expect((await post(team.member.token, { ...base, project_id: ratedProject })).body.data.billable).toBe(true);
    expect((await post(team.member.token, { ...base, project_id: unratedProject })).body.data.billable).toBe(false);
    expect((await post(team.member.token, base)).body.data.billable).toBe(false);
    expect(
      (await post(team.member.token, { ...base, project_id: ratedProject, billable: false })).body.data.billable,
    ).toBe(false);
    expect((await post(team.member.token, { ...base, billable: true })).body.data.billable).toBe(true);
  });

  it("rejects a project of another organization exactly like one that does not exist", async () => {
    const otherOrg = await createOrganization(h);
    const foreignProject = await createProject(h, otherOrg);
    const base = { start_time: "2026-11-20T09:00:00Z", end_time: "2026-11-20T10:00:00Z", description: "x" };
    const foreign = await post(team.owner.token, { ...base, project_id: foreignProject });
    const missing = await post(team.owner.token, { ...base, project_id: crypto.randomUUID() });
    for (const res of [foreign, missing]) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: {
          code: "VALIDATION_ERROR",
          message: "Invalid project_id",
          details: { project_id: ["No such project in this organization"] },
        },
      });
    }
    const [count] = await h.sql("select count(*) from time_entries where organization_id = $1", [team.organizationId]);
    expect(count?.count).toBe("0");
  });

  it.each([
    ["a time without an offset", { start_time: "2026-11-28T09:00:00", description: "x" }, "start_time"],
    ["a date only", { start_time: "2026-11-28", description: "x" }, "start_time"],
    ["an impossible date", { start_time: "2026-02-30T09:00:00Z", description: "x" }, "start_time"],
    ["a number as time", { start_time: 1764320400, description: "x" }, "start_time"],
    ["a missing start_time", { description: "x" }, "start_time"],
    ["a missing description", { start_time: "2026-11-28T09:00:00Z" }, "description"],
    ["a null description", { start_time: "2026-11-28T09:00:00Z", description: null }, "description"],
    [
      "a description over 3000 characters",
      { start_time: "2026-11-28T09:00:00Z", description: "x".repeat(3001) },
      "description",
    ],
    ["a string billable", { start_time: "2026-11-28T09:00:00Z", description: "x", billable: "yes" }, "billable"],
    [
      "a project_id that is no UUID",
      { start_time: "2026-11-28T09:00:00Z", description: "x", project_id: 7 },
      "project_id",
    ],
  ])("rejects %s", async (_, body, field) => {
    const res = await post(team.member.token, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(res.body.error.message).toBe("Invalid request body");
    expect(Object.keys(res.body.error.details)).toEqual([field]);
  });

  it("takes t and z in lower case, as RFC 3339 allows, and answers in UTC as always", async () => {
    const res = await post(team.member.token, {
      start_time: "2026-11-28t09:00:00z",
      end_time: "2026-11-28t10:30:00+01:00",
      description: "x",
    });
    expect(res.status).toBe(201);
    expect([res.body.data.start_time, res.body.data.end_time]).toEqual([
      "2026-11-28T09:00:00.000Z",
      "2026-11-28T09:30:00.000Z",
    ]);
  });

  it("says Required for a start_time left out", async () => {
    const res = await post(team.member.token, { description: "x" });
    expect(res.body.error.details).toEqual({ start_time: ["Required"] });
  });

  it("explains the offset rule in the message", async () => {
    const res = await post(team.member.token, { start_time: "2026-11-28T09:00:00", description: "x" });
    expect(res.body.error.details).toEqual({
      start_time: ["Must be an RFC 3339 timestamp with an offset, e.g. 2026-11-28T09:00:00Z"],
    });
  });

  it.each([
    ["before", "2026-11-28T08:59:59Z"],
    ["equal to", "2026-11-28T09:00:00Z"],
    ["equal, in another offset, to", "2026-11-28T10:00:00+01:00"],
  ])("rejects an end_time %s start_time", async (_, end_time) => {
    const res = await post(team.member.token, { start_time: "2026-11-28T09:00:00Z", end_time, description: "x" });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({ end_time: ["Must be after start_time"] });
  });

  it("keeps a timestamp to the millisecond, dropping finer digits, and checks the order of what it keeps", async () => {
    const kept = await post(team.member.token, {
      start_time: "2026-11-28T09:00:00.9996+01:00",
      end_time: "2026-11-28T09:00:01.0004+01:00",
      description: "x",
    });
    expect(kept.status).toBe(201);
    expect([kept.body.data.start_time, kept.body.data.end_time]).toEqual([
      "2026-11-28T08:00:00.999Z",
      "2026-11-28T08:00:01.000Z",
    ]);
    // 0.4 ms apart, the same millisecond: Postgres' rounding made these equal after every check had passed (a 500).
    const same = await post(team.member.token, {
      start_time: "2026-11-28T09:00:00.0001Z",
      end_time: "2026-11-28T09:00:00.0005Z",
      description: "x",
    });
    expect(same.status).toBe(400);
    expect(same.body.error.details).toEqual({ end_time: ["Must be after start_time"] });
  });

  it.each([
    ["after year 9999 in UTC", "9999-12-31T22:00:00-05:00"],
    ["before year 1", "0001-01-01T00:00:00+14:00"],
    ["in year 0", "0000-06-01T00:00:00Z"],
  ])("rejects a start_time %s, which could not be written back as it was taken", async (_, start_time) => {
    const res = await post(team.member.token, { start_time, description: "x" });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({
      start_time: ["Must fall from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z in UTC"],
    });
  });

  it.each(["organization_id", "invoice_id", "id", "created_at", "duration", "version", "deleted_at", "surprise"])(
    "rejects the unknown or read-only field %s",
    async (field) => {
      const res = await post(team.member.token, {
        start_time: "2026-11-28T09:00:00Z",
        description: "x",
        [field]: field.endsWith("_id") || field === "id" ? crypto.randomUUID() : "2026-11-28T09:00:00Z",
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual({
        code: "VALIDATION_ERROR",
        message: "Invalid request body",
        details: { [field]: ["Unknown field"] },
      });
    },
  );

  it.each([
    ["malformed JSON", "{ not json"],
    ["an empty body", ""],
    ["a JSON array", "[]"],
    ["a JSON string", '"hello"'],
  ])("rejects %s with 400", async (_, raw) => {
    const res = await h.call("POST", "/v1/time-entries", { token: team.member.token, body: raw });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
  });

  it("rejects a body that is not JSON with 415", async () => {
    const res = await h.call("POST", "/v1/time-entries", {
      token: team.member.token,
      body: "start_time=2026-11-28T09:00:00Z",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(415);
    expect(res.body).toEqual({
      error: {
        code: "UNSUPPORTED_MEDIA_TYPE",
        message: "The request body must be sent as Content-Type: application/json",
      },
    });
  });

  it.each([
    ["whitespace before a parameter", "application/json ; charset=utf-8"],
    ["an empty parameter", "application/json;"],
    ["a trailing semicolon after a parameter", "application/json; charset=utf-8;"],
    ["a quoted parameter", 'application/json; charset="UTF-8"'],
    ["a +json subtype with a digit (RFC 6838 §4.2)", "application/vnd.example.v2+json"],
    ["a +json subtype with an underscore and a parameter", "application/vnd.a_b+json; charset=utf-8"],
    ["a +json subtype with a + of its own", "application/vnd.a+b+json"],
  ])("takes a JSON body whose Content-Type has %s (RFC 9110 §8.3.1)", async (_, contentType) => {
    const res = await h.call("POST", "/v1/time-entries", {
      token: team.member.token,
      body: JSON.stringify({ start_time: "2026-11-28T09:00:00Z", end_time: "2026-11-28T10:00:00Z", description: "x" }),
      headers: { "Content-Type": contentType },
    });
    expect(res.status).toBe(201);
  });

  it("still refuses a malformed Content-Type with 415", async () => {
    for (const contentType of ["application/json; charset", "application/json, text/plain", "application/jsonx"]) {
      const res = await h.call("POST", "/v1/time-entries", {
        token: team.member.token,
        body: JSON.stringify({ start_time: "2026-11-28T09:00:00Z", description: "x" }),
        headers: { "Content-Type": contentType },
      });
      expect(res.status, contentType).toBe(415);
    }
  });

  it("refuses a Content-Type of many empty parameters that fails at its end at once (no exponential backtracking)", async () => {
    const started = performance.now();
    const res = await h.call("POST", "/v1/time-entries", {
      token: team.member.token,
      body: JSON.stringify({ start_time: "2026-11-28T09:00:00Z", description: "x" }),
      headers: { "Content-Type": `application/json${";\t \t".repeat(13)}x` },
    });
    expect(res.status).toBe(415);
    // Seconds with whitespace on both sides of each ';' in the pattern, a few milliseconds now.
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("refuses a compressed body with 415 and Accept-Encoding: identity, and takes Content-Encoding: identity", async () => {
    const json = JSON.stringify({
      start_time: "2026-11-28T09:00:00Z",
      end_time: "2026-11-28T10:00:00Z",
      description: "x",
    });
    const send = (coding: string, body: Uint8Array | string) =>
      app.request(
        "/v1/time-entries",
        {
          method: "POST",
          headers: {
            Authorization: `Bearer ${team.member.token}`,
            "Content-Type": "application/json",
            "Content-Encoding": coding,
          },
          body,
        },
        h.env,
      );
    for (const coding of ["gzip", "br", "GZIP, identity"]) {
      const res = await send(coding, coding === "br" ? json : new Uint8Array(gzipSync(json)));
      expect([coding, res.status, res.headers.get("Accept-Encoding")]).toEqual([coding, 415, "identity"]);
      expect(await res.json()).toEqual({
        error: {
          code: "UNSUPPORTED_MEDIA_TYPE",
          message: "The request body must not be compressed: send it without Content-Encoding",
          details: { "Content-Encoding": [`Unsupported: ${coding.toLowerCase()}`] },
        },
      });
    }
    const [count] = await h.sql("select count(*) from time_entries where organization_id = $1", [team.organizationId]);
    expect(count?.count).toBe("0");
    expect((await send("identity", json)).status).toBe(201);
  });

  it("rejects a body that is not UTF-8 with 400 instead of storing U+FFFD, with or without an Idempotency-Key", async () => {
    const head = new TextEncoder().encode('{"start_time":"2026-11-28T09:00:00Z","description":"caf');
    const body = new Uint8Array([...head, 0xe9, ...new TextEncoder().encode('"}')]); // é in Latin-1
    for (const key of [undefined, crypto.randomUUID()]) {
      const res = await app.request(
        "/v1/time-entries",
        {
          method: "POST",
          headers: {
            Authorization: `Bearer ${team.member.token}`,
            "Content-Type": "application/json",
            ...(key && { "Idempotency-Key": key }),
          },
          body,
        },
        h.env,
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: {
          code: "VALIDATION_ERROR",
          message: "The request body is not valid UTF-8",
          details: { body: ["Must be JSON encoded in UTF-8"] },
        },
      });
    }
    const [count] = await h.sql("select count(*) from time_entries where organization_id = $1", [team.organizationId]);
    expect(count?.count).toBe("0");
  });

  it("rejects a body that is not UTF-8 under a Content-Type the validators take though RFC 9110 does not", async () => {
    const head = new TextEncoder().encode(
      '{"start_time":"2026-11-28T09:00:00Z","end_time":"2026-11-28T10:00:00Z","description":"caf',
    );
    const body = new Uint8Array([...head, 0xe9, ...new TextEncoder().encode('"}')]); // é in Latin-1
    // An unterminated quoted value; two Content-Type fields joined; a value that is no token.
    for (const contentType of [
      'application/json; charset="utf-8',
      "application/json; charset=utf-8, text/plain",
      "application/json; charset=utf 8",
    ]) {
      const res = await app.request(
        "/v1/time-entries",
        {
          method: "POST",
          headers: { Authorization: `Bearer ${team.member.token}`, "Content-Type": contentType },
          body,
        },
        h.env,
      );
      expect([contentType, res.status]).toEqual([contentType, 400]);
      expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
        "The request body is not valid UTF-8",
      );
    }
    const [count] = await h.sql("select count(*) from time_entries where organization_id = $1", [team.organizationId]);
    expect(count?.count).toBe("0");
  });

  it("rejects a stop whose optional body is not UTF-8", async () => {
    const id = await createEntry(h, team.member, { end: null });
    const res = await app.request(
      `/v1/time-entries/${id}/stop`,
      {
        method: "POST",
        headers: { Authorization: `Bearer ${team.member.token}`, "Content-Type": "application/json" },
        body: new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]),
      },
      h.env,
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      "The request body is not valid UTF-8",
    );
  });

  it("rejects a body over 64 KiB with 413", async () => {
    const res = await post(team.member.token, { start_time: "2026-11-28T09:00:00Z", description: "x".repeat(70_000) });
    expect(res.status).toBe(413);
    expect(res.body).toEqual({
      error: { code: "PAYLOAD_TOO_LARGE", message: "The request body is larger than 64 KiB" },
    });
  });

  it("records time only for the caller", async () => {
    const res = await post(team.owner.token, { start_time: "2026-11-28T09:00:00Z", description: "mine" });
    expect(res.body.data.user_id).toBe(team.owner.id);
    await createEntry(h, team.admin, { end: null });
    expect((await post(team.owner.token, { start_time: "2026-11-28T09:00:00Z", description: "x" })).status).toBe(409);
  });

  it("refuses a caller who is not a member of the organization", async () => {
    const outsider = await createMember(h, await createOrganization(h), "owner");
    const res = await post(await h.sessionToken(outsider.id, team.organizationId), {
      start_time: "2026-11-28T09:00:00Z",
      description: "x",
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: "FORBIDDEN", message: "You are not a member of this organization" } });
    const [count] = await h.sql("select count(*) from time_entries where organization_id = $1", [team.organizationId]);
    expect(count?.count).toBe("0");
  });
});
