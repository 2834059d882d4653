// A project's new rate reprices the drafts that bill its hours (a new version, an invoice.updated each). An attach or a
// detach committing while the rate change waits must not leave a draft unrepriced or announced with entries it no
// longer has. PostgreSQL server only (test/support/interleave.ts): the attach or detach is held at its event insert
// by a lock on the webhook subscription, after it took the invoice's lock.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCustomer, createEntry, createInvoice, createProject, createTeam } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { databaseUrlOf, transaction, waitingOnLocks } from "../support/interleave";
import { onPostgres } from "../support/postgres";
import { eventsOf, subscribe } from "../support/webhooks";

let h: Harness;
let url: string;

beforeAll(async () => {
  h = await startHarness();
  if (onPostgres()) url = await databaseUrlOf(h);
});
afterAll(() => h?.close());

async function draftWithTwoProjects() {
  const team = await createTeam(h);
  const subscription = await subscribe(h, team.organizationId, { events: ["*"] });
  const customerId = await createCustomer(h, team.organizationId);
  const rated = await createProject(h, team.organizationId, { customerId, hourlyRate: "100.00", currency: "EUR" });
  const other = await createProject(h, team.organizationId, { customerId, hourlyRate: "10.00", currency: "EUR" });
  const invoice = await createInvoice(h, team.organizationId, { customerId });
  const hour = (projectId: string, day: string, invoiceId?: string) =>
    createEntry(h, team.member, {
      projectId,
      invoiceId,
      billable: true,
      start: `2026-10-${day}T09:00:00Z`,
      end: `2026-10-${day}T10:00:00Z`,
    });
  const read = () => h.call("GET", `/v1/invoices/${invoice}`, { token: team.owner.token });
  return { team, subscription, rated, other, invoice, hour, read };
}

/** Runs `write` held at its event insert, then the rate change behind it, and lets both go. */
async function rateChangeBehind(
  world: Awaited<ReturnType<typeof draftWithTwoProjects>>,
  write: () => Promise<unknown>,
) {
  const hold = await transaction(url);
  await hold.query("select 1 from webhook_subscriptions where id = $1 for update", [world.subscription.id]);
  const held = write();
  await waitingOnLocks(h, 1);
  const patch = h.call("PATCH", `/v1/projects/${world.rated}`, {
    token: world.team.owner.token,
    body: { hourly_rate: 200 },
  });
  await waitingOnLocks(h, 2);
  await hold.end("commit");
  return Promise.all([held, patch]) as Promise<
    [Awaited<ReturnType<Harness["call"]>>, Awaited<ReturnType<Harness["call"]>>]
  >;
}

