// Idempotency-Key under concurrency. The claim, the write and the stored answer are one
// statement, so a second request with the key cannot see the first one's claim until it
// commits; an advisory lock on the key (idempotency_claim) tells it that the key is in use,
// without waiting for the first to finish. A key that holds its answer is replayed without the lock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { onPostgres } from "../support/postgres";
import { concurrently } from "../support/races";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

const post = (key: string, description: string) =>
  h.call("POST", "/v1/time-entries", {
    token: team.member.token,
    body: { start_time: "2026-11-28T09:00:00Z", end_time: "2026-11-28T10:00:00Z", description },
    headers: { "Idempotency-Key": key },
  });

describe(`Idempotency-Key under concurrency (${onPostgres() ? "Postgres server" : "PGlite"})`, () => {
  it("concurrent retries of one request write it once: each hears the answer or 409 IDEMPOTENCY_KEY_IN_USE", async () => {
    const key = crypto.randomUUID();
    const description = `retried ${key}`;
    const answers = await concurrently(8, () => post(key, description));
    const rows = await h.sql("select id from time_entries where description = $1", [description]);
    expect(rows).toHaveLength(1);
    for (const res of answers) {
      if (res.status === 409) {
        expect(res.body.error.code).toBe("IDEMPOTENCY_KEY_IN_USE");
        expect(res.headers.get("Retry-After")).toBe("1");
      } else {
        expect(res.status).toBe(201);
        expect(res.body.data.id).toBe(rows[0]?.id);
      }
    }
    expect(answers.filter((res) => res.status === 201 && !res.headers.get("Idempotent-Replayed"))).toHaveLength(1);
  });

  // PGlite runs one statement at a time, so a statement cannot run while another holds the key.
  it.skipIf(!onPostgres())(
    "while another transaction holds the key, a request with it is 409 IN_USE; once it ends, the request runs",
    async () => {
      const key = crypto.randomUUID();
      const lock = [team.organizationId, team.member.id, key];
      const holder = h.backend.transaction([
        { query: "select pg_advisory_xact_lock(idempotency_lock_id($1, $2, $3))", params: lock },
        { query: "select pg_sleep(1.5)", params: [] },
      ]);
      // Until the holder has the lock: a try in a transaction of its own takes nothing for longer than itself.
      for (let free = true; free; ) {
        const [row] = await h.sql("select pg_try_advisory_xact_lock(idempotency_lock_id($1, $2, $3)) as free", lock);
        free = row?.free === "t";
      }
      const refused = await post(key, "while held");
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe("IDEMPOTENCY_KEY_IN_USE");
      expect(await h.sql("select id from time_entries where description = 'while held'")).toEqual([]);
      await holder;
      const after = await post(key, "while held");
      expect(after.status).toBe(201);
      expect(after.headers.get("Idempotent-Replayed")).toBeNull();
    },
  );

  it.skipIf(!onPostgres())(
    "once answered, retries that come together are each replayed, even while another holds the key's lock",
    async () => {
      const key = crypto.randomUUID();
      const first = await post(key, "answered once");
      expect(first.status).toBe(201);
      const lock = [team.organizationId, team.member.id, key];
      const holder = h.backend.transaction([
        { query: "select pg_advisory_xact_lock(idempotency_lock_id($1, $2, $3))", params: lock },
        { query: "select pg_sleep(1)", params: [] },
      ]);
      for (let free = true; free; ) {
        const [row] = await h.sql("select pg_try_advisory_xact_lock(idempotency_lock_id($1, $2, $3)) as free", lock);
        free = row?.free === "t";
      }
      const retries = await concurrently(12, () => post(key, "answered once"));
      expect(retries.map((res) => [res.status, res.headers.get("Idempotent-Replayed"), res.body.data?.id])).toEqual(
        Array(12).fill([201, "true", first.body.data.id]),
      );
      const mismatch = await post(key, "another request");
      expect([mismatch.status, mismatch.body.error.code]).toEqual([422, "IDEMPOTENCY_KEY_MISMATCH"]);
      await holder;
      expect(await h.sql("select id from time_entries where description = 'answered once'")).toHaveLength(1);
    },
  );
});
