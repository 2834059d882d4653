// Latency at the edge is dominated by round trips to the database: every
// operation in the OpenAPI document must cost exactly one SQL request when it
// succeeds (auth and membership included), and none when the token is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXPORT_PAGE_SIZE } from "../src/routes/time-entries/export.handlers";
import {
  createCustomer,
  createEntry,
  createInvoice,
  createMember,
  createOrganization,
  createProject,
  createTeam,
  type Team,
} from "./support/factories";
import { type CallOptions, type Harness, startHarness } from "./support/harness";
import { allowSubscriptions, insertDelivery, subscribe } from "./support/webhooks";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
  await allowSubscriptions(h, team.organizationId, 1000); // a subscription per operation walked
});
afterAll(() => h?.close());

type Call = { path: string; options?: CallOptions; status: number };

/** A successful call of each operation, keyed `METHOD /path` as in the OpenAPI document. */
const successfulCalls: Record<string, () => Promise<Call>> = {
  "GET /v1/time-entries": async () => ({ path: "/v1/time-entries?limit=5&q=a&start_date=2026-01-01", status: 200 }),
  "GET /v1/time-entries/summary": async () => ({
    path: "/v1/time-entries/summary?start_date=2026-11-01&end_date=2026-11-30&timezone=Europe/Berlin&group_by=project,week&rounding=up&rounding_minutes=15&billable=true",
    status: 200,
  }),
  // Fewer entries than a page: one request. Bigger exports cost one per page, the documented exception below.
  "GET /v1/time-entries/export": async () => ({ path: "/v1/time-entries/export?format=csv&q=a", status: 200 }),
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
  "PATCH /v1/time-entries": async () => ({
    path: "/v1/time-entries",
    options: {
      body: {
        ids: [await createEntry(h, team.member), await createEntry(h, team.owner)],
        changes: { project_id: await createProject(h, team.organizationId), billable: true, description: "bulk" },
      },
    },
    status: 200,
  }),
  "DELETE /v1/time-entries": async () => ({
    path: "/v1/time-entries",
    options: { body: { ids: [await createEntry(h, team.member), await createEntry(h, team.owner)] } },
    status: 204,
  }),
  "GET /v1/time-entries/current": async () => {
    await stopOwnersTimer();
    await createEntry(h, team.owner, { end: null });
    return { path: "/v1/time-entries/current", status: 200 };
  },
  "POST /v1/time-entries/{id}/stop": async () => {
    await stopOwnersTimer();
    return {
      path: `/v1/time-entries/${await createEntry(h, team.owner, { start: "2026-11-28T09:00:00Z", end: null })}/stop`,
      options: { body: { end_time: "2026-11-28T10:00:00Z" } },
      status: 200,
    };
  },
  "POST /v1/time-entries/{id}/restart": async () => {
    await stopOwnersTimer();
    return { path: `/v1/time-entries/${await createEntry(h, team.owner)}/restart`, status: 201 };
  },
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
  "GET /v1/projects": async () => ({ path: "/v1/projects?q=a&active=true", status: 200 }),
  "POST /v1/projects": async () => ({
    path: "/v1/projects",
    options: { body: { name: "P", customer_id: await customer(), hourly_rate: 10, currency: "EUR" } },
    status: 201,
  }),
  "GET /v1/projects/{id}": async () => ({ path: `/v1/projects/${await project()}`, status: 200 }),
  "PATCH /v1/projects/{id}": async () => ({
    path: `/v1/projects/${await project()}`,
    options: { body: { customer_id: await customer(), active: false } },
    status: 200,
  }),
  "DELETE /v1/projects/{id}": async () => ({ path: `/v1/projects/${await project()}`, status: 204 }),
  "GET /v1/customers": async () => ({ path: "/v1/customers?q=a", status: 200 }),
  "POST /v1/customers": async () => ({ path: "/v1/customers", options: { body: { name: "C" } }, status: 201 }),
  "GET /v1/customers/{id}": async () => ({ path: `/v1/customers/${await customer()}`, status: 200 }),
  "PATCH /v1/customers/{id}": async () => ({
    path: `/v1/customers/${await customer()}`,
    options: { body: { notes: "n" } },
    status: 200,
  }),
  "DELETE /v1/customers/{id}": async () => ({ path: `/v1/customers/${await customer()}`, status: 204 }),
  "GET /v1/invoices": async () => ({ path: "/v1/invoices?status=draft", status: 200 }),
  "POST /v1/invoices": async () => ({
    path: "/v1/invoices",
    options: { body: { customer_id: await customer(), number: crypto.randomUUID(), date: "2026-11-30" } },
    status: 201,
  }),
  "GET /v1/invoices/{id}": async () => ({ path: `/v1/invoices/${await invoice()}`, status: 200 }),
  "PATCH /v1/invoices/{id}": async () => ({
    path: `/v1/invoices/${await invoice()}`,
    options: { body: { status: "sent", number: crypto.randomUUID() } },
    status: 200,
  }),
  "DELETE /v1/invoices/{id}": async () => ({ path: `/v1/invoices/${await invoice()}`, status: 204 }),
  "POST /v1/invoices/{id}/time-entries": async () => {
    const customerId = await customer();
    const projectId = await createProject(h, team.organizationId, { customerId });
    return {
      path: `/v1/invoices/${await createInvoice(h, team.organizationId, { customerId })}/time-entries`,
      options: { body: { time_entry_ids: [await createEntry(h, team.member, { projectId })] } },
      status: 200,
    };
  },
  "DELETE /v1/invoices/{id}/time-entries": async () => {
    const invoiceId = await invoice();
    return {
      path: `/v1/invoices/${invoiceId}/time-entries`,
      options: { body: { time_entry_ids: [await createEntry(h, team.member, { invoiceId })] } },
      status: 200,
    };
  },
  "GET /v1/members": async () => ({ path: "/v1/members?status=all&role=member&q=a&limit=5", status: 200 }),
  "POST /v1/members": async () => ({
    path: "/v1/members",
    options: { body: { email: `${crypto.randomUUID()}@example.com`, full_name: "New", role: "member" } },
    status: 201,
  }),
  "GET /v1/members/{userId}": async () => ({ path: `/v1/members/${await member()}`, status: 200 }),
  "PATCH /v1/members/{userId}": async () => ({
    path: `/v1/members/${await member()}`,
    options: { body: { role: "admin" } },
    status: 200,
  }),
  // Offboarding with a running timer to stop: still one statement.
  "DELETE /v1/members/{userId}": async () => {
    const userId = await member();
    await createEntry(h, { id: userId, organizationId: team.organizationId }, { end: null });
    return { path: `/v1/members/${userId}`, status: 204 };
  },
  "GET /v1/organizations/current": async () => ({ path: "/v1/organizations/current", status: 200 }),
  "PATCH /v1/organizations/current": async () => ({
    path: "/v1/organizations/current",
    options: { body: { name: "Renamed", timezone: "Europe/Berlin", prevent_overlaps: false } },
    status: 200,
  }),
  "GET /v1/webhooks": async () => ({ path: "/v1/webhooks?limit=5", status: 200 }),
  "POST /v1/webhooks": async () => ({
    path: "/v1/webhooks",
    options: { body: { url: "https://hooks.example.com/x", events: ["*"], description: "d" } },
    status: 201,
  }),
  "GET /v1/webhooks/{id}": async () => ({ path: `/v1/webhooks/${await webhook()}`, status: 200 }),
  "PATCH /v1/webhooks/{id}": async () => ({
    path: `/v1/webhooks/${await webhook()}`,
    options: { body: { url: "https://hooks.example.com/y", events: ["timer.started"], active: false } },
    status: 200,
  }),
  "DELETE /v1/webhooks/{id}": async () => ({ path: `/v1/webhooks/${await webhook()}`, status: 204 }),
  "POST /v1/webhooks/{id}/rotate-secret": async () => ({
    path: `/v1/webhooks/${await webhook()}/rotate-secret`,
    status: 200,
  }),
  "POST /v1/webhooks/{id}/ping": async () => ({ path: `/v1/webhooks/${await webhook()}/ping`, status: 202 }),
  "GET /v1/webhooks/{id}/deliveries": async () => {
    const id = await webhook();
    await insertDelivery(h, { organizationId: team.organizationId, id });
    return { path: `/v1/webhooks/${id}/deliveries?status=pending&limit=5`, status: 200 };
  },
  "POST /v1/webhooks/{id}/deliveries/{deliveryId}/retry": async () => {
    const id = await webhook();
    const delivery = await insertDelivery(h, { organizationId: team.organizationId, id });
    return { path: `/v1/webhooks/${id}/deliveries/${delivery}/retry`, status: 202 };
  },
  "GET /v1/me": async () => ({ path: "/v1/me", status: 200 }),
};

