// The outbox: each change writes its events in its own statement, only for an organization with a matching
// active subscription, with the resource as GET answers it; a change that fails writes none.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import app from "../../src/app";
import { createCustomer, createEntry, createInvoice, createProject, createTeam, type Team } from "../support/factories";
import { callWith, type Harness, startHarness } from "../support/harness";
import { eventsOf, eventTypesOf, subscribe } from "../support/webhooks";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(async () => {
  team = await createTeam(h);
});

const call = (method: string, path: string, body?: unknown, token = team.owner.token) =>
  h.call(method, path, { token, body });
const get = async (path: string) => (await call("GET", path)).body.data;
const entryBody = { start_time: "2026-11-28T09:00:00Z", end_time: "2026-11-28T10:00:00Z", description: "Work" };

describe("which changes write events", () => {
  it("an organization without subscriptions writes none, whatever it changes", async () => {
    const entry = (await call("POST", "/v1/time-entries", entryBody)).body.data.id;
    await call("PATCH", `/v1/time-entries/${entry}`, { description: "Changed" });
    await call("DELETE", `/v1/time-entries/${entry}`);
    const project = (await call("POST", "/v1/projects", { name: "P" })).body.data.id;
    await call("DELETE", `/v1/projects/${project}`);
    const customer = (await call("POST", "/v1/customers", { name: "C" })).body.data.id;
    await call("POST", "/v1/invoices", { customer_id: customer, number: "INV-1", date: "2026-11-30" });
    expect(
      await h.sql("select count(*)::int as n from webhook_events where organization_id = $1", [team.organizationId]),
    ).toEqual([{ n: "0" }]);
  });

  it("only types some active subscription asks for; one delivery per matching subscription", async () => {
    const all = await subscribe(h, team.organizationId, { events: ["*"] });
    const created = await subscribe(h, team.organizationId, { events: ["time_entry.created"] });
    await subscribe(h, team.organizationId, { events: ["project.created"] });
    await subscribe(h, team.organizationId, { events: ["time_entry.created"], active: false });
    await subscribe(h, team.organizationId, {
      events: ["time_entry.created", "time_entry.updated"],
      url: "https://other.example.com/",
    });

    const res = await call("POST", "/v1/time-entries", entryBody);
    const [event] = await eventsOf(h, team.organizationId);
    expect(await eventTypesOf(h, team.organizationId)).toEqual(["time_entry.created"]);
    expect(event?.deliveries).toBe(3);
    const subscribers = await h.sql("select subscription_id from webhook_deliveries where event_id = $1 order by 1", [
      event?.id,
    ]);
    expect(subscribers.map((row) => row.subscription_id)).toEqual(expect.arrayContaining([all.id, created.id]));
    expect(event?.data).toEqual(await get(`/v1/time-entries/${res.body.data.id}`));
    expect(event?.previous_attributes).toBeNull();
  });
});

