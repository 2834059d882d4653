// The database guards the invariants itself, whatever writes to it: these
// inserts are what an operator (or a buggy client of the tables) might try.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createCustomer,
  createEntry,
  createInvoice,
  createMember,
  createOrganization,
  createProject,
  createUser,
} from "./support/factories";
import { type Harness, startHarness } from "./support/harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

async function failure(query: string, params: unknown[] = []) {
  try {
    await h.sql(query, params);
  } catch (error) {
    const { code, constraint } = error as { code?: string; constraint?: string };
    return { code, constraint };
  }
  throw new Error(`expected the database to refuse: ${query}`);
}

describe("database invariants", () => {
  it("lets an operator insert rows with only the required columns", async () => {
    const [org] = await h.sql("insert into organizations default values returning id, created_at, updated_at");
    expect(org?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(org?.created_at).toBe(org?.updated_at);
    const [user] = await h.sql("insert into users (email) values ('minimal@test.example') returning id, full_name");
    await h.sql("insert into organization_members (organization_id, user_id) values ($1, $2)", [org?.id, user?.id]);
    const [member] = await h.sql("select role from organization_members where user_id = $1", [user?.id]);
    expect(member?.role).toBe("member");
    const [project] = await h.sql("insert into projects (organization_id, name) values ($1, 'P') returning active", [
      org?.id,
    ]);
    expect(project?.active).toBe("t");
    const [invoice] = await h.sql(
      "insert into invoices (organization_id, number, date) values ($1, '1', '2026-11-30') returning status",
      [org?.id],
    );
    expect(invoice?.status).toBe("draft");
    const [entry] = await h.sql(
      "insert into time_entries (organization_id, user_id, start_time, end_time, description) values ($1, $2, '2026-11-28T09:00:00Z', '2026-11-28T09:01:01.999Z', '') returning billable, duration",
      [org?.id, user?.id],
    );
    expect(entry).toEqual({ billable: "f", duration: "61" });
  });

  it("keeps end_time after start_time", async () => {
    const org = await createOrganization(h);
    const member = await createMember(h, org, "member");
    for (const end of ["2026-11-28T09:00:00Z", "2026-11-28T08:00:00Z"]) {
      expect(
        await failure(
          "insert into time_entries (organization_id, user_id, start_time, end_time, description) values ($1, $2, '2026-11-28T09:00:00Z', $3, '')",
          [org, member.id, end],
        ),
      ).toEqual({ code: "23514", constraint: "time_entries_end_after_start_check" });
    }
  });

  it("allows one running timer per user per organization", async () => {
    const org = await createOrganization(h);
    const member = await createMember(h, org, "member");
    await createEntry(h, member, { end: null });
    expect(
      await failure(
        "insert into time_entries (organization_id, user_id, start_time, description) values ($1, $2, now(), '')",
        [org, member.id],
      ),
    ).toEqual({ code: "23505", constraint: "time_entries_one_running_timer_idx" });
    const elsewhere = await createOrganization(h);
    await h.sql("insert into organization_members (organization_id, user_id) values ($1, $2)", [elsewhere, member.id]);
    await createEntry(h, { id: member.id, organizationId: elsewhere }, { end: null });
  });

  it("keeps an entry's project, invoice and user inside its organization", async () => {
    const org = await createOrganization(h);
    const member = await createMember(h, org, "member");
    const other = await createOrganization(h);
    const theirProject = await createProject(h, other);
    const theirInvoice = await createInvoice(h, other);
    const outsider = await createUser(h);
    expect(
      await failure(
        "insert into time_entries (organization_id, user_id, project_id, start_time, description) values ($1, $2, $3, now(), '')",
        [org, member.id, theirProject],
      ),
    ).toEqual({ code: "23503", constraint: "time_entries_project_fk" });
    expect(
      await failure(
        "insert into time_entries (organization_id, user_id, invoice_id, start_time, description) values ($1, $2, $3, now(), '')",
        [org, member.id, theirInvoice],
      ),
    ).toEqual({ code: "23503", constraint: "time_entries_invoice_fk" });
    expect(
      await failure(
        "insert into time_entries (organization_id, user_id, start_time, description) values ($1, $2, now(), '')",
        [org, outsider],
      ),
    ).toEqual({ code: "23503", constraint: "time_entries_member_fk" });
  });

  it("keeps a project's and an invoice's customer inside their organization", async () => {
    const org = await createOrganization(h);
    const theirCustomer = await createCustomer(h, await createOrganization(h));
    expect(
      await failure("insert into projects (organization_id, name, customer_id) values ($1, 'P', $2)", [
        org,
        theirCustomer,
      ]),
    ).toEqual({ code: "23503", constraint: "projects_customer_fk" });
    expect(
      await failure(
        "insert into invoices (organization_id, number, date, customer_id) values ($1, 'X', '2026-11-30', $2)",
        [org, theirCustomer],
      ),
    ).toEqual({ code: "23503", constraint: "invoices_customer_fk" });
  });

  it("checks rates, currencies, statuses, roles and country codes", async () => {
    const org = await createOrganization(h);
    const user = await createUser(h);
    const cases: [string, unknown[], string][] = [
      [
        "insert into projects (organization_id, name, hourly_rate) values ($1, 'P', 10)",
        [org],
        "projects_rate_needs_currency_check",
      ],
      [
        "insert into projects (organization_id, name, hourly_rate, currency) values ($1, 'P', -1, 'EUR')",
        [org],
        "projects_hourly_rate_check",
      ],
      [
        "insert into projects (organization_id, name, currency) values ($1, 'P', 'eur')",
        [org],
        "projects_currency_check",
      ],
      [
        "insert into invoices (organization_id, number, date, status) values ($1, 'S', '2026-11-30', 'lost')",
        [org],
        "invoices_status_check",
      ],
      [
        "insert into invoices (organization_id, number, date, due_date) values ($1, 'D', '2026-11-30', '2026-11-29')",
        [org],
        "invoices_due_date_check",
      ],
      [
        "insert into organization_members (organization_id, user_id, role) values ($1, $2, 'king')",
        [org, user],
        "organization_members_role_check",
      ],
      [
        "insert into customers (organization_id, name, country_code) values ($1, 'C', 'deu')",
        [org],
        "customers_country_code_check",
      ],
    ];
    for (const [query, params, constraint] of cases) {
      expect(await failure(query, params)).toEqual({ code: "23514", constraint });
    }
  });

  it("keeps invoice numbers unique within an organization only", async () => {
    const org = await createOrganization(h);
    await createInvoice(h, org, { number: "INV-1" });
    expect(
      await failure("insert into invoices (organization_id, number, date) values ($1, 'INV-1', '2026-11-30')", [org]),
    ).toEqual({ code: "23505", constraint: "invoices_organization_id_number_key" });
    await createInvoice(h, await createOrganization(h), { number: "INV-1" });
  });

  it("refuses to remove a member who has logged time, instead of losing their entries", async () => {
    const org = await createOrganization(h);
    const member = await createMember(h, org, "member");
    await createEntry(h, member);
    expect(await failure("delete from organization_members where user_id = $1", [member.id])).toEqual({
      code: "23503",
      constraint: "time_entries_member_fk",
    });
  });

  it("derives duration from the times, whole seconds", async () => {
    const org = await createOrganization(h);
    const member = await createMember(h, org, "member");
    const id = await createEntry(h, member, { start: "2026-11-28T09:00:00.900Z", end: "2026-11-28T09:00:02.100Z" });
    expect((await h.sql("select duration from time_entries where id = $1", [id]))[0]).toEqual({ duration: "1" });
    await h.sql("update time_entries set end_time = null where id = $1", [id]);
    expect((await h.sql("select duration from time_entries where id = $1", [id]))[0]).toEqual({ duration: null });
  });
});
