// A subscription sends its events' resources to a URL of the caller's choosing: an OAuth token may subscribe only
// to events whose data it could read itself, on create and on every change.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { missingEventScopes } from "../../src/webhooks/event-types";
import { createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
});
beforeEach(async () => {
  team = await createTeam(h);
});
afterAll(() => h?.close());

const url = "https://hooks.example.com/time-entries";
const token = (scope: string) => h.issuer.sign({ userId: team.owner.id, organizationId: team.organizationId, scope });
const subscriptions = async () =>
  (
    await h.sql(
      "select url, array_to_string(events, ',') as events from webhook_subscriptions where organization_id = $1",
      [team.organizationId],
    )
  ).map((row) => ({ url: row.url, events: row.events }));

function expectMissing(res: Awaited<ReturnType<typeof h.call>>, scope: string, message: string) {
  expect(res.status).toBe(403);
  expect(res.body.error).toEqual({ code: "INSUFFICIENT_SCOPE", message, details: { required_scope: scope } });
  expect(res.headers.get("WWW-Authenticate")).toContain(`error="insufficient_scope", scope="${scope}"`);
}

describe("webhook events and OAuth scopes", () => {
  it("refuses to subscribe a token to events whose data it may not read, and writes nothing", async () => {
    const webhooksOnly = await token("webhooks:write");
    const invoices = await h.call("POST", "/v1/webhooks", {
      token: webhooksOnly,
      body: { url, events: ["invoice.updated", "member.updated"] },
    });
    expectMissing(
      invoices,
      "invoices:read team:read",
      "These events carry data the token may not read: subscribing to them needs the invoices:read and team:read scopes",
    );
    const all = await h.call("POST", "/v1/webhooks", { token: webhooksOnly, body: { url, events: ["*"] } });
    expect(all.body.error.details).toEqual({ required_scope: "entries:read invoices:read team:read" });
    expect(await subscriptions()).toEqual([]);

    const entries = await h.call("POST", "/v1/webhooks", {
      token: await token("webhooks:write entries:read"),
      body: { url, events: ["time_entry.created", "timer.started", "project.updated"] },
    });
    expect(entries.status).toBe(201);
    const every = await h.call("POST", "/v1/webhooks", {
      token: await token("webhooks:write entries:read invoices:read team:read"),
      body: { url, events: ["*"] },
    });
    expect(every.status).toBe(201);
  });

  it("refuses a change that leaves a subscription with events beyond the token's scopes, its URL above all", async () => {
    const everything = await h.call("POST", "/v1/webhooks", {
      token: team.owner.token,
      body: { url, events: ["*"] },
    });
    const id = everything.body.data.id;
    const webhooksOnly = await token("webhooks:write");
    const redirect = await h.call("PATCH", `/v1/webhooks/${id}`, {
      token: webhooksOnly,
      body: { url: "https://collector.example.net/all" },
    });
    expectMissing(
      redirect,
      "entries:read invoices:read team:read",
      "These events carry data the token may not read: subscribing to them needs the entries:read, invoices:read and team:read scopes",
    );
    const described = await h.call("PATCH", `/v1/webhooks/${id}`, {
      token: await token("webhooks:write entries:read"),
      body: { description: "mine now" },
    });
    expect(described.body.error.details).toEqual({ required_scope: "invoices:read team:read" });
    expect(await subscriptions()).toEqual([{ url, events: "*" }]);
    expect((await h.call("GET", `/v1/webhooks/${id}`, { token: team.owner.token })).body.data.version).toBe(1);

    // Narrowed to what the token reads, the change is its to make.
    const narrowed = await h.call("PATCH", `/v1/webhooks/${id}`, {
      token: await token("webhooks:write entries:read"),
      body: { url: "https://collector.example.net/entries", events: ["time_entry.updated"] },
    });
    expect(narrowed.status).toBe(200);
    expect(narrowed.body.data).toMatchObject({ events: ["time_entry.updated"], version: 2 });
    const renamed = await h.call("PATCH", `/v1/webhooks/${id}`, {
      token: await token("webhooks:write entries:read"),
      body: { description: "entries" },
    });
    expect(renamed.status).toBe(200);
  });

  it("keeps the signing secret of a subscription from a token that may not read its events' data", async () => {
    const everything = await h.call("POST", "/v1/webhooks", { token: team.owner.token, body: { url, events: ["*"] } });
    const id = everything.body.data.id;
    const rotated = await h.call("POST", `/v1/webhooks/${id}/rotate-secret`, {
      token: await token("webhooks:write entries:read"),
    });
    expect(rotated.status).toBe(403);
    expect(rotated.body.error.details).toEqual({ required_scope: "invoices:read team:read" });
    const [row] = await h.sql("select secret, version::text from webhook_subscriptions where id = $1", [id]);
    expect(row).toEqual({ secret: everything.body.data.secret, version: "1" });
    const allowed = await h.call("POST", `/v1/webhooks/${id}/rotate-secret`, {
      token: await token("webhooks:write entries:read invoices:read team:read"),
    });
    expect(allowed.status).toBe(200);
  });

  it("asks every read scope for an event type it does not know (one written in SQL)", () => {
    expect(missingEventScopes(["thing.happened"], ["webhooks:write"])).toEqual([
      "entries:read",
      "invoices:read",
      "team:read",
    ]);
    expect(missingEventScopes(["thing.happened"], null)).toEqual([]);
  });

  it("answers 404 before the scopes for a subscription that is not there, and asks nothing of session tokens", async () => {
    const missing = await h.call("PATCH", `/v1/webhooks/${crypto.randomUUID()}`, {
      token: await token("webhooks:write"),
      body: { url },
    });
    expect(missing.status).toBe(404);
    const session = await h.call("POST", "/v1/webhooks", { token: team.admin.token, body: { url, events: ["*"] } });
    expect(session.status).toBe(201);
    const changed = await h.call("PATCH", `/v1/webhooks/${session.body.data.id}`, {
      token: team.admin.token,
      body: { url: "https://collector.example.net/x" },
    });
    expect(changed.status).toBe(200);
  });
});
