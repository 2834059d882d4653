// Races forced into one interleaving (test/support/interleave.ts): PostgreSQL server only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCustomer, createEntry, createInvoice, createProject, createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { databaseUrlOf, transaction as transaction_, waitingOnLocks as waitingOnLocks_ } from "../support/interleave";
import { onPostgres } from "../support/postgres";
import { eventsOf, subscribe } from "../support/webhooks";

let h: Harness;
let team: Team;
let url: string;

beforeAll(async () => {
  h = await startHarness();
  if (onPostgres()) url = await databaseUrlOf(h);
});
afterAll(() => h?.close());

const transaction = () => transaction_(url);
const waitingOnLocks = (count: number) => waitingOnLocks_(h, count);

/** Attaches `entry` to `invoiceId` as the owner while `other` holds what it changed, committed once the attach waits. */
async function attachBehind(other: Awaited<ReturnType<typeof transaction>>, invoiceId: string, entry: string) {
  const attach = h.call("POST", `/v1/invoices/${invoiceId}/time-entries`, {
    token: team.owner.token,
    body: { time_entry_ids: [entry] },
  });
  await waitingOnLocks(1);
  await other.end("commit");
  return attach;
}

/** A new team's stopped entry on a project of a customer, and a draft invoice of that customer. */
async function entryAndDraftOfOneCustomer() {
  team = await createTeam(h);
  const customerId = await createCustomer(h, team.organizationId);
  const projectId = await createProject(h, team.organizationId, { customerId });
  const entry = await createEntry(h, team.member, { projectId });
  const invoiceId = await createInvoice(h, team.organizationId, { customerId });
  return { customerId, projectId, entry, invoiceId };
}

const runningTimersOf = (userId: string) =>
  h.sql("select id from time_entries where user_id = $1 and end_time is null and deleted_at is null", [userId]);