describe("time entry and timer events", () => {
  beforeEach(() => subscribe(h, team.organizationId));

  it("an update carries the entry as GET answers it and the previous values of what changed", async () => {
    const project = await createProject(h, team.organizationId, { name: "Site", hourlyRate: "80", currency: "EUR" });
    const id = (await call("POST", "/v1/time-entries", entryBody)).body.data.id;
    const before = await get(`/v1/time-entries/${id}`);
    await call("PATCH", `/v1/time-entries/${id}`, { description: "Changed", project_id: project });
    const [, updated] = await eventsOf(h, team.organizationId);
    expect(updated?.type).toBe("time_entry.updated");
    expect(updated?.data).toEqual(await get(`/v1/time-entries/${id}`));
    expect(updated?.data.version).toBe(2);
    expect(updated?.previous_attributes).toEqual({
      description: before.description,
      project_id: null,
      project: null,
    });
  });

  it("timers: started and stopped beside the entry's own event", async () => {
    const running = { start_time: "2026-11-28T09:00:00Z", description: "Timer" };
    const id = (await call("POST", "/v1/time-entries", running)).body.data.id;
    expect(await eventTypesOf(h, team.organizationId)).toEqual(["time_entry.created", "timer.started"]);
    await call("POST", `/v1/time-entries/${id}/stop`, { end_time: "2026-11-28T10:00:00Z" });
    const events = await eventsOf(h, team.organizationId);
    expect(events.slice(2).map((event) => event.type)).toEqual(["time_entry.updated", "timer.stopped"]);
    expect(events[2]?.previous_attributes).toEqual({ end_time: null, duration: null });
    expect(events[3]?.data).toEqual(await get(`/v1/time-entries/${id}`));

    await call("PATCH", `/v1/time-entries/${id}`, { end_time: null });
    expect((await eventTypesOf(h, team.organizationId)).slice(4)).toEqual(["time_entry.updated", "timer.started"]);
    const next = { start_time: "2026-11-28T11:00:00Z", description: "Next", stop_running: true };
    const second = (await call("POST", "/v1/time-entries", next)).body.data.id;
    const switched = (await eventsOf(h, team.organizationId)).slice(6);
    expect(switched.map((event) => [event.type, event.data.id])).toEqual([
      ["time_entry.created", second],
      ["time_entry.updated", id],
      ["timer.started", second],
      ["timer.stopped", id],
    ]);
    await call("POST", `/v1/time-entries/${second}/stop`);
    const restarted = (await call("POST", `/v1/time-entries/${id}/restart`)).body.data.id;
    const last = (await eventsOf(h, team.organizationId)).slice(12);
    expect(last.map((event) => [event.type, event.data.id])).toEqual([
      ["time_entry.created", restarted],
      ["timer.started", restarted],
    ]);
  });

  it("a deletion carries {id, version, deleted_at}: the sync tombstone with the version", async () => {
    const id = await createEntry(h, team.member);
    await call("DELETE", `/v1/time-entries/${id}`);
    const [event] = await eventsOf(h, team.organizationId);
    const [row] = await h.sql(
      "select version, to_char(deleted_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') as deleted_at from time_entries where id = $1",
      [id],
    );
    expect(event).toMatchObject({
      type: "time_entry.deleted",
      data: { id, version: Number(row?.version), deleted_at: row?.deleted_at },
      previous_attributes: null,
    });
    expect(Object.keys(event?.data ?? {})).toEqual(["id", "version", "deleted_at"]);
  });

  it("bulk edits write one event per entry", async () => {
    const ids = [await createEntry(h, team.member), await createEntry(h, team.owner), await createEntry(h, team.admin)];
    expect((await call("PATCH", "/v1/time-entries", { ids, changes: { description: "Bulk" } })).status).toBe(200);
    const updated = await eventsOf(h, team.organizationId);
    expect(updated.map((event) => event.type)).toEqual(Array(3).fill("time_entry.updated"));
    expect(updated.map((event) => event.data.id).sort()).toEqual([...ids].sort());
    for (const event of updated) {
      expect(event.data).toEqual(await get(`/v1/time-entries/${event.data.id}`));
      expect(event.previous_attributes).toEqual({ description: "Work" });
    }
    expect((await call("DELETE", "/v1/time-entries", { ids })).status).toBe(204);
    const deleted = (await eventsOf(h, team.organizationId)).slice(3);
    expect(deleted.map((event) => [event.type, event.data.id]).sort()).toEqual(
      ids.map((id) => ["time_entry.deleted", id]).sort(),
    );
  });
});

