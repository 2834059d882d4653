// A bulk edit racing an invoice attach of one of its entries: the bulk statement
// locks its candidates before it judges them, so either it wins (every entry
// changed, then attached) or the attach wins (409 ENTRY_LOCKED, no entry
// changed); never a half-applied bulk edit. Meaningful on a real Postgres
// server (TEST_BACKEND=postgres, as .ci/run does).
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

const ROUNDS = 10;

/** Five stopped entries of a project of a customer, and a draft invoice of that customer. */
async function scene() {
  const customerId = await createCustomer(h, team.organizationId);
  const projectId = await createProject(h, team.organizationId, { customerId });
  const entries: string[] = [];
  for (let day = 1; day <= 5; day++) {
    entries.push(
      await createEntry(h, team.member, {
        projectId,
        start: `2026-11-0${day}T09:00:00Z`,
        end: `2026-11-0${day}T10:00:00Z`,
        description: "Before",
      }),
    );
  }
  return { entries, invoiceId: await createInvoice(h, team.organizationId, { customerId }) };
}

const stored = (ids: string[]) =>
  h.sql(
    "select id, description, invoice_id, deleted_at is not null as deleted from time_entries where id = any($1::uuid[]) order by id",
    [`{${ids.join(",")}}`],
  );

describe(`bulk edits racing an invoice attach (${onPostgres() ? "Postgres server" : "PGlite"})`, () => {
  it("a bulk PATCH is applied to every entry or to none", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { entries, invoiceId } = await scene();
      const contested = entries[round % entries.length] as string;
      const [bulk, attach] = await concurrently(2, (i) =>
        i === 0
          ? h.call("PATCH", "/v1/time-entries", {
              token: team.owner.token,
              body: { ids: entries, changes: { description: "After" } },
            })
          : h.call("POST", `/v1/invoices/${invoiceId}/time-entries`, {
              token: team.owner.token,
              body: { time_entry_ids: [contested] },
            }),
      );
      // The attach only needs the entry stopped and of the customer's project, so it succeeds either way.
      expect(attach?.status).toBe(200);
      const rows = await stored(entries);
      expect(rows.filter((row) => row.invoice_id !== null).map((row) => row.id)).toEqual([contested]);
      if (bulk?.status === 200) {
        expect(rows.map((row) => row.description)).toEqual(Array(5).fill("After"));
      } else {
        expect(bulk?.status).toBe(409);
        expect(bulk?.body.error).toEqual({
          code: "ENTRY_LOCKED",
          message: "Some time entries are attached to an invoice and cannot be changed",
          details: { ids: [contested] },
        });
        expect(rows.map((row) => row.description)).toEqual(Array(5).fill("Before"));
      }
    }
  });

  it("a bulk DELETE and an attach of one of its entries never both succeed", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { entries, invoiceId } = await scene();
      const contested = entries[round % entries.length] as string;
      const [bulk, attach] = await concurrently(2, (i) =>
        i === 0
          ? h.call("DELETE", "/v1/time-entries", { token: team.owner.token, body: { ids: entries } })
          : h.call("POST", `/v1/invoices/${invoiceId}/time-entries`, {
              token: team.owner.token,
              body: { time_entry_ids: [contested] },
            }),
      );
      const rows = await stored(entries);
      if (bulk?.status === 204) {
        expect(attach?.status).toBe(404);
        expect(attach?.body.error.details).toEqual({ time_entry_ids: [contested] });
        expect(rows.map((row) => [row.deleted, row.invoice_id])).toEqual(Array(5).fill(["t", null]));
      } else {
        expect(bulk?.status).toBe(409);
        expect(bulk?.body.error.details).toEqual({ ids: [contested] });
        expect(attach?.status).toBe(200);
        expect(rows.every((row) => row.deleted === "f")).toBe(true);
        expect(rows.filter((row) => row.invoice_id !== null).map((row) => row.id)).toEqual([contested]);
      }
    }
  });
});
