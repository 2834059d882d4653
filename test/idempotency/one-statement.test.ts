// Idempotency-Key in the request's own statement: the claim, the write and the stored
// result commit together in one round trip, and what is not such a statement's result
// (an answer before any SQL, a statement the database refused, a 5xx) is handled apart.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { LOCAL_DRIVER_URL } from "../../dev/database";
import type { Query } from "../../dev/sql-backends";
import { createDb } from "../../src/db/client";
import { queryOne } from "../../src/db/query";
import { createApp } from "../../src/lib/create-app";
import { idempotency } from "../../src/middleware/idempotency";
import { createMember, createOrganization, createTeam, type Member, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { requestHash } from "./request-hash";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

const entry = (description: string, start = "2026-11-28T09:00:00Z", end = "2026-11-28T10:00:00Z") => ({
  start_time: start,
  end_time: end,
  description,
});
const post = (key: string, body: unknown, member: Member = team.member) =>
  h.call("POST", "/v1/time-entries", { token: member.token, body, headers: { "Idempotency-Key": key } });
const storedKey = async (key: string) =>
  (await h.sql("select response_status, response_body, result::text from idempotency_keys where key = $1", [key]))[0];

describe("Idempotency-Key in the request's own statement", () => {
  it("stores the statement's result rows with the write, and makes the same answer from them on a retry", async () => {
    const key = crypto.randomUUID();
    const { trips, result: first } = await h.counted(() => post(key, entry("kept with the write")));
    expect(trips).toBe(1);
    expect(first.status).toBe(201);
    const stored = await storedKey(key);
    expect(stored?.response_status).toBeNull();
    const [row] = JSON.parse(stored?.result ?? "[]");
    expect(row).toMatchObject({ role: "member", project_found: true, subject_found: true, running_entry_id: null });
    expect(row.entry).toEqual(first.body.data);

    const { trips: retryTrips, result: retry } = await h.counted(() => post(key, entry("kept with the write")));
    expect(retryTrips).toBe(1);
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get("Location")).toBe(first.headers.get("Location"));
    expect(retry.headers.get("ETag")).toBe(first.headers.get("ETag"));
    expect(retry.headers.get("ETag")).toBe('"1"');
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
  });

  it("claims the key before the statement's work: a one-time filter over the result", async () => {
    const captured: Query[] = [];
    const run = h.backend.query.bind(h.backend);
    h.backend.query = (query) => {
      captured.push(query);
      return run(query);
    };
    try {
      expect((await post(crypto.randomUUID(), entry("explained"))).status).toBe(201);
    } finally {
      h.backend.query = run;
    }
    expect(captured).toHaveLength(1);
    const [statement] = captured as [Query];
    expect(statement.query).toMatch(/\bidempotency_result as \(/);
    const [explained] = (
      await h.backend.query({ query: `explain (format json) ${statement.query}`, params: statement.params })
    ).rows[0] as [string];
    type PlanNode = {
      "Node Type": string;
      "One-Time Filter"?: string;
      "Parent Relationship"?: string;
      Plans?: PlanNode[];
    };
    const plan = (JSON.parse(String(explained)) as [{ Plan: PlanNode }])[0].Plan;
    // Result (One-Time Filter: the claim) over the scan of the result; the claim is an InitPlan of it.
    expect(plan["Node Type"]).toBe("Result");
    expect(plan["One-Time Filter"]).toBeDefined();
    expect(plan.Plans?.some((node) => node["Parent Relationship"] === "InitPlan")).toBe(true);
  });

  it("replays an answer stored as a response (by an earlier version, or for an answer before any SQL)", async () => {
    const key = crypto.randomUUID();
    const body = entry("stored as a response");
    const hash = await requestHash("POST", "/v1/time-entries", body);
    // A real entry's answer, with a version the request itself could not have made, so the replay shows it is the stored one.
    const made = await h.call("POST", "/v1/time-entries", {
      token: team.member.token,
      body: entry("the stored answer"),
    });
    const answer = { data: { ...made.body.data, version: 4 } };
    const location = `/v1/time-entries/${answer.data.id}`;
    await h.sql(
      `insert into idempotency_keys (organization_id, user_id, key, request_hash, response_status, response_body, response_location)
       values ($1, $2, $3, $4, 201, $5, $6)`,
      [team.organizationId, team.member.id, key, hash, JSON.stringify(answer), location],
    );
    const { trips, result: replay } = await h.counted(() => post(key, body));
    expect(trips).toBe(1);
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(answer);
    expect(replay.headers.get("Location")).toBe(location);
    expect(replay.headers.get("ETag")).toBe('"4"');
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await h.sql("select id from time_entries where description = 'stored as a response'")).toEqual([]);
  });

  it("an answer before any SQL (a 400) is claimed and stored in one round trip, and the key then holds it", async () => {
    const key = crypto.randomUUID();
    const invalid = { ...entry("invalid"), end_time: "2026-11-28T08:00:00Z" };
    const first = await h.counted(() => post(key, invalid));
    expect([first.result.status, first.trips]).toEqual([400, 1]);
    expect((await storedKey(key))?.response_status).toBe("400");
    const { trips, result: retry } = await h.counted(() => post(key, invalid));
    expect([retry.status, trips]).toEqual([400, 1]);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.body.error.code).toBe("VALIDATION_ERROR");
    for (const other of [entry("now valid"), { ...invalid, description: "invalid too" }]) {
      const mismatch = await post(key, other);
      expect(mismatch.status).toBe(422);
      expect(mismatch.body.error.code).toBe("IDEMPOTENCY_KEY_MISMATCH");
    }
    expect(await h.sql("select id from time_entries where description = 'now valid'")).toEqual([]);
  });

  it("a write the database refuses keeps nothing, not even the claim; its 4xx is stored after the answer", async () => {
    const organizationId = await createOrganization(h, "Strict");
    await h.sql("update organizations set prevent_overlaps = true where id = $1", [organizationId]);
    const owner = await createMember(h, organizationId, "owner");
    expect((await post(crypto.randomUUID(), entry("first"), owner)).status).toBe(201);

    const key = crypto.randomUUID();
    const overlapping = entry("overlapping", "2026-11-28T09:30:00Z", "2026-11-28T10:30:00Z");
    // One round trip for the statement, one after the answer to store it (awaited here, in waitUntil in a Worker).
    const { trips, result: first } = await h.counted(() => post(key, overlapping, owner));
    expect(trips).toBe(2);
    expect(first.status).toBe(409);
    expect(first.body.error.code).toBe("OVERLAP");

    const retry = await post(key, overlapping, owner);
    expect(retry.status).toBe(409);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await h.sql("select id from time_entries where description = 'overlapping'")).toEqual([]);
  });

  it("a 5xx is not kept: a statement that failed leaves the key free, and the retry runs again", async () => {
    await h.sql(`create function fail_on_purpose() returns trigger language plpgsql as $$
      begin raise exception 'failing on purpose' using errcode = 'XX000'; end $$`);
    await h.sql(`create trigger fail_on_purpose before insert on time_entries for each row
      when (new.description = 'fails once') execute function fail_on_purpose()`);
    const key = crypto.randomUUID();
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const first = await post(key, entry("fails once"));
      expect(first.status).toBe(500);
      expect(log).toHaveBeenCalledOnce();
    } finally {
      log.mockRestore();
      await h.sql("drop trigger fail_on_purpose on time_entries");
      await h.sql("drop function fail_on_purpose()");
    }
    expect(await storedKey(key)).toBeUndefined();
    const retry = await post(key, entry("fails once"));
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("a 5xx after the statement ran releases the key it stored", async () => {
    const app = createApp();
    app.use(async (c, next) => {
      c.set("db", createDb(LOCAL_DRIVER_URL, h.endpoint.url));
      c.set("caller", {
        userId: team.member.id,
        organizationId: team.organizationId,
        tokenType: "session",
        scopes: null,
        clientId: null,
      });
      await next();
    });
    app.use(idempotency);
    app.post("/answers-500", async (c) => {
      await queryOne(c.get("db"), sql`with one as (select 1 as n) select n from one`);
      return c.json({ failed: true }, 500);
    });
    const key = crypto.randomUUID();
    const res = await app.request("/answers-500", { method: "POST", headers: { "Idempotency-Key": key } });
    expect(res.status).toBe(500);
    expect(await storedKey(key)).toBeUndefined();
  });
});