describe("project, customer and invoice events", () => {
  beforeEach(() => subscribe(h, team.organizationId));

  it("projects and customers: created, updated, deleted", async () => {
    const customer = (await call("POST", "/v1/customers", { name: "Acme" })).body.data;
    const project = (await call("POST", "/v1/projects", { name: "Site", customer_id: customer.id })).body.data;
    await call("PATCH", `/v1/projects/${project.id}`, { active: false });
    await call("PATCH", `/v1/customers/${customer.id}`, { email: "ap@acme.example" });
    await call("DELETE", `/v1/projects/${project.id}`);
    await call("DELETE", `/v1/customers/${customer.id}`);
    const events = await eventsOf(h, team.organizationId);
    expect(events.map((event) => event.type)).toEqual([
      "customer.created",
      "project.created",
      "project.updated",
      "customer.updated",
      "project.deleted",
      "customer.deleted",
    ]);
    expect(events[0]?.data).toEqual(customer);
    expect(events[1]?.data).toEqual(project);
    expect(events[2]?.previous_attributes).toEqual({ active: true });
    expect(events[3]?.previous_attributes).toEqual({ email: null });
    expect(events[4]?.data).toEqual({ id: project.id, version: 3, deleted_at: expect.any(String) });
    expect(events[5]?.data).toEqual({ id: customer.id, version: 3, deleted_at: expect.any(String) });
  });

  it("invoices: created, updated with status_changed, attach and detach, deleted releasing its entries", async () => {
    const customer = await createCustomer(h, team.organizationId);
    const project = await createProject(h, team.organizationId, { customerId: customer });
    const entry = await createEntry(h, team.member, { projectId: project });
    const body = { customer_id: customer, number: "INV-7", date: "2026-11-30" };
    const invoice = (await call("POST", "/v1/invoices", body)).body.data;
    await call("POST", `/v1/invoices/${invoice.id}/time-entries`, { time_entry_ids: [entry] });
    await call("PATCH", `/v1/invoices/${invoice.id}`, { due_date: "2026-12-14" });
    await call("DELETE", `/v1/invoices/${invoice.id}`);
    const events = await eventsOf(h, team.organizationId);
    expect(events.map((event) => event.type)).toEqual([
      "invoice.created",
      "invoice.updated",
      "time_entry.updated",
      "invoice.updated",
      "invoice.deleted",
      "time_entry.updated",
    ]);
    expect(events[0]?.data).toEqual(invoice);
    expect(events[1]?.data.summary.entry_count).toBe(1);
    expect(events[1]?.previous_attributes).toEqual({});
    expect(events[2]?.previous_attributes).toEqual({ invoice_id: null, invoice: null });
    expect(events[3]?.previous_attributes).toEqual({ due_date: null });
    expect(events[5]).toMatchObject({
      data: { id: entry, invoice_id: null },
      previous_attributes: { invoice_id: invoice.id },
    });
    expect(events[5]?.data).toEqual(await get(`/v1/time-entries/${entry}`));

    const sent = await createInvoice(h, team.organizationId, { customerId: customer });
    await call("PATCH", `/v1/invoices/${sent}`, { status: "sent" });
    const moved = (await eventsOf(h, team.organizationId)).slice(6);
    expect(moved.map((event) => [event.type, event.previous_attributes])).toEqual([
      ["invoice.status_changed", { status: "draft" }],
      ["invoice.updated", { status: "draft" }],
    ]);
    expect(moved[0]?.data).toEqual(await get(`/v1/invoices/${sent}`));
  });
});

describe("member events", () => {
  beforeEach(() => subscribe(h, team.organizationId));

  it("added, updated, removed (stopping the member's timer), each as GET /v1/members/{userId} answers", async () => {
    const email = `${crypto.randomUUID()}@members.example`;
    const added = (await call("POST", "/v1/members", { email, full_name: "New Colleague", role: "member" })).body.data;
    const timer = (
      await call("POST", "/v1/time-entries", {
        user_id: added.id,
        start_time: "2026-11-28T09:00:00Z",
        description: "Running when offboarded",
      })
    ).body.data.id;
    await call("PATCH", `/v1/members/${added.id}`, { role: "admin" });
    await call("DELETE", `/v1/members/${added.id}`);
    const events = (await eventsOf(h, team.organizationId)).filter((event) => event.type.startsWith("member."));
    expect(events.map((event) => event.type)).toEqual(["member.added", "member.updated", "member.removed"]);
    expect(events[0]?.data).toEqual(added);
    expect(events[1]?.previous_attributes).toEqual({ role: "member" });
    expect(events[2]?.data).toEqual(await get(`/v1/members/${added.id}`));
    expect(events[2]?.data).toMatchObject({ status: "removed", role: "admin" });
    const stopped = (await eventsOf(h, team.organizationId)).slice(-2);
    expect(stopped.map((event) => [event.type, event.data.id])).toEqual([
      ["time_entry.updated", timer],
      ["timer.stopped", timer],
    ]);
    expect(stopped[0]?.previous_attributes).toMatchObject({ end_time: null, duration: null });
  });
});

