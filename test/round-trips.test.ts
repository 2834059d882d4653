// Latency at the edge is dominated by round trips to the database: every
// operation in the OpenAPI document must cost exactly one SQL request when it
// succeeds (auth and membership included), and none when the token is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEntry, createProject, createTeam, type Team } from "./support/factories";
import { type CallOptions, type Harness, startHarness } from "./support/harness";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

type Call = { path: string; options?: CallOptions; status: number };

/** A successful call of each operation, keyed `METHOD /path` as in the OpenAPI document. */
const successfulCalls: Record<string, () => Promise<Call>> = {
  "GET /v1/time-entries": async () => ({ path: "/v1/time-entries?limit=5&q=a&start_date=2026-01-01", status: 200 }),
  "POST /v1/time-entries": async () => ({
    path: "/v1/time-entries",
    options: {
      body: {
        project_id: await createProject(h, team.organizationId, { hourlyRate: "10", currency: "EUR" }),
        start_time: "2026-11-28T09:00:00Z",
        end_time: "2026-11-28T10:00:00Z",
        description: "x",
      },
    },
    status: 201,
  }),
  "GET /v1/time-entries/{id}": async () => ({
    path: `/v1/time-entries/${await createEntry(h, team.owner)}`,
    status: 200,
  }),
  "PATCH /v1/time-entries/{id}": async () => ({
    path: `/v1/time-entries/${await createEntry(h, team.owner)}`,
    options: { body: { description: "changed", project_id: await createProject(h, team.organizationId) } },
    status: 200,
  }),
  "DELETE /v1/time-entries/{id}": async () => ({
    path: `/v1/time-entries/${await createEntry(h, team.owner)}`,
    status: 204,
  }),
};

async function documentedOperations() {
  const { body } = await h.call("GET", "/openapi.json");
  return Object.entries(body.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
    Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
  );
}

describe("one database round trip per request", () => {
  it("has a successful call for every documented /v1 operation", async () => {
    const operations = (await documentedOperations()).filter((op) => op.includes(" /v1/"));
    expect(operations.sort()).toEqual(Object.keys(successfulCalls).sort());
  });

  it.each(Object.keys(successfulCalls))("%s costs exactly one SQL request", async (operation) => {
    const method = operation.split(" ")[0] as string;
    const call = await successfulCalls[operation]?.();
    if (!call) throw new Error(`no call for ${operation}`);
    let status = 0;
    const trips = await h.roundTrips(async () => {
      status = (await h.call(method, call.path, { ...call.options, token: team.owner.token })).status;
    });
    expect(status).toBe(call.status);
    expect(trips).toBe(1);
  });

  it.each(Object.keys(successfulCalls))("%s costs no SQL request when the token is refused", async (operation) => {
    const method = operation.split(" ")[0] as string;
    const call = await successfulCalls[operation]?.();
    if (!call) throw new Error(`no call for ${operation}`);
    const trips = await h.roundTrips(async () => {
      const res = await h.call(method, call.path, { ...call.options, token: "not-a-token" });
      expect(res.status).toBe(401);
    });
    expect(trips).toBe(0);
  });

  it("costs one SQL request for the errors the database decides", async () => {
    const running = await createEntry(h, team.member, { end: null });
    const cases: [string, string, CallOptions][] = [
      [
        "POST",
        "/v1/time-entries",
        { body: { start_time: "2026-11-28T09:00:00Z", description: "x" }, token: team.member.token },
      ],
      ["GET", `/v1/time-entries/${crypto.randomUUID()}`, { token: team.member.token }],
      [
        "PATCH",
        `/v1/time-entries/${running}`,
        { body: { end_time: "2020-01-01T00:00:00Z" }, token: team.member.token },
      ],
      ["GET", `/v1/time-entries?user_id=${team.owner.id}`, { token: team.member.token }],
    ];
    for (const [method, path, options] of cases) {
      const trips = await h.roundTrips(async () => {
        const res = await h.call(method, path, options);
        expect(res.status).toBeGreaterThanOrEqual(400);
      });
      expect(trips, `${method} ${path}`).toBe(1);
    }
  });
});