describe.skipIf(!onPostgres())("forced interleavings (Postgres server)", () => {
  it("a write while a webhook subscription is deleted succeeds, with no delivery to the deleted subscription", async () => {
    team = await createTeam(h);
    const kept = await subscribe(h, team.organizationId);
    const deleted = await subscribe(h, team.organizationId);
    const entry = await createEntry(h, team.member);
    const other = await transaction();
    await other.query("delete from webhook_subscriptions where id = $1", [deleted.id]);
    const patch = h.call("PATCH", `/v1/time-entries/${entry}`, {
      token: team.member.token,
      body: { description: "while a subscription goes" },
    });
    await waitingOnLocks(1);
    await other.end("commit");
    const res = await patch;
    expect(res.status).toBe(200);
    const events = await eventsOf(h, team.organizationId);
    expect(events.map((event) => [event.type, event.data.description])).toEqual([
      ["time_entry.updated", "while a subscription goes"],
    ]);
    const deliveries = await h.sql("select subscription_id from webhook_deliveries where organization_id = $1", [
      team.organizationId,
    ]);
    expect(deliveries).toEqual([{ subscription_id: kept.id }]);
  });

  for (const write of ["create", "patch", "bulk patch"] as const) {
    it(`${write}: a project deleted while the request ran is 400 on project_id, not a 500`, async () => {
      team = await createTeam(h);
      const projectId = await createProject(h, team.organizationId);
      const entry = await createEntry(h, team.member);
      const other = await transaction();
      await other.query("delete from projects where id = $1", [projectId]);
      const request =
        write === "create"
          ? h.call("POST", "/v1/time-entries", {
              token: team.member.token,
              body: {
                project_id: projectId,
                start_time: "2026-10-01T09:00:00Z",
                end_time: "2026-10-01T10:00:00Z",
                description: "On a project going away",
              },
            })
          : write === "patch"
            ? h.call("PATCH", `/v1/time-entries/${entry}`, {
                token: team.member.token,
                body: { project_id: projectId },
              })
            : h.call("PATCH", "/v1/time-entries", {
                token: team.member.token,
                body: { ids: [entry], changes: { project_id: projectId } },
              });
      await waitingOnLocks(1);
      await other.end("commit");
      const res = await request;
      const field = write === "bulk patch" ? "changes.project_id" : "project_id";
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual({ [field]: ["No such project in this organization"] });
      expect(await h.sql("select project_id from time_entries where user_id = $1", [team.member.id])).toEqual([
        { project_id: null },
      ]);
    });
  }

  // An attach that commits while an invoice statement waits for the invoice's lock is not in that statement's snapshot:
  // the statement runs again rather than answer, announce or freeze a summary without it (or release the entries and
  // delete the draft under it). The attach here leaves the invoice's updated_at as the write before it left it, as two
  // writes within one timestamp do: only the version tells the change.
  const behindAnAttach = {
    send: { method: "PATCH", path: "", body: { status: "sent" }, status: 200, count: 2 },
    "patch of the number": { method: "PATCH", path: "", body: { number: "BEHIND-1" }, status: 200, count: 2 },
    attach: { method: "POST", path: "/time-entries", body: "third", status: 200, count: 3 },
    detach: { method: "DELETE", path: "/time-entries", body: "first", status: 200, count: 1 },
    delete: { method: "DELETE", path: "", body: undefined, status: 204, count: 0 },
  } as const;
  for (const [write, { method, path, body, status, count }] of Object.entries(behindAnAttach)) {
    it(`${write} behind an attach within the same millisecond counts the attached entry, in the answer and the event`, async () => {
      const { projectId, entry, invoiceId } = await entryAndDraftOfOneCustomer();
      await subscribe(h, team.organizationId);
      const day = (d: number) => ({ projectId, start: `2026-11-0${d}T09:00:00Z`, end: `2026-11-0${d}T10:00:00Z` });
      const [attachedMeanwhile, third] = [
        await createEntry(h, team.member, day(2)),
        await createEntry(h, team.member, day(3)),
      ];
      await h.sql("update time_entries set invoice_id = $1 where id = $2", [invoiceId, entry]);
      const other = await transaction();
      // The write before the attach lands at the attach's own now(), which the attach then sets again.
      const { rows } = await other.query("select now()::text as now");
      await h.sql("update invoices set updated_at = $1 where id = $2", [rows[0].now, invoiceId]);
      await other.query("update time_entries set invoice_id = $1 where id = $2", [invoiceId, attachedMeanwhile]);
      await other.query("update invoices set updated_at = now() where id = $1", [invoiceId]);
      const ids = body === "third" ? [third] : body === "first" ? [entry] : undefined;
      const request = h.call(method, `/v1/invoices/${invoiceId}${path}`, {
        token: team.owner.token,
        body: ids ? { time_entry_ids: ids } : body,
      });
      await waitingOnLocks(1);
      await other.end("commit");
      const res = await request;
      expect(res.status).toBe(status);
      const onInvoice = await h.sql("select count(*)::text as n from time_entries where invoice_id = $1", [invoiceId]);
      expect(onInvoice).toEqual([{ n: String(count) }]);
      if (status === 204) return;
      expect(res.body.data.summary).toMatchObject({ entry_count: count, total_seconds: count * 3600 });
      const [invoiceEvent] = (await eventsOf(h, team.organizationId)).filter((e) => e.type === "invoice.updated");
      expect(invoiceEvent?.data).toEqual(res.body.data);
      if (write === "send") {
        const [frozen] = await h.sql("select issued_summary->>'entry_count' as n from invoices where id = $1", [
          invoiceId,
        ]);
        expect(frozen).toEqual({ n: "2" });
      }
    });
  }

  it("an attach with an Idempotency-Key behind another attach keeps the answer of the write it made: its retry replays", async () => {
    const { projectId, entry, invoiceId } = await entryAndDraftOfOneCustomer();
    const third = await createEntry(h, team.member, {
      projectId,
      start: "2026-11-03T09:00:00Z",
      end: "2026-11-03T10:00:00Z",
    });
    const other = await transaction();
    await other.query("update time_entries set invoice_id = $1 where id = $2", [invoiceId, entry]);
    await other.query("update invoices set updated_at = now() where id = $1", [invoiceId]);
    const key = crypto.randomUUID();
    const attach = () =>
      h.call("POST", `/v1/invoices/${invoiceId}/time-entries`, {
        token: team.owner.token,
        body: { time_entry_ids: [third] },
        headers: { "Idempotency-Key": key },
      });
    const first = attach();
    await waitingOnLocks(1);
    await other.end("commit");
    const res = await first;
    expect([res.status, res.body.data?.summary?.entry_count]).toEqual([200, 2]);
    // Detached since: a retry of the same request replays the first answer and attaches nothing again.
    const detached = await h.call("DELETE", `/v1/invoices/${invoiceId}/time-entries`, {
      token: team.owner.token,
      body: { time_entry_ids: [third] },
    });
    expect(detached.status).toBe(200);
    const retry = await attach();
    expect([retry.status, retry.headers.get("Idempotent-Replayed"), retry.body]).toEqual([200, "true", res.body]);
    expect(await h.sql("select invoice_id from time_entries where id = $1", [third])).toEqual([{ invoice_id: null }]);
  });

  it("an attach rechecks an entry moved meanwhile against its new project's customer", async () => {
    team = await createTeam(h);
    const customerId = await createCustomer(h, team.organizationId);
    const [first, second] = [
      await createProject(h, team.organizationId, { customerId }),
      await createProject(h, team.organizationId, { customerId }),
    ];
    const otherCustomersProject = await createProject(h, team.organizationId, {
      customerId: await createCustomer(h, team.organizationId),
    });
    // Moved to another project of the invoice's customer: attachable. Moved to another customer's project (the
    // invoice without customer takes only entries without one): not attachable.
    const cases = [
      { invoiceCustomer: customerId, from: first, to: second, status: 200 },
      { invoiceCustomer: undefined, from: undefined, to: otherCustomersProject, status: 409 },
    ];
    for (const { invoiceCustomer, from, to, status } of cases) {
      const entry = await createEntry(h, team.member, { projectId: from });
      const invoiceId = await createInvoice(h, team.organizationId, { customerId: invoiceCustomer });
      const other = await transaction();
      await other.query("update time_entries set project_id = $1 where id = $2", [to, entry]);
      const res = await attachBehind(other, invoiceId, entry);
      expect(res.status).toBe(status);
      const [row] = await h.sql("select invoice_id from time_entries where id = $1", [entry]);
      if (status === 200) {
        expect(row?.invoice_id).toBe(invoiceId);
      } else {
        expect(res.body.error.details).toEqual({ other_customer: [entry] });
        expect(row?.invoice_id).toBeNull();
      }
    }
  });

  it("an attach that waits on a project changing customer reads the new customer: no draft bills another customer's work", async () => {
    const { projectId, entry, invoiceId } = await entryAndDraftOfOneCustomer();
    const other = await transaction();
    await other.query("update projects set customer_id = $1 where id = $2", [
      await createCustomer(h, team.organizationId),
      projectId,
    ]);
    const res = await attachBehind(other, invoiceId, entry);
    expect([res.status, res.body.error?.details]).toEqual([409, { other_customer: [entry] }]);
    const [row] = await h.sql("select invoice_id from time_entries where id = $1", [entry]);
    expect(row?.invoice_id).toBeNull();
  });

  it("a project that waits on an attach of its entries keeps its customer: 409 PROJECT_ON_DRAFT_INVOICE", async () => {
    const { customerId, projectId, entry, invoiceId } = await entryAndDraftOfOneCustomer();
    // The attach's own locks (its entries, their project FOR SHARE), held by a transaction that then commits.
    const other = await transaction();
    await other.query("select 1 from projects where id = $1 for share", [projectId]);
    await other.query("update time_entries set invoice_id = $1 where id = $2", [invoiceId, entry]);
    const move = h.call("PATCH", `/v1/projects/${projectId}`, {
      token: team.owner.token,
      body: { customer_id: await createCustomer(h, team.organizationId) },
    });
    await waitingOnLocks(1);
    await other.end("commit");
    const res = await move;
    expect([res.status, res.body.error?.code, res.body.error?.details]).toEqual([
      409,
      "PROJECT_ON_DRAFT_INVOICE",
      { invoice_ids: [invoiceId] },
    ]);
    const [row] = await h.sql("select customer_id from projects where id = $1", [projectId]);
    expect(row?.customer_id).toBe(customerId);
  });

  it("a timer started while its member is removed is refused when the removal commits first", async () => {
    team = await createTeam(h);
    await h.sql("update organizations set prevent_overlaps = true where id = $1", [team.organizationId]);
    // The start waits in the overlap trigger, on the lock that serialises the member's writes: past its snapshot,
    // before its insert.
    const other = await transaction();
    await other.query("select pg_advisory_xact_lock(hashtextextended('time_entries_overlap:' || $1 || ':' || $2, 0))", [
      team.organizationId,
      team.otherMember.id,
    ]);
    const starts = [
      h.call("POST", "/v1/time-entries", {
        token: team.otherMember.token,
        body: { start_time: "2026-11-28T09:00:00Z", description: "Own timer" },
      }),
      h.call("POST", "/v1/time-entries", {
        token: team.owner.token,
        body: { user_id: team.otherMember.id, start_time: "2026-11-28T09:00:00Z", description: "On their behalf" },
      }),
    ];
    await waitingOnLocks(2);
    const removal = await h.call("DELETE", `/v1/members/${team.otherMember.id}`, { token: team.owner.token });
    expect(removal.status).toBe(204);
    await other.end("commit");
    const [own, onBehalf] = await Promise.all(starts);
    expect(own?.status).toBe(403);
    expect(onBehalf?.status).toBe(400);
    expect(onBehalf?.body.error.details).toEqual({ user_id: ["No such member in this organization"] });
    expect(await runningTimersOf(team.otherMember.id)).toEqual([]);
  });

  it("a timer whose start holds the membership when the removal begins is stopped by the removal, with its events", async () => {
    team = await createTeam(h);
    await subscribe(h, team.organizationId);
    // A running timer of the member that another transaction inserts and never commits: the start waits on the
    // one-timer index, after its trigger locked the membership.
    const other = await transaction();
    await other.query(
      "insert into time_entries (organization_id, user_id, start_time, description) values ($1, $2, '2026-01-01T00:00:00Z', 'Never committed')",
      [team.organizationId, team.otherMember.id],
    );
    const start = h.call("POST", "/v1/time-entries", {
      token: team.otherMember.token,
      body: { start_time: "2026-11-28T09:00:00Z", description: "Own timer" },
    });
    await waitingOnLocks(1);
    const removal = h.call("DELETE", `/v1/members/${team.otherMember.id}`, { token: team.owner.token });
    await waitingOnLocks(2);
    await other.end("rollback");
    const [started, removed] = [await start, await removal];
    expect(started.status).toBe(201);
    expect(removed.status).toBe(204);
    expect(await runningTimersOf(team.otherMember.id)).toEqual([]);
    const events = await eventsOf(h, team.organizationId);
    const stop = events.find((event) => event.type === "time_entry.updated");
    expect(stop?.data.id).toBe(started.body.data.id);
    expect(stop?.previous_attributes).toMatchObject({ end_time: null, duration: null });
    expect(events.map((event) => event.type).sort()).toEqual(
      ["member.removed", "time_entry.created", "time_entry.updated", "timer.started", "timer.stopped"].sort(),
    );
  });
});

describe("a removed member's entries never run again", () => {
  it("PATCH end_time: null of a removed member's entry is 400 on end_time, and nothing changes", async () => {
    const t = await createTeam(h);
    const entry = await createEntry(h, t.otherMember);
    expect((await h.call("DELETE", `/v1/members/${t.otherMember.id}`, { token: t.owner.token })).status).toBe(204);
    const res = await h.call("PATCH", `/v1/time-entries/${entry}`, { token: t.owner.token, body: { end_time: null } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({
      end_time: ["The entry's user is no longer a member of this organization; no timer can run for them"],
    });
    expect(await runningTimersOf(t.otherMember.id)).toEqual([]);
    // Other edits of their entries stay allowed.
    const edit = await h.call("PATCH", `/v1/time-entries/${entry}`, {
      token: t.owner.token,
      body: { description: "Still editable" },
    });
    expect(edit.status).toBe(200);
  });
});