describe("a change that fails writes no event", () => {
  beforeEach(() => subscribe(h, team.organizationId));

  it("409s, 412s, 404s and constraint violations leave the outbox empty", async () => {
    const customer = await createCustomer(h, team.organizationId);
    const invoice = await createInvoice(h, team.organizationId, { customerId: customer, number: "INV-1" });
    const locked = await createEntry(h, team.member, { invoiceId: invoice });
    const free = await createEntry(h, team.member, { start: "2026-11-21T09:00:00Z", end: "2026-11-21T10:00:00Z" });
    await createEntry(h, team.owner, { end: null });
    const project = await createProject(h, team.organizationId);
    await createEntry(h, team.owner, { projectId: project });
    const attempts: [string, string, unknown, number][] = [
      ["POST", "/v1/time-entries", { start_time: "2026-11-28T09:00:00Z", description: "Second timer" }, 409],
      ["PATCH", `/v1/time-entries/${locked}`, { description: "x" }, 409],
      ["DELETE", `/v1/time-entries/${locked}`, undefined, 409],
      ["PATCH", "/v1/time-entries", { ids: [free, locked], changes: { description: "x" } }, 409],
      ["DELETE", "/v1/time-entries", { ids: [free, crypto.randomUUID()] }, 404],
      ["DELETE", `/v1/projects/${project}`, undefined, 409],
      ["POST", "/v1/invoices", { customer_id: customer, number: "INV-1", date: "2026-11-30" }, 409],
      ["PATCH", `/v1/invoices/${invoice}`, { status: "paid" }, 409],
      ["PATCH", `/v1/time-entries/${crypto.randomUUID()}`, { description: "x" }, 404],
    ];
    for (const [method, path, body, status] of attempts) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
    }
    const stale = await h.call("PATCH", `/v1/time-entries/${free}`, {
      token: team.owner.token,
      body: { description: "x" },
      headers: { "If-Match": '"7"' },
    });
    expect(stale.status).toBe(412);
    await h.sql("update organizations set prevent_overlaps = true where id = $1", [team.organizationId]);
    const overlap = await call("POST", "/v1/time-entries", {
      ...entryBody,
      start_time: "2026-11-21T09:30:00Z",
      end_time: "2026-11-21T09:45:00Z",
      user_id: team.member.id,
    });
    expect(overlap.body.error?.code).toBe("OVERLAP");
    expect(await eventTypesOf(h, team.organizationId)).toEqual([]);
    expect(
      await h.sql("select count(*)::int as n from webhook_deliveries where organization_id = $1", [
        team.organizationId,
      ]),
    ).toEqual([{ n: "0" }]);
  });
});

describe("handing deliveries to the queue", () => {
  it("after the response: one SQL request on the request's path, then the queue, then one to note it", async () => {
    await subscribe(h, team.organizationId);
    await subscribe(h, team.organizationId, { events: ["timer.started"] });
    const sent: unknown[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // A stand-in for the Queue binding that holds the send, to see what happens before and after it.
    const queue = {
      sendBatch: async (messages: Iterable<unknown>) => {
        await held;
        sent.push(...messages);
      },
    };
    const work: Promise<unknown>[] = [];
    const env = { ...h.env, WEBHOOK_DELIVERIES: queue as unknown as Queue };
    const ctx = {
      waitUntil: (promise: Promise<unknown>) => work.push(promise),
      passThroughOnException() {},
      props: {},
    };
    const before = h.endpoint.requests;
    const res = await callWith(
      (init) => app.request("/v1/time-entries", init, env, ctx as unknown as ExecutionContext),
      "POST",
      { token: team.owner.token, body: { start_time: "2026-11-28T09:00:00Z", description: "Timer" } },
    );
    expect(res.status).toBe(201);
    expect(h.endpoint.requests - before).toBe(1);
    expect(work).toHaveLength(1);
    release();
    await Promise.all(work);
    expect(h.endpoint.requests - before).toBe(2);
    const deliveries = await h.sql(
      `select id, to_char(requested_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as requested_at,
         enqueued_at is not null as enqueued from webhook_deliveries where organization_id = $1`,
      [team.organizationId],
    );
    expect(deliveries).toHaveLength(3);
    expect(sent).toEqual(
      expect.arrayContaining(deliveries.map((d) => ({ body: { delivery_id: d.id, requested_at: d.requested_at } }))),
    );
    expect(sent).toHaveLength(3);
    expect(deliveries.every((d) => d.enqueued === "t")).toBe(true);
  });
});
