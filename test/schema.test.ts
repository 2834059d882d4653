// The database guards the invariants itself, whatever writes to it: these
// inserts are what an operator (or a buggy client of the tables) might try.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signatureHeader } from "../src/webhooks/signature";
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
import { subscribe, testSecret } from "./support/webhooks";

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
    const [user] = await h.sql("insert into users (email) values ('Minimal@test.example') returning id");
    await h.sql("insert into organization_members (organization_id, user_id) values ($1, $2)", [org?.id, user?.id]);
    const [member] = await h.sql("select role, email, full_name from organization_members where user_id = $1", [
      user?.id,
    ]);
    // The membership's address defaults to the user's (organization_members_default_email).
    expect(member).toEqual({ role: "member", email: "Minimal@test.example", full_name: null });
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

  it("keeps an active owner, whoever writes: removing or demoting the last one is refused", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner");
    const refused = { code: "23514", constraint: "organization_members_last_owner" };
    expect(await failure("delete from organization_members where user_id = $1", [owner.id])).toEqual(refused);
    expect(await failure("update organization_members set role = 'admin' where user_id = $1", [owner.id])).toEqual(
      refused,
    );
    expect(
      await failure("update organization_members set status = 'removed', removed_at = now() where user_id = $1", [
        owner.id,
      ]),
    ).toEqual(refused);
    const elsewhere = await createOrganization(h);
    expect(
      await failure("update organization_members set organization_id = $2 where user_id = $1", [owner.id, elsewhere]),
    ).toEqual(refused);
  });

  it("keeps only signing secrets that can sign: whsec_ and padded base64 of a byte or more, the previous one too", async () => {
    const org = await createOrganization(h);
    const { id } = await subscribe(h, org);
    const bytes = (n: number) => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n))));
    // Standard Webhooks secrets of other lengths written by hand: they sign, so they are kept.
    for (const secret of [`whsec_${bytes(24)}`, `whsec_${bytes(64)}`, "whsec_dGVzdA==", "whsec_dGVzdDE="]) {
      await h.sql("update webhook_subscriptions set secret = $2 where id = $1", [id, secret]);
      expect(await signatureHeader([secret], "msg_1", 1_700_000_000, "{}")).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    }
    const refused = { code: "23514", constraint: "webhook_subscriptions_secret_format_check" };
    // Without its padding, a secret Standard Webhooks libraries refuse to load ("incorrect padding").
    const unpadded = ["whsec_dGVzdA", "whsec_dGVzdDE"];
    for (const secret of [
      "whsec_not base64!",
      "whsec_",
      "whsec_A",
      `whsec_${"A".repeat(41)}`,
      `${testSecret()} `,
      ...unpadded,
    ])
      expect(await failure("update webhook_subscriptions set secret = $2 where id = $1", [id, secret])).toEqual(
        refused,
      );
    expect(
      await failure(
        "update webhook_subscriptions set previous_secret = 'whsec_x', previous_secret_expires_at = now() where id = $1",
        [id],
      ),
    ).toEqual(refused);
  });

  it("deletes organizations with every row they own in one statement, their last owners and their own people included, and nothing else", async () => {
    const organizationTables = (
      await h.sql(
        `select table_name from information_schema.columns
         where table_schema = 'public' and column_name = 'organization_id' order by table_name`,
      )
    ).map((row) => row.table_name as string);
    const rowsOf = async (org: string) =>
      Object.fromEntries(
        await Promise.all(
          organizationTables.map(async (table) => {
            const [row] = await h.sql(`select count(*)::int as n from ${table} where organization_id = $1`, [org]);
            return [table, Number(row?.n)];
          }),
        ),
      );
    const fullOrganization = async () => {
      const org = await createOrganization(h);
      const owner = await createMember(h, org, "owner");
      const customerId = await createCustomer(h, org);
      const projectId = await createProject(h, org, { customerId });
      const invoiceId = await createInvoice(h, org, { customerId });
      const entryId = await createEntry(h, owner, { projectId, invoiceId });
      // A departure for the sync feed (migration 0038).
      await h.sql("update time_entries set description = 'Edited' where id = $1", [entryId]);
      await h.sql(
        "insert into idempotency_keys (organization_id, user_id, key, request_hash) values ($1, $2, 'k', 'h')",
        [org, owner.id],
      );
      await h.sql(
        `with subscription as (
           insert into webhook_subscriptions (organization_id, url, events, secret)
           values ($1, 'https://hooks.test.example/', '{time_entry.created}', $2) returning id
         ), event as (
           insert into webhook_events (organization_id, type, data) values ($1, 'time_entry.created', '{}') returning id
         )
         insert into webhook_deliveries (organization_id, event_id, subscription_id)
         select $1, event.id, subscription.id from event, subscription`,
        [org, testSecret()],
      );
      return { org, owner };
    };
    const gone = await fullOrganization();
    const alsoGone = await fullOrganization();
    const kept = await fullOrganization();
    await h.sql("insert into organization_members (organization_id, user_id) values ($1, $2)", [
      kept.org,
      alsoGone.owner.id,
    ]);
    // Every table that holds an organization's rows has some here: a new one must be seeded above.
    for (const n of Object.values(await rowsOf(gone.org))) expect(n).toBeGreaterThan(0);
    const keptRows = await rowsOf(kept.org);

    const deleted = await h.sql("select delete_organizations($1::uuid[]) as id", [
      `{${gone.org},${alsoGone.org},${crypto.randomUUID()}}`,
    ]);
    expect(deleted.map((row) => row.id).sort()).toEqual([gone.org, alsoGone.org].sort());
    for (const { org } of [gone, alsoGone]) {
      for (const n of Object.values(await rowsOf(org))) expect(n).toBe(0);
      expect(await h.sql("select id from organizations where id = $1", [org])).toEqual([]);
    }
    expect(await rowsOf(kept.org)).toEqual(keptRows);
    // People who belonged to no other organization go with it; one who also belongs to another stays, member there.
    expect(
      await h.sql("select id from users where id = any($1::uuid[])", [`{${gone.owner.id},${alsoGone.owner.id}}`]),
    ).toEqual([{ id: alsoGone.owner.id }]);
    expect(await h.sql("select role from organization_members where user_id = $1", [alsoGone.owner.id])).toEqual([
      { role: "member" },
    ]);
  });

  it("moves updated_at with the version on every UPDATE, an operator's too, and keeps an updated_at it sets", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner");
    const customer = await createCustomer(h, org);
    const rows: [table: string, id: string, change: string][] = [
      ["organizations", org, "name = name || '!'"],
      ["customers", customer, "name = name || '!'"],
      ["projects", await createProject(h, org, { customerId: customer }), "name = name || '!'"],
      ["invoices", await createInvoice(h, org, { customerId: customer }), "due_date = '2026-12-31'"],
      ["time_entries", await createEntry(h, owner), "description = 'corrected'"],
      ["webhook_subscriptions", (await subscribe(h, org)).id, "description = coalesce(description, '') || '!'"],
    ];
    const longAgo = "2001-01-01 00:00:00+00";
    for (const [table, id, change] of rows) {
      const [set] = await h.sql(
        `update ${table} set ${change}, updated_at = $2 where id = $1 returning version, updated_at`,
        [id, longAgo],
      );
      expect(set, table).toEqual({ version: "2", updated_at: longAgo });
      const [touched] = await h.sql(
        `update ${table} set ${change} where id = $1 returning version, updated_at > now() - interval '1 minute' as recent`,
        [id],
      );
      expect(touched, table).toEqual({ version: "3", recent: "t" });
    }
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
