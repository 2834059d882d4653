// Concurrent conditional writes: If-Match is decided inside the UPDATE or
// DELETE itself, on the row it locks, so of many writers holding the same ETag
// exactly one wins and the others see the version it made. Meaningful on a
// real Postgres server (TEST_BACKEND=postgres, as .ci/run does); on PGlite the
// requests are serialised but must give the same answers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCustomer, createEntry, createInvoice, createProject, createTeam, type Team } from "../support/factories";
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

const statuses = (responses: { status: number }[]) => responses.map((r) => r.status).sort();

describe(`concurrent writes with the same If-Match (${onPostgres() ? "Postgres server" : "PGlite"})`, () => {
  it("10 PATCHes of one entry: exactly one 200, nine 412, and the winner's change is the one stored", async () => {
    for (let round = 0; round < 3; round++) {
      const id = await createEntry(h, team.member);
      const responses = await concurrently(10, (i) =>
        h.call("PATCH", `/v1/time-entries/${id}`, {
          token: team.member.token,
          body: { description: `writer ${i}` },
          headers: { "If-Match": '"1"' },
        }),
      );
      expect(statuses(responses)).toEqual([200, ...Array(9).fill(412)]);
      const winner = responses.find((r) => r.status === 200);
      expect(winner?.headers.get("ETag")).toBe('"2"');
      for (const res of responses.filter((r) => r.status === 412)) {
        expect(res.body.error.code).toBe("PRECONDITION_FAILED");
      }
      const rows = await h.sql("select version, description from time_entries where id = $1", [id]);
      expect(rows).toEqual([{ version: "2", description: winner?.body.data.description }]);
    }
  });

  it("without If-Match the same 10 PATCHes all succeed, one after another (last writer wins)", async () => {
    const id = await createEntry(h, team.member);
    const responses = await concurrently(10, (i) =>
      h.call("PATCH", `/v1/time-entries/${id}`, { token: team.member.token, body: { description: `writer ${i}` } }),
    );
    expect(statuses(responses)).toEqual(Array(10).fill(200));
    expect(responses.map((r) => r.body.data.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(await h.sql("select version from time_entries where id = $1", [id])).toEqual([{ version: "11" }]);
  });

  it("a PATCH and a DELETE of one entry with the same If-Match: one wins, the other is 412", async () => {
    for (let round = 0; round < 5; round++) {
      const id = await createEntry(h, team.member);
      const responses = await concurrently(6, (i) =>
        i % 2 === 0
          ? h.call("PATCH", `/v1/time-entries/${id}`, {
              token: team.member.token,
              body: { description: `writer ${i}` },
              headers: { "If-Match": '"1"' },
            })
          : h.call("DELETE", `/v1/time-entries/${id}`, { token: team.member.token, headers: { "If-Match": '"1"' } }),
      );
      const won = responses.filter((r) => r.status === 200 || r.status === 204);
      expect(won).toHaveLength(1);
      // The losers find the entry changed (412), or gone when the DELETE won (404).
      for (const res of responses.filter((r) => !won.includes(r))) expect([404, 412]).toContain(res.status);
      const [row] = await h.sql(
        "select version, (deleted_at is not null)::text as deleted from time_entries where id = $1",
        [id],
      );
      expect(row).toEqual({ version: "2", deleted: won[0]?.status === 204 ? "true" : "false" });
    }
  });

  it("10 PATCHes of one project, customer and invoice each: one 200 and nine 412 for each", async () => {
    const customerId = await createCustomer(h, team.organizationId);
    const targets = [
      { path: `/v1/projects/${await createProject(h, team.organizationId)}`, body: (i: number) => ({ name: `P${i}` }) },
      { path: `/v1/customers/${customerId}`, body: (i: number) => ({ notes: `n${i}` }) },
      {
        path: `/v1/invoices/${await createInvoice(h, team.organizationId, { customerId })}`,
        body: (i: number) => ({ number: `INV-RACE-${i}` }),
      },
    ];
    for (const target of targets) {
      const responses = await concurrently(10, (i) =>
        h.call("PATCH", target.path, { token: team.owner.token, body: target.body(i), headers: { "If-Match": '"1"' } }),
      );
      expect(statuses(responses), target.path).toEqual([200, ...Array(9).fill(412)]);
    }
  });
});