describe.skipIf(!onPostgres())("a rate change behind an attach or a detach (Postgres server)", () => {
  it("reprices the entries an attach committed meanwhile: the attach's ETag no longer sends the draft", async () => {
    const world = await draftWithTwoProjects();
    await world.hour(world.other, "01", world.invoice);
    const attached = await world.hour(world.rated, "02");
    const [attach, patch] = await rateChangeBehind(world, () =>
      h.call("POST", `/v1/invoices/${world.invoice}/time-entries`, {
        token: world.team.owner.token,
        body: { time_entry_ids: [attached] },
      }),
    );
    expect([attach.status, patch.status]).toEqual([200, 200]);
    expect(attach.body.data.summary.amounts).toEqual([{ currency: "EUR", amount: "110.00" }]);
    const now = await world.read();
    expect([now.body.data.version, now.body.data.summary.amounts]).toEqual([
      attach.body.data.version + 1,
      [{ currency: "EUR", amount: "210.00" }],
    ]);
    const sent = await h.call("PATCH", `/v1/invoices/${world.invoice}`, {
      token: world.team.owner.token,
      headers: { "If-Match": `"${attach.body.data.version}"` },
      body: { status: "sent" },
    });
    expect(sent.status).toBe(412);
  });

  it("announces the draft as a detach committed meanwhile left it", async () => {
    const world = await draftWithTwoProjects();
    const detached = await world.hour(world.rated, "01", world.invoice);
    await world.hour(world.other, "02", world.invoice);
    const [detach, patch] = await rateChangeBehind(world, () =>
      h.call("DELETE", `/v1/invoices/${world.invoice}/time-entries`, {
        token: world.team.owner.token,
        body: { time_entry_ids: [detached] },
      }),
    );
    expect([detach.status, patch.status]).toEqual([200, 200]);
    const now = await world.read();
    expect(now.body.data.summary).toMatchObject({ entry_count: 1, amounts: [{ currency: "EUR", amount: "10.00" }] });
    const events = (await eventsOf(h, world.team.organizationId)).filter(
      (event) => event.type === "invoice.updated" && event.data.id === world.invoice,
    );
    expect(events.at(-1)?.data).toEqual(now.body.data);
  });

  it("answers and announces an attach behind a rate change at the new rate, the one its version bills", async () => {
    const world = await draftWithTwoProjects();
    const entry = await world.hour(world.rated, "01");
    // The rate change is held at its event insert, holding the project's lock, which the attach then waits for.
    const hold = await transaction(url);
    await hold.query("select 1 from webhook_subscriptions where id = $1 for update", [world.subscription.id]);
    const patch = h.call("PATCH", `/v1/projects/${world.rated}`, {
      token: world.team.owner.token,
      body: { hourly_rate: 200 },
    });
    await waitingOnLocks(h, 1);
    const attach = h.call("POST", `/v1/invoices/${world.invoice}/time-entries`, {
      token: world.team.owner.token,
      body: { time_entry_ids: [entry] },
    });
    await waitingOnLocks(h, 2);
    await hold.end("commit");
    const [changed, attached] = await Promise.all([patch, attach]);
    expect([changed.status, attached.status]).toEqual([200, 200]);
    const now = await world.read();
    expect([attached.body.data.version, attached.body.data.summary.amounts]).toEqual([
      now.body.data.version,
      [{ currency: "EUR", amount: "200.00" }],
    ]);
    const events = (await eventsOf(h, world.team.organizationId)).filter(
      (event) => event.type === "invoice.updated" && event.data.id === world.invoice,
    );
    expect(events.at(-1)?.data).toEqual(now.body.data);
  });

  it("reprices a draft that took the project's hours while the rate change waited", async () => {
    const world = await draftWithTwoProjects();
    await world.hour(world.rated, "01", world.invoice);
    const later = await world.hour(world.rated, "02");
    const hold = await transaction(url);
    await hold.query("select 1 from invoices where id = $1 for update", [world.invoice]);
    const patch = h.call("PATCH", `/v1/projects/${world.rated}`, {
      token: world.team.owner.token,
      body: { hourly_rate: 200 },
    });
    await waitingOnLocks(h, 1);
    const created = await h.call("POST", "/v1/invoices", {
      token: world.team.owner.token,
      body: {
        customer_id: (await world.read()).body.data.customer_id,
        number: `NEW-${later.slice(0, 8)}`,
        date: "2026-11-30",
      },
    });
    const attach = await h.call("POST", `/v1/invoices/${created.body.data.id}/time-entries`, {
      token: world.team.owner.token,
      body: { time_entry_ids: [later] },
    });
    expect([attach.status, attach.body.data.summary.amounts]).toEqual([200, [{ currency: "EUR", amount: "100.00" }]]);
    await hold.end("commit");
    expect((await patch).status).toBe(200);
    const now = await h.call("GET", `/v1/invoices/${created.body.data.id}`, { token: world.team.owner.token });
    expect([now.body.data.version, now.body.data.summary.amounts]).toEqual([
      attach.body.data.version + 1,
      [{ currency: "EUR", amount: "200.00" }],
    ]);
    const sent = await h.call("PATCH", `/v1/invoices/${created.body.data.id}`, {
      token: world.team.owner.token,
      headers: { "If-Match": `"${attach.body.data.version}"` },
      body: { status: "sent" },
    });
    expect(sent.status).toBe(412);
  });
});
