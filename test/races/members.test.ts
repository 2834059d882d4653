// The last active owner under concurrency: the rule lives in the database (a trigger serialised per organization),
// so two owners demoting or removing each other at the same moment cannot leave the organization without one.
// Meaningful on a real Postgres server (TEST_BACKEND=postgres, as .ci/run does); PGlite serialises the requests.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMember, createOrganization } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { onPostgres } from "../support/postgres";
import { concurrently } from "../support/races";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

const activeOwners = async (organizationId: string) =>
  (
    await h.sql(
      "select count(*) from organization_members where organization_id = $1 and role = 'owner' and status = 'active'",
      [organizationId],
    )
  )[0]?.count;

/**
 * One request wins. The other sees the winner's change: as 409 LAST_OWNER when both statements ran at once (the
 * trigger's check), or as 403 when it started after the winner committed (its caller is no longer an active owner).
 */
function expectOneWinner(responses: { status: number; body: { error?: { code: string } } }[], success: number) {
  const [won, lost] = [...responses].sort((x, y) => x.status - y.status);
  expect(won?.status).toBe(success);
  expect([403, 409]).toContain(lost?.status);
  expect(lost?.body.error?.code).toBe(lost?.status === 409 ? "LAST_OWNER" : "FORBIDDEN");
}

describe(`the last owner under concurrency (${onPostgres() ? "Postgres server" : "PGlite"})`, () => {
  it("two owners demoting each other at the same moment: exactly one succeeds, the other is 409 LAST_OWNER", async () => {
    for (let round = 0; round < 5; round++) {
      const org = await createOrganization(h);
      const [a, b] = [await createMember(h, org, "owner"), await createMember(h, org, "owner")];
      const responses = await concurrently(2, (i) => {
        const [caller, target] = i === 0 ? [a, b] : [b, a];
        return h.call("PATCH", `/v1/members/${target.id}`, { token: caller.token, body: { role: "admin" } });
      });
      expectOneWinner(responses, 200);
      expect(await activeOwners(org)).toBe("1");
    }
  });

  it("two owners removing each other (or leaving) at the same moment: one stays", async () => {
    for (let round = 0; round < 5; round++) {
      const org = await createOrganization(h);
      const [a, b] = [await createMember(h, org, "owner"), await createMember(h, org, "owner")];
      const responses = await concurrently(2, (i) => {
        const [caller, target] = i === 0 ? [a, b] : [b, a];
        return h.call("DELETE", `/v1/members/${target.id}`, { token: caller.token });
      });
      expectOneWinner(responses, 204);
      expect(await activeOwners(org)).toBe("1");
    }
  });
});

// PGlite runs the requests one after the other: only a server can race them.
describe.skipIf(!onPostgres())("a new address added by several requests at once (Postgres server)", () => {
  it("makes one person: each request answers 201 or 409 ALREADY_MEMBER, never a 500", async () => {
    for (let round = 0; round < 25; round++) {
      const organizations = [await createOrganization(h), await createOrganization(h)];
      const owners = [
        await createMember(h, organizations[0] as string, "owner"),
        await createMember(h, organizations[1] as string, "owner"),
      ];
      const email = `new-${crypto.randomUUID()}@example.com`;
      const responses = await concurrently(4, (i) =>
        h.call("POST", "/v1/members", { token: owners[i % 2]?.token, body: { email, role: "member" } }),
      );
      const outcomes = responses.map((res) => `${res.status} ${res.body.error?.code ?? ""}`.trim()).sort();
      expect(outcomes).toEqual(["201", "201", "409 ALREADY_MEMBER", "409 ALREADY_MEMBER"]);
      expect(await h.sql("select count(*) from users where email = $1", [email])).toEqual([{ count: "1" }]);
    }
  });
});
