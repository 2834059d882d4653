// Two invoices racing for the same entries: the invoice and entry rows are
// locked in the attach statement, so exactly one wins and nothing is split.
// Meaningful on a real Postgres server (TEST_BACKEND=postgres, as .ci/run does).
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

describe(`concurrent invoice attach (${onPostgres() ? "Postgres server" : "PGlite"})`, () => {
  it("of the same entries to two invoices: one 200, one 409 naming them invoiced, none split", async () => {
    for (let round = 0; round < 5; round++) {
      const customerId = await createCustomer(h, team.organizationId);
      const projectId = await createProject(h, team.organizationId, { customerId });
      const entries = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          createEntry(h, team.member, {
            projectId,
            start: `2026-11-0${i + 1}T09:00:00Z`,
            end: `2026-11-0${i + 1}T10:00:00Z`,
          }),
        ),
      );
      const invoices = [
        await createInvoice(h, team.organizationId, { customerId }),
        await createInvoice(h, team.organizationId, { customerId }),
      ];

      const responses = await concurrently(2, (i) =>
        h.call("POST", `/v1/invoices/${invoices[i]}/time-entries`, {
          token: team.owner.token,
          body: { time_entry_ids: i === 0 ? entries : [...entries].reverse() },
        }),
      );

      expect(responses.map((r) => r.status).sort()).toEqual([200, 409]);
      const winner = responses.findIndex((r) => r.status === 200);
      const loser = responses[1 - winner];
      expect(loser?.body).toEqual({
        error: {
          code: "ENTRIES_NOT_ATTACHABLE",
          message: "Some time entries cannot be attached to this invoice",
          details: { invoiced: [...entries].sort() },
        },
      });
      const rows = await h.sql("select distinct invoice_id from time_entries where id = any($1::uuid[])", [
        `{${entries.join(",")}}`,
      ]);
      expect(rows).toEqual([{ invoice_id: invoices[winner] }]);
    }
  });
});

describe(`an invoice voided or deleted while entries are attached to it (${onPostgres() ? "Postgres server" : "PGlite"})`, () => {
  // The void (or delete) waits for the attach's lock on the invoice; its snapshot is older than the attach's commit,
  // so it runs again rather than release (or delete) without the entries attached meanwhile.
  it.each(["void", "delete"])(
    "%s: no entry is left on a void or deleted invoice, and nothing fails",
    async (action) => {
      for (let round = 0; round < 15; round++) {
        const customerId = await createCustomer(h, team.organizationId);
        const projectId = await createProject(h, team.organizationId, { customerId });
        const entries = await Promise.all(
          Array.from({ length: 3 }, (_, i) =>
            createEntry(h, team.member, {
              projectId,
              start: `2026-11-0${i + 1}T09:00:00Z`,
              end: `2026-11-0${i + 1}T10:00:00Z`,
            }),
          ),
        );
        const invoice = await createInvoice(h, team.organizationId, { customerId });
        const [attached, ended] = await concurrently(2, (i) =>
          i === 0
            ? h.call("POST", `/v1/invoices/${invoice}/time-entries`, {
                token: team.owner.token,
                body: { time_entry_ids: entries },
              })
            : action === "void"
              ? h.call("PATCH", `/v1/invoices/${invoice}`, { token: team.owner.token, body: { status: "void" } })
              : h.call("DELETE", `/v1/invoices/${invoice}`, { token: team.owner.token }),
        );
        expect(ended?.status).toBe(action === "void" ? 200 : 204);
        expect([200, 404, 409]).toContain(attached?.status);
        const rows = await h.sql("select invoice_id from time_entries where id = any($1::uuid[])", [
          `{${entries.join(",")}}`,
        ]);
        expect(rows).toEqual(entries.map(() => ({ invoice_id: null })));
      }
    },
  );
});
