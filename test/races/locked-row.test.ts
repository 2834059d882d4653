// A single-entry write that waits on a row another transaction changes judges the row as it finds it once the lock is
// granted, not as its statement's snapshot had it: an entry the other write gave the value asked for, or released
// from its invoice, is changed (or deleted) as if the requests had come one after the other, never a 500 or a 409.
// PostgreSQL server only (test/support/interleave.ts).
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createCustomer, createEntry, createInvoice, createProject, createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { databaseUrlOf, transaction, waitingOnLocks } from "../support/interleave";
import { onPostgres } from "../support/postgres";
import { subscribe } from "../support/webhooks";

let h: Harness;
let team: Team;
let url: string;

beforeAll(async () => {
  h = await startHarness();
  if (onPostgres()) url = await databaseUrlOf(h);
  team = await createTeam(h);
});
afterAll(() => h?.close());

const rowOf = async (id: string) =>
  (await h.sql("select description, version, invoice_id, deleted_at from time_entries where id = $1", [id]))[0];

/** Sends `request` while another transaction runs `change` on the entry, committed once the request waits. */
async function behind(change: string, id: string, request: () => ReturnType<Harness["call"]>) {
  const other = await transaction(url);
  await other.query(change, [id]);
  const pending = request();
  await waitingOnLocks(h, 1);
  await other.end("commit");
  return pending;
}

async function attachedEntry() {
  const customerId = await createCustomer(h, team.organizationId);
  const projectId = await createProject(h, team.organizationId, { customerId });
  const invoiceId = await createInvoice(h, team.organizationId, { customerId });
  return createEntry(h, team.member, { projectId, invoiceId, description: "Billed" });
}

const release = "update time_entries set invoice_id = null, version = version + 1, updated_at = now() where id = $1";

describe.skipIf(!onPostgres())("a single-entry write behind a concurrent change (Postgres server)", () => {
  it("PATCH to the value the entry had when the request began, while another write changes it, is a change", async () => {
    const id = await createEntry(h, team.member, { description: "A" });
    const res = await behind(
      "update time_entries set description = 'B', version = version + 1, updated_at = now() where id = $1",
      id,
      () => h.call("PATCH", `/v1/time-entries/${id}`, { token: team.member.token, body: { description: "A" } }),
    );
    expect([res.status, res.body.data?.description, res.body.data?.version]).toEqual([200, "A", 3]);
    const row = await rowOf(id);
    expect([row?.description, Number(row?.version)]).toEqual(["A", 3]);
  });

  it("PATCH of an entry released from its invoice while the request waited is a change, not a 500", async () => {
    const id = await attachedEntry();
    const res = await behind(release, id, () =>
      h.call("PATCH", `/v1/time-entries/${id}`, { token: team.member.token, body: { description: "Edited" } }),
    );
    expect([res.status, res.body.data?.description, res.body.data?.version]).toEqual([200, "Edited", 3]);
  });

  it("DELETE of an entry released from its invoice while the request waited deletes it, not a 409", async () => {
    const id = await attachedEntry();
    const res = await behind(release, id, () =>
      h.call("DELETE", `/v1/time-entries/${id}`, { token: team.member.token }),
    );
    expect(res.status).toBe(204);
    expect((await rowOf(id))?.deleted_at).not.toBeNull();
  });

  it("DELETE with If-Match of the version the concurrent write made deletes it", async () => {
    const id = await createEntry(h, team.member, { description: "A" });
    const res = await behind(
      "update time_entries set description = 'B', version = version + 1, updated_at = now() where id = $1",
      id,
      () => h.call("DELETE", `/v1/time-entries/${id}`, { token: team.member.token, headers: { "If-Match": '"2"' } }),
    );
    expect(res.status).toBe(204);
    expect((await rowOf(id))?.deleted_at).not.toBeNull();
  });

  // A version trigger bumps `version` on every update of these tables.
  it.each([
    ["projects", "name = 'B'", () => createProject(h, team.organizationId)],
    ["customers", "name = 'B'", () => createCustomer(h, team.organizationId)],
    ["webhooks", "description = 'B'", async () => (await subscribe(h, team.organizationId, { events: ["*"] })).id],
  ] as const)(
    "DELETE of %s with If-Match of the version a concurrent write made deletes it",
    async (path, change, make) => {
      const table = path === "webhooks" ? "webhook_subscriptions" : path;
      const id = await make();
      const res = await behind(`update ${table} set ${change} where id = $1`, id, () =>
        h.call("DELETE", `/v1/${path}/${id}`, { token: team.owner.token, headers: { "If-Match": '"2"' } }),
      );
      expect([res.status, await h.sql(`select id from ${table} where id = $1`, [id])]).toEqual([204, []]);
    },
  );
});

describe.skipIf(!onPostgres())("stop_running behind another stop_running (Postgres server)", () => {
  it("stops the timer the other request started, as one after the other would", async () => {
    const member = (await createTeam(h)).member;
    const start = (at: string) =>
      h.call("POST", "/v1/time-entries", {
        token: member.token,
        body: { start_time: at, description: `from ${at}`, stop_running: true },
      });
    const running = await createEntry(h, member, { start: "2026-11-28T09:00:00Z", end: null });
    const other = await transaction(url);
    await other.query("select id from time_entries where id = $1 for update", [running]);
    const first = start("2026-11-28T09:30:00Z");
    await waitingOnLocks(h, 1);
    const second = start("2026-11-28T09:50:00Z");
    await waitingOnLocks(h, 2);
    await other.end("commit");
    const [a, b] = await Promise.all([first, second]);
    expect([a.status, b.status]).toEqual([201, 201]);
    const rows = await h.sql(
      "select id, to_char(end_time at time zone 'UTC', 'HH24:MI') as ended from time_entries where user_id = $1 order by start_time",
      [member.id],
    );
    expect(rows).toEqual([
      { id: running, ended: "09:30" },
      { id: a.body.data.id, ended: "09:50" },
      { id: b.body.data.id, ended: null },
    ]);
  });
});

describe.skipIf(!onPostgres())("a write Postgres gives up on while it waits (Postgres server)", () => {
  it("is 503 SERVICE_UNAVAILABLE with Retry-After when its wait is cancelled (a lock or statement timeout), not a 500", async () => {
    const id = await createEntry(h, team.owner, { description: "held" });
    const other = await transaction(url);
    await other.query("select 1 from time_entries where id = $1 for update", [id]);
    const patch = h.call("PATCH", `/v1/time-entries/${id}`, { token: team.owner.token, body: { description: "late" } });
    await waitingOnLocks(h, 1);
    // Spied before the cancel: the request may fail and log before the cancel's own answer comes back.
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    // What a lock_timeout or statement_timeout does to it: 55P03 or 57014, the same answer.
    for (let attempt = 0; attempt < 100; attempt++) {
      const cancelled = await h.sql(
        `select pg_cancel_backend(pid) from pg_stat_activity
         where datname = current_database() and wait_event_type = 'Lock' and query like '%update time_entries te set%'`,
      );
      if (cancelled.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const res = await patch;
    const logged = JSON.stringify(errors.mock.calls);
    errors.mockRestore();
    await other.end("rollback");
    expect(logged).toContain("57014");
    expect([res.status, res.headers.get("Retry-After"), res.body]).toEqual([
      503,
      "2",
      { error: { code: "SERVICE_UNAVAILABLE", message: "The database is busy; retry shortly" } },
    ]);
    expect((await rowOf(id))?.description).toBe("held");
  });
});
