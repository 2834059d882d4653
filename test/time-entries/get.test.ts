import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TimeEntry } from "../../src/routes/time-entries/time-entries.schemas";
import { createCustomer, createEntry, createInvoice, createProject, createTeam, type Team } from "../support/factories";
import { type Harness, isoFromPostgres, startHarness } from "../support/harness";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

describe("GET /v1/time-entries/{id}", () => {
  it("returns the entry with its user, project, customer and invoice", async () => {
    const customerId = await createCustomer(h, team.organizationId, "Acme GmbH");
    const projectId = await createProject(h, team.organizationId, {
      name: "Relaunch",
      customerId,
      hourlyRate: "120.50",
      currency: "EUR",
    });
    const invoiceId = await createInvoice(h, team.organizationId, { customerId, number: "INV-1" });
    const id = await createEntry(h, team.member, {
      projectId,
      invoiceId,
      start: "2026-11-28T10:00:00+01:00",
      end: "2026-11-28T11:30:15.5+01:00",
      description: "Planning",
      billable: true,
    });
    const [row] = await h.sql("select created_at, updated_at from time_entries where id = $1", [id]);

    const res = await h.call("GET", `/v1/time-entries/${id}`, { token: team.member.token });

    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe('"1"');
    expect(TimeEntry.parse(res.body.data)).toEqual(res.body.data);
    expect(res.body).toEqual({
      data: {
        id,
        organization_id: team.organizationId,
        user_id: team.member.id,
        project_id: projectId,
        start_time: "2026-11-28T09:00:00.000Z",
        end_time: "2026-11-28T10:30:15.500Z",
        duration: 5415,
        description: "Planning",
        billable: true,
        invoice_id: invoiceId,
        created_at: isoFromPostgres(row?.created_at),
        updated_at: isoFromPostgres(row?.updated_at),
        version: 1,
        user: {
          id: team.member.id,
          full_name: "Mia Member",
          email: expect.stringMatching(/@test\.example$/),
          avatar_url: null,
        },
        project: {
          id: projectId,
          name: "Relaunch",
          customer_id: customerId,
          hourly_rate: 120.5,
          currency: "EUR",
          customer: { id: customerId, name: "Acme GmbH" },
        },
        invoice: { id: invoiceId, number: "INV-1", status: "draft", date: "2026-11-30", due_date: null },
      },
    });
  });

  it("returns null project and invoice, and a null duration, for a running entry without a project", async () => {
    const id = await createEntry(h, team.otherMember, { start: "2026-11-28T08:00:00Z", end: null });
    const res = await h.call("GET", `/v1/time-entries/${id}`, { token: team.otherMember.token });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      end_time: null,
      duration: null,
      project: null,
      invoice: null,
      project_id: null,
    });
  });

  it("lets owner and admin read any entry of their organization", async () => {
    const id = await createEntry(h, team.member);
    for (const reader of [team.owner, team.admin]) {
      const res = await h.call("GET", `/v1/time-entries/${id}`, { token: reader.token });
      expect(res.status).toBe(200);
      expect(res.body.data.id).toBe(id);
    }
  });

  it("answers 404 when a member reads another member's entry", async () => {
    const id = await createEntry(h, team.otherMember);
    const res = await h.call("GET", `/v1/time-entries/${id}`, { token: team.member.token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: "NOT_FOUND", message: "Time entry not found" } });
  });

  it("answers 404 for an id that does not exist", async () => {
    const res = await h.call("GET", `/v1/time-entries/${crypto.randomUUID()}`, { token: team.owner.token });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("NOT_FOUND");
  });

  it("answers 400 for an id that is not a UUID", async () => {
    const res = await h.call("GET", "/v1/time-entries/not-a-uuid", { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { code: "VALIDATION_ERROR", message: "Invalid request path", details: { id: ["Must be a UUID"] } },
    });
  });
});