/** Each timer operation's call is made twice; the owner may run one timer at a time. */
const stopOwnersTimer = () =>
  h.sql("update time_entries set end_time = start_time + interval '1 hour' where user_id = $1 and end_time is null", [
    team.owner.id,
  ]);
const customer = () => createCustomer(h, team.organizationId);
const member = async () => (await createMember(h, team.organizationId, "member")).id;
const project = () => createProject(h, team.organizationId);
const invoice = async () => createInvoice(h, team.organizationId, { customerId: await customer() });
const webhook = async () => (await subscribe(h, team.organizationId, { events: ["invoice.status_changed"] })).id;

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

  // The key is claimed, and the answer kept, in the operation's own statement; a retry replays it in one too.
  it.each(Object.keys(successfulCalls).filter((operation) => operation.startsWith("POST ")))(
    "%s with Idempotency-Key costs exactly one SQL request, and its retry one, answering the same",
    async (operation) => {
      const call = await successfulCalls[operation]?.();
      if (!call) throw new Error(`no call for ${operation}`);
      const options = { ...call.options, token: team.owner.token, headers: { "Idempotency-Key": crypto.randomUUID() } };
      const first = await h.counted(() => h.call("POST", call.path, options));
      expect(first.result.status, JSON.stringify(first.result.body)).toBe(call.status);
      expect(first.trips).toBe(1);
      const retry = await h.counted(() => h.call("POST", call.path, options));
      expect(retry.trips).toBe(1);
      expect(retry.result.status).toBe(call.status);
      expect(retry.result.body).toEqual(first.result.body);
      for (const header of ["Location", "ETag"]) {
        expect(retry.result.headers.get(header), header).toBe(first.result.headers.get(header));
      }
      expect(retry.result.headers.get("Idempotent-Replayed")).toBe("true");
    },
  );

  // Every POST's statement carries the caller's role, so a replay is refused once they lose it (the first call as the
  // owner, the retry after their removal; a second owner keeps the organization owned meanwhile).
  it.each(Object.keys(successfulCalls).filter((operation) => operation.startsWith("POST ")))(
    "%s with Idempotency-Key: a retry after the caller's removal is 403, in one SQL request",
    async (operation) => {
      const call = await successfulCalls[operation]?.();
      if (!call) throw new Error(`no call for ${operation}`);
      const options = { ...call.options, token: team.owner.token, headers: { "Idempotency-Key": crypto.randomUUID() } };
      expect((await h.call("POST", call.path, options)).status).toBe(call.status);
      const spareOwner = await createMember(h, team.organizationId, "owner");
      const setStatus = (userId: string, status: "active" | "removed") =>
        h.sql(
          `update organization_members set status = $3, removed_at = case when $3 = 'removed' then now() end
           where organization_id = $1 and user_id = $2`,
          [team.organizationId, userId, status],
        );
      await setStatus(team.owner.id, "removed");
      try {
        const retry = await h.counted(() => h.call("POST", call.path, options));
        expect([retry.result.status, retry.trips]).toEqual([403, 1]);
        expect(retry.result.body).toEqual({
          error: { code: "FORBIDDEN", message: "You are not a member of this organization" },
        });
      } finally {
        await setStatus(team.owner.id, "active");
        await setStatus(spareOwner.id, "removed");
      }
    },
  );

  const conditional = Object.keys(successfulCalls).filter((operation) =>
    /^(PATCH|DELETE) \/v1\/((time-entries|projects|customers|invoices|webhooks)\/\{id\}|members\/\{userId\})$/.test(
      operation,
    ),
  );

  it.each(
    conditional.flatMap((operation) => [
      [operation, '"1"'],
      [operation, '"9"'],
    ]),
  )("%s with If-Match: %s costs exactly one SQL request, whether it matches or not", async (operation, tag) => {
    const method = operation.split(" ")[0] as string;
    const call = await successfulCalls[operation]?.();
    if (!call) throw new Error(`no call for ${operation}`);
    let status = 0;
    const trips = await h.roundTrips(async () => {
      const options = { ...call.options, token: team.owner.token, headers: { "If-Match": tag } };
      status = (await h.call(method, call.path, options)).status;
    });
    expect(status).toBe(tag === '"1"' ? call.status : 412);
    expect(trips).toBe(1);
  });

  // The one documented exception (see the operation's description in /openapi.json): an export streams
  // keyset pages of EXPORT_PAGE_SIZE entries, one statement each, fetched as the client reads.
  it("GET /v1/time-entries/export costs one SQL request per page of entries, one when empty", async () => {
    const org = await createOrganization(h, "Export");
    const owner = await createMember(h, org, "owner");
    let seeded = 0;
    const seedUpTo = (count: number) => {
      const from = seeded + 1;
      seeded = count;
      return h.sql(
        `insert into time_entries (organization_id, user_id, start_time, end_time, description)
         select $1, $2, timestamptz '2026-01-01T00:00:00Z' + n * interval '1 hour',
           timestamptz '2026-01-01T00:30:00Z' + n * interval '1 hour', 'Entry ' || n
         from generate_series($3::int, $4::int) n`,
        [org, owner.id, String(from), String(count)],
      );
    };
    for (const [entries, requests] of [
      [0, 1],
      [1, 1],
      [EXPORT_PAGE_SIZE, 1],
      [EXPORT_PAGE_SIZE + 1, 2],
      [2 * EXPORT_PAGE_SIZE, 2],
      [2 * EXPORT_PAGE_SIZE + 1, 3],
    ] as const) {
      await seedUpTo(entries);
      for (const format of ["csv", "json"]) {
        let lines = 0;
        const trips = await h.roundTrips(async () => {
          const res = await h.call("GET", `/v1/time-entries/export?format=${format}`, { token: owner.token });
          expect(res.status).toBe(200);
          lines = res.body.split("\n").length - 1;
        });
        expect(lines, `${entries} entries, ${format}`).toBe(format === "csv" ? entries + 1 : entries);
        expect(trips, `${entries} entries, ${format}`).toBe(requests);
      }
    }
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
      [
        "GET",
        `/v1/time-entries/summary?start_date=2026-11-01&end_date=2026-11-30&user_id=${team.owner.id}`,
        { token: team.member.token },
      ],
      ["GET", `/v1/time-entries/export?format=csv&user_id=${team.owner.id}`, { token: team.member.token }],
      // The last owner's rule is a trigger's: its refusal comes back with the one statement.
      ["PATCH", `/v1/members/${team.owner.id}`, { body: { role: "member" }, token: team.owner.token }],
      ["POST", "/v1/members", { body: { email: "x@example.com", role: "owner" }, token: team.admin.token }],
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
