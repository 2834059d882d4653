import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvoiceWithSummary } from "../../src/routes/invoices/invoices.schemas";
import {
  createCustomer,
  createEntry,
  createInvoice,
  createOrganization,
  createProject,
  createTeam,
  type Team,
} from "../support/factories";
import { type Harness, isoFromPostgres, startHarness } from "../support/harness";
import { expectNoOpPatch } from "../support/no-op";
import { eventsOf, subscribe } from "../support/webhooks";

let h: Harness;
let team: Team;
let customerId: string;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
  customerId = await createCustomer(h, team.organizationId, "Acme GmbH");
});
afterAll(() => h?.close());

const emptySummary = { entry_count: 0, total_seconds: 0, billable_seconds: 0, amounts: [] };
const number = () => `INV-${crypto.randomUUID().slice(0, 8)}`;

async function newDraft(customer = customerId) {
  const res = await h.call("POST", "/v1/invoices", {
    token: team.owner.token,
    body: { customer_id: customer, number: number(), date: "2026-11-30" },
  });
  expect(res.status).toBe(201);
  return res.body.data.id as string;
}

describe("POST /v1/invoices", () => {
  it("creates a draft with its customer and an empty summary", async () => {
    const res = await h.call("POST", "/v1/invoices", {
      token: team.admin.token,
      body: { customer_id: customerId, number: "INV-2026-0001", date: "2026-11-30", due_date: "2026-12-14" },
    });
    expect(res.status).toBe(201);
    const id = res.body.data.id;
    expect(res.headers.get("location")).toBe(`/v1/invoices/${id}`);
    expect(res.headers.get("ETag")).toBe('"1"');
    const [row] = await h.sql("select created_at, updated_at from invoices where id = $1", [id]);
    expect(res.body).toEqual({
      data: {
        id,
        organization_id: team.organizationId,
        customer_id: customerId,
        number: "INV-2026-0001",
        status: "draft",
        date: "2026-11-30",
        due_date: "2026-12-14",
        created_at: isoFromPostgres(row?.created_at),
        updated_at: isoFromPostgres(row?.updated_at),
        version: 1,
        customer: { id: customerId, name: "Acme GmbH", email: null },
        summary: emptySummary,
      },
    });
    expect(InvoiceWithSummary.parse(res.body.data)).toEqual(res.body.data);
  });

  it("answers 409 DUPLICATE_NUMBER for a number already used in the organization, but not in another", async () => {
    await createInvoice(h, team.organizationId, { customerId, number: "DUP-1" });
    const res = await h.call("POST", "/v1/invoices", {
      token: team.owner.token,
      body: { customer_id: customerId, number: "DUP-1", date: "2026-11-30" },
    });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: {
        code: "DUPLICATE_NUMBER",
        message: "An invoice numbered DUP-1 already exists",
        details: { number: "DUP-1" },
      },
    });

    const other = await createTeam(h);
    const otherCustomer = await createCustomer(h, other.organizationId);
    const elsewhere = await h.call("POST", "/v1/invoices", {
      token: other.owner.token,
      body: { customer_id: otherCustomer, number: "DUP-1", date: "2026-11-30" },
    });
    expect(elsewhere.status).toBe(201);
  });

  it("refuses a number with a tab, a line break, an invisible or a non-breaking character, and takes plain spaces", async () => {
    const create = (number: string) =>
      h.call("POST", "/v1/invoices", {
        token: team.owner.token,
        body: { customer_id: customerId, number, date: "2026-11-30" },
      });
    for (const number of [
      "LOOK-1\u200b",
      "LOOK\u00a0-1",
      "LOOK\t1",
      "LOOK\n1",
      "LOOK\u2028-1",
      "\u202eLOOK-1",
      "LOOK-1\u3164",
      "LOOK\u115f-1",
      "LOOK-1\u2800",
    ]) {
      const res = await create(number);
      expect([JSON.stringify(number), res.status, res.body.error?.details]).toEqual([
        JSON.stringify(number),
        400,
        {
          number: [
            "Must be printable characters and plain spaces (no tabs, line breaks, invisible or non-breaking characters)",
          ],
        },
      ]);
    }
    expect(await h.sql("select id from invoices where number like 'LOOK%'")).toEqual([]);
    const padded = await create(" LOOK-3");
    expect([padded.status, padded.body.error?.details]).toEqual([
      400,
      { number: ["Must not start or end with whitespace"] },
    ]);
    const decomposed = await create("LOOK-Cafe\u0301");
    expect([decomposed.status, decomposed.body.error?.details]).toEqual([
      400,
      {
        number: [
          "Must be in Unicode normalization form C (NFC): an accented letter as one character where Unicode has it",
        ],
      },
    ]);
    const spaced = await create("LOOK 2026/1 – Ümlaut");
    expect([spaced.status, spaced.body.data?.number]).toEqual([201, "LOOK 2026/1 – Ümlaut"]);
  });

  it("rejects a due date before the date, a bad date and a foreign customer", async () => {
    const early = await h.call("POST", "/v1/invoices", {
      token: team.owner.token,
      body: { customer_id: customerId, number: "E-1", date: "2026-11-30", due_date: "2026-11-29" },
    });
    expect(early.status).toBe(400);
    expect(early.body.error.details).toEqual({ due_date: ["Must be on or after date"] });

    const badDate = await h.call("POST", "/v1/invoices", {
      token: team.owner.token,
      body: { customer_id: customerId, number: "E-2", date: "2026-02-30" },
    });
    expect(badDate.status).toBe(400);
    expect(badDate.body.error.details).toEqual({ date: ["Must be a calendar date, YYYY-MM-DD"] });

    const foreign = await createCustomer(h, await createOrganization(h));
    const res = await h.call("POST", "/v1/invoices", {
      token: team.owner.token,
      body: { customer_id: foreign, number: "E-3", date: "2026-11-30" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: "VALIDATION_ERROR",
      message: "Invalid customer_id",
      details: { customer_id: ["No such customer in this organization"] },
    });
    expect(await h.sql("select id from invoices where number like 'E-%'")).toEqual([]);
  });

  it("is forbidden to a member", async () => {
    const res = await h.call("POST", "/v1/invoices", {
      token: team.member.token,
      body: { customer_id: customerId, number: "M-1", date: "2026-11-30" },
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: "FORBIDDEN", message: "Only owners and admins can create invoices" } });
  });
});

describe("GET /v1/invoices", () => {
  it("lists newest date first, filters by status and customer, and pages", async () => {
    const t = await createTeam(h);
    const a = await createCustomer(h, t.organizationId, "A");
    const b = await createCustomer(h, t.organizationId, "B");
    const ids: string[] = [];
    for (const [customer, date, status] of [
      [a, "2026-01-10", "draft"],
      [a, "2026-03-10", "sent"],
      [b, "2026-02-10", "paid"],
    ] as const) {
      const [row] = await h.sql(
        "insert into invoices (organization_id, customer_id, number, date, status) values ($1, $2, $3, $4, $5) returning id",
        [t.organizationId, customer, number(), date, status],
      );
      ids.push(row?.id as string);
    }
    const list = async (query: string) => {
      const res = await h.call("GET", `/v1/invoices${query}`, { token: t.admin.token });
      expect(res.status).toBe(200);
      return res.body;
    };

    expect((await list("")).data.map((i: { id: string }) => i.id)).toEqual([ids[1], ids[2], ids[0]]);
    expect((await list("?status=sent")).data.map((i: { id: string }) => i.id)).toEqual([ids[1]]);
    expect((await list(`?customer_id=${a}`)).data.map((i: { id: string }) => i.id)).toEqual([ids[1], ids[0]]);
    const first = await list("?limit=2");
    expect(first.meta.count).toBe(2);
    const second = await list(`?limit=2&cursor=${first.meta.next_cursor}`);
    expect(second).toMatchObject({ data: [{ id: ids[0] }], meta: { count: 1, next_cursor: null } });
    expect(first.data[0]).not.toHaveProperty("summary");
  });

  it("is forbidden to a member and rejects an unknown status", async () => {
    const forbidden = await h.call("GET", "/v1/invoices", { token: team.member.token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({
      error: { code: "FORBIDDEN", message: "Only owners and admins can read invoices" },
    });
    const bad = await h.call("GET", "/v1/invoices?status=lost", { token: team.owner.token });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details)).toEqual(["status"]);
  });
});

describe("GET /v1/invoices/{id}", () => {
  it("sums attached entries: seconds, billable seconds and the amount per currency in exact decimals", async () => {
    const eur = await createProject(h, team.organizationId, { customerId, hourlyRate: "100.00", currency: "EUR" });
    const usd = await createProject(h, team.organizationId, { customerId, hourlyRate: "33.33", currency: "USD" });
    const unrated = await createProject(h, team.organizationId, { customerId });
    const id = await newDraft();
    // 1 h 30 min at 100 EUR = 150.00; 20 min at 100 EUR = 33.333… ; together 183.33
    await createEntry(h, team.member, {
      projectId: eur,
      invoiceId: id,
      billable: true,
      start: "2026-11-02T09:00:00Z",
      end: "2026-11-02T10:30:00Z",
    });
    await createEntry(h, team.admin, {
      projectId: eur,
      invoiceId: id,
      billable: true,
      start: "2026-11-03T09:00:00Z",
      end: "2026-11-03T09:20:00Z",
    });
    // 10 min at 33.33 USD = 5.555 → 5.56
    await createEntry(h, team.member, {
      projectId: usd,
      invoiceId: id,
      billable: true,
      start: "2026-11-04T09:00:00Z",
      end: "2026-11-04T09:10:00Z",
    });
    // not billable, and billable without a rate: counted in seconds only
    await createEntry(h, team.member, {
      projectId: eur,
      invoiceId: id,
      billable: false,
      start: "2026-11-05T09:00:00Z",
      end: "2026-11-05T10:00:00Z",
    });
    await createEntry(h, team.member, {
      projectId: unrated,
      invoiceId: id,
      billable: true,
      start: "2026-11-06T09:00:00Z",
      end: "2026-11-06T09:00:30Z",
    });

    const res = await h.call("GET", `/v1/invoices/${id}`, { token: team.admin.token });

    expect(res.status).toBe(200);
    expect(res.body.data.summary).toEqual({
      entry_count: 5,
      total_seconds: 5400 + 1200 + 600 + 3600 + 30,
      billable_seconds: 5400 + 1200 + 600 + 30,
      amounts: [
        { currency: "EUR", amount: "183.33" },
        { currency: "USD", amount: "5.56" },
      ],
    });
  });

  it("rounds the amount once, on the total, to what the summary of the same entries says", async () => {
    const project = await createProject(h, team.organizationId, { customerId, hourlyRate: "1.00", currency: "EUR" });
    const id = await newDraft();
    // 12 + 12 + 12 + 18 s at 1.00 EUR an hour = 0.015 EUR: 0.02. Each entry divided by 3,600 before the sum
    // (0.00333… three times, then 0.005) came to 0.01499…, hence 0.01.
    for (const [day, seconds] of [
      [2, 12],
      [3, 12],
      [4, 12],
      [5, 18],
    ] as const) {
      const start = `2026-10-0${day}T09:00:00Z`;
      const end = new Date(Date.parse(start) + seconds * 1000).toISOString();
      await createEntry(h, team.member, { projectId: project, invoiceId: id, billable: true, start, end });
    }
    const invoice = await h.call("GET", `/v1/invoices/${id}`, { token: team.admin.token });
    expect(invoice.body.data.summary.amounts).toEqual([{ currency: "EUR", amount: "0.02" }]);
    const summary = await h.call(
      "GET",
      `/v1/time-entries/summary?start_date=2026-10-02&end_date=2026-10-05&project_id=${project}`,
      {
        token: team.admin.token,
      },
    );
    expect(summary.body.data.totals.amounts).toEqual([{ currency: "EUR", amount: "0.02" }]);
  });

  it("bills each currency in its ISO 4217 minor unit, and freezes that when the invoice is sent", async () => {
    const yen = await createProject(h, team.organizationId, { customerId, hourlyRate: "1000", currency: "JPY" });
    const dinar = await createProject(h, team.organizationId, { customerId, hourlyRate: "1.50", currency: "KWD" });
    const id = await newDraft();
    for (const [projectId, start, seconds] of [
      [yen, "2026-10-12T09:00:00Z", 1200],
      [dinar, "2026-10-12T10:00:00Z", 420],
    ] as const) {
      const end = new Date(Date.parse(start) + seconds * 1000).toISOString();
      await createEntry(h, team.member, { projectId, invoiceId: id, billable: true, start, end });
    }
    const expected = [
      { currency: "JPY", amount: "333" },
      { currency: "KWD", amount: "0.175" },
    ];
    const draft = await h.call("GET", `/v1/invoices/${id}`, { token: team.admin.token });
    expect(draft.body.data.summary.amounts).toEqual(expected);
    const sent = await h.call("PATCH", `/v1/invoices/${id}`, { token: team.admin.token, body: { status: "sent" } });
    expect([sent.status, sent.body.data.summary.amounts]).toEqual([200, expected]);
  });

  it("rounds a trillion-sized amount once: the summary's quotient keeps its decimals before the minor unit", async () => {
    // 360,209 s × 9,999,999,999.99 / 3600 = 1,000,580,555,554.554975: 554.55. Divided with Postgres' default 16
    // significant digits it was first 554.5550, then 554.56.
    const big = await createProject(h, team.organizationId, {
      customerId,
      hourlyRate: "9999999999.99",
      currency: "EUR",
    });
    const id = await newDraft();
    await createEntry(h, team.member, {
      projectId: big,
      invoiceId: id,
      billable: true,
      start: "2026-08-01T00:00:00Z",
      end: "2026-08-05T04:03:29Z",
    });
    const expected = [{ currency: "EUR", amount: "1000580555554.55" }];
    const draft = await h.call("GET", `/v1/invoices/${id}`, { token: team.admin.token });
    expect(draft.body.data.summary.amounts).toEqual(expected);
    const summary = await h.call(
      "GET",
      `/v1/time-entries/summary?start_date=2026-08-01&end_date=2026-08-31&project_id=${big}`,
      {
        token: team.admin.token,
      },
    );
    expect(summary.body.data.totals.amounts).toEqual(expected);
    const sent = await h.call("PATCH", `/v1/invoices/${id}`, { token: team.admin.token, body: { status: "sent" } });
    expect([sent.status, sent.body.data.summary.amounts]).toEqual([200, expected]);
  });

  it("is 404 for an unknown id and forbidden to a member", async () => {
    const missing = await h.call("GET", `/v1/invoices/${crypto.randomUUID()}`, { token: team.owner.token });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: "NOT_FOUND", message: "Invoice not found" } });
    const id = await newDraft();
    expect((await h.call("GET", `/v1/invoices/${id}`, { token: team.member.token })).status).toBe(403);
  });
});

describe("PATCH /v1/invoices/{id}", () => {
  const move = (id: string, status: string) =>
    h.call("PATCH", `/v1/invoices/${id}`, { token: team.owner.token, body: { status } });

  it("follows draft → sent → overdue → paid, and staying put is a no-op", async () => {
    const id = await newDraft();
    for (const status of ["sent", "sent", "overdue", "paid"]) {
      const res = await move(id, status);
      expect(res.status, status).toBe(200);
      expect(res.body.data.status).toBe(status);
    }
  });

  it("changes nothing when asked for the status it has: no new version, no event, the invoice as it is", async () => {
    await subscribe(h, team.organizationId, { events: ["invoice.updated", "invoice.status_changed"] });
    const id = await newDraft();
    await createEntry(h, team.member, { invoiceId: id, start: "2026-10-09T09:00:00Z", end: "2026-10-09T10:00:00Z" });
    const before = await h.call("GET", `/v1/invoices/${id}`, { token: team.owner.token });
    const events = (await eventsOf(h, team.organizationId)).length;
    const same = await h.call("PATCH", `/v1/invoices/${id}`, {
      token: team.owner.token,
      body: { status: "draft" },
      headers: { "If-Match": before.headers.get("ETag") as string },
    });
    expect(same.status).toBe(200);
    expect(same.body).toEqual(before.body);
    expect(same.headers.get("ETag")).toBe(before.headers.get("ETag"));
    expect((await eventsOf(h, team.organizationId)).length).toBe(events);
    const stale = await h.call("PATCH", `/v1/invoices/${id}`, {
      token: team.owner.token,
      body: { status: "draft" },
      headers: { "If-Match": '"99"' },
    });
    expect(stale.status).toBe(412);
    // With another field it is an edit like any other.
    const renamed = await h.call("PATCH", `/v1/invoices/${id}`, {
      token: team.owner.token,
      body: { status: "draft", number: "NOOP-2" },
    });
    expect([renamed.status, renamed.body.data.version]).toEqual([200, before.body.data.version + 1]);
    expect((await eventsOf(h, team.organizationId)).map((event) => event.type).slice(events)).toEqual([
      "invoice.updated",
    ]);
  });

  it("changes nothing when every given field has that value, whichever fields: no new version, no event", async () => {
    const own = await createTeam(h);
    const customer = await createCustomer(h, own.organizationId);
    const id = await createInvoice(h, own.organizationId, { customerId: customer, number: "SAME-1" });
    await h.sql("update invoices set due_date = '2026-12-14' where id = $1", [id]);
    await createEntry(h, own.member, { invoiceId: id, start: "2026-10-09T09:00:00Z", end: "2026-10-09T10:00:00Z" });
    await expectNoOpPatch(h, {
      path: `/v1/invoices/${id}`,
      token: own.admin.token,
      organizationId: own.organizationId,
      same: { number: "SAME-1", date: "2026-11-30", due_date: "2026-12-14", status: "draft" },
      change: { number: "SAME-1", due_date: null },
      changedEvent: "invoice.updated",
    });
    // Other checks stand: the content of an invoice that left draft cannot be edited, even to what it is.
    await h.call("PATCH", `/v1/invoices/${id}`, { token: own.owner.token, body: { status: "sent" } });
    const sent = await h.call("PATCH", `/v1/invoices/${id}`, { token: own.owner.token, body: { number: "SAME-1" } });
    expect([sent.status, sent.body.error?.code]).toEqual([409, "INVOICE_NOT_DRAFT"]);
    const byMember = await h.call("PATCH", `/v1/invoices/${id}`, { token: own.member.token, body: { status: "sent" } });
    expect(byMember.status).toBe(403);
  });

  it("answers 409 INVALID_STATUS_TRANSITION for a move the lifecycle does not allow", async () => {
    const id = await newDraft();
    const toPaid = await move(id, "paid");
    expect(toPaid.status).toBe(409);
    expect(toPaid.body).toEqual({
      error: {
        code: "INVALID_STATUS_TRANSITION",
        message: "An invoice cannot move from draft to paid",
        details: { from: "draft", to: "paid", allowed: ["sent", "void"] },
      },
    });
    await move(id, "sent");
    await move(id, "paid");
    const voided = await move(id, "void");
    expect(voided.status).toBe(409);
    expect(voided.body.error.details).toEqual({ from: "paid", to: "void", allowed: [] });
    const back = await move(await newDraft(), "void");
    expect(back.status).toBe(200);
    expect((await move(back.body.data.id, "draft")).status).toBe(409);
  });

  it("edits number and dates of a draft only", async () => {
    const id = await newDraft();
    const edited = await h.call("PATCH", `/v1/invoices/${id}`, {
      token: team.admin.token,
      body: { number: "EDIT-1", date: "2026-12-01", due_date: "2026-12-31", status: "sent" },
    });
    expect(edited.status).toBe(200);
    expect(edited.body.data).toMatchObject({
      number: "EDIT-1",
      date: "2026-12-01",
      due_date: "2026-12-31",
      status: "sent",
    });

    const locked = await h.call("PATCH", `/v1/invoices/${id}`, { token: team.admin.token, body: { number: "EDIT-2" } });
    expect(locked.status).toBe(409);
    expect(locked.body).toEqual({
      error: { code: "INVOICE_NOT_DRAFT", message: "The invoice is sent; only drafts can change" },
    });
    const [row] = await h.sql("select number from invoices where id = $1", [id]);
    expect(row?.number).toBe("EDIT-1");
  });

  it("keeps a draft following its entries when an edit names status draft beside another field", async () => {
    const project = await createProject(h, team.organizationId, { customerId, hourlyRate: "100.00", currency: "EUR" });
    const id = await newDraft();
    const hour = (day: string) =>
      createEntry(h, team.member, {
        projectId: project,
        billable: true,
        start: `${day}T09:00:00Z`,
        end: `${day}T10:00:00Z`,
      });
    const [first, second] = [await hour("2026-11-16"), await hour("2026-11-17")];
    const attach = (ids: string[]) =>
      h.call("POST", `/v1/invoices/${id}/time-entries`, { token: team.owner.token, body: { time_entry_ids: ids } });
    expect((await attach([first])).status).toBe(200);

    // A client sending the draft back as it holds it, with a new number: still a draft, summary not frozen.
    const edited = await h.call("PATCH", `/v1/invoices/${id}`, {
      token: team.owner.token,
      body: { status: "draft", number: number() },
    });
    expect(edited.status).toBe(200);
    expect((await h.sql("select issued_summary from invoices where id = $1", [id]))[0]?.issued_summary).toBeNull();

    const attached = await attach([second]);
    expect(attached.status).toBe(200);
    const twoHours = { entry_count: 2, total_seconds: 7200, billable_seconds: 7200 };
    expect(attached.body.data.summary).toEqual({ ...twoHours, amounts: [{ currency: "EUR", amount: "200.00" }] });
    await h.sql("update projects set hourly_rate = 150 where id = $1", [project]);
    const got = await h.call("GET", `/v1/invoices/${id}`, { token: team.owner.token });
    expect(got.body.data.summary).toEqual({ ...twoHours, amounts: [{ currency: "EUR", amount: "300.00" }] });
  });

  it("keeps the due date on or after the date and numbers unique", async () => {
    const id = await newDraft();
    const early = await h.call("PATCH", `/v1/invoices/${id}`, {
      token: team.owner.token,
      body: { due_date: "2026-01-01" },
    });
    expect(early.status).toBe(400);
    expect(early.body.error).toEqual({
      code: "VALIDATION_ERROR",
      message: "Invalid due_date",
      details: { due_date: ["Must be on or after date"] },
    });
    await createInvoice(h, team.organizationId, { customerId, number: "TAKEN-1" });
    const dup = await h.call("PATCH", `/v1/invoices/${id}`, { token: team.owner.token, body: { number: "TAKEN-1" } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("DUPLICATE_NUMBER");
  });

  it("rejects a customer change, is 404 for an unknown id and forbidden to a member", async () => {
    const id = await newDraft();
    const customer = await h.call("PATCH", `/v1/invoices/${id}`, {
      token: team.owner.token,
      body: { customer_id: customerId },
    });
    expect(customer.status).toBe(400);
    expect(customer.body.error.details).toMatchObject({ customer_id: ["Unknown field"] });
    expect((await move(crypto.randomUUID(), "sent")).status).toBe(404);
    const member = await h.call("PATCH", `/v1/invoices/${id}`, { token: team.member.token, body: { status: "sent" } });
    expect(member.status).toBe(403);
  });
});

describe("DELETE /v1/invoices/{id}", () => {
  it("deletes a draft and releases its entries", async () => {
    const id = await newDraft();
    const entry = await createEntry(h, team.member, { invoiceId: id });
    const res = await h.call("DELETE", `/v1/invoices/${id}`, { token: team.owner.token });
    expect(res.status).toBe(204);
    expect(await h.sql("select id from invoices where id = $1", [id])).toEqual([]);
    const [row] = await h.sql("select invoice_id from time_entries where id = $1", [entry]);
    expect(row?.invoice_id).toBeNull();
  });

  it("refuses anything but a draft", async () => {
    const id = await createInvoice(h, team.organizationId, { customerId, status: "sent" });
    const entry = await createEntry(h, team.member, { invoiceId: id });
    const res = await h.call("DELETE", `/v1/invoices/${id}`, { token: team.owner.token });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("INVOICE_NOT_DRAFT");
    const [row] = await h.sql("select invoice_id from time_entries where id = $1", [entry]);
    expect(row?.invoice_id).toBe(id);
  });

  it("is 404 for an unknown id and forbidden to a member", async () => {
    expect((await h.call("DELETE", `/v1/invoices/${crypto.randomUUID()}`, { token: team.owner.token })).status).toBe(
      404,
    );
    const id = await newDraft();
    expect((await h.call("DELETE", `/v1/invoices/${id}`, { token: team.member.token })).status).toBe(403);
  });
});

describe("POST and DELETE /v1/invoices/{id}/time-entries", () => {
  const attach = (id: string, ids: string[], token = team.owner.token) =>
    h.call("POST", `/v1/invoices/${id}/time-entries`, { token, body: { time_entry_ids: ids } });
  const detach = (id: string, ids: string[], token = team.owner.token) =>
    h.call("DELETE", `/v1/invoices/${id}/time-entries`, { token, body: { time_entry_ids: ids } });
  const invoiceOf = async (entry: string) =>
    (await h.sql("select invoice_id from time_entries where id = $1", [entry]))[0]?.invoice_id;

  it("attaches stopped entries of the customer's projects, locks them, and detaches them", async () => {
    const project = await createProject(h, team.organizationId, { customerId, hourlyRate: "60.00", currency: "EUR" });
    const id = await newDraft();
    const first = await createEntry(h, team.member, {
      projectId: project,
      billable: true,
      start: "2026-11-10T09:00:00Z",
      end: "2026-11-10T10:00:00Z",
    });
    const second = await createEntry(h, team.otherMember, {
      projectId: project,
      billable: true,
      start: "2026-11-10T09:00:00Z",
      end: "2026-11-10T09:30:00Z",
    });

    const res = await attach(id, [first, second]);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      id,
      summary: {
        entry_count: 2,
        total_seconds: 5400,
        billable_seconds: 5400,
        amounts: [{ currency: "EUR", amount: "90.00" }],
      },
    });
    expect(await invoiceOf(first)).toBe(id);

    const locked = await h.call("PATCH", `/v1/time-entries/${first}`, {
      token: team.member.token,
      body: { description: "x" },
    });
    expect(locked.status).toBe(409);
    expect(locked.body.error.code).toBe("ENTRY_LOCKED");

    const again = await attach(id, [first]);
    expect(again.status).toBe(200);
    expect(again.body.data.summary.entry_count).toBe(2);

    const detached = await detach(id, [first]);
    expect(detached.status).toBe(200);
    expect(detached.body.data.summary).toEqual({
      entry_count: 1,
      total_seconds: 1800,
      billable_seconds: 1800,
      amounts: [{ currency: "EUR", amount: "30.00" }],
    });
    expect(await invoiceOf(first)).toBeNull();
    expect(await invoiceOf(second)).toBe(id);
  });

  it("refuses running, invoiced and other customers' entries, all or nothing, listing them by reason", async () => {
    const project = await createProject(h, team.organizationId, { customerId });
    const otherCustomer = await createCustomer(h, team.organizationId, "Other");
    const otherProject = await createProject(h, team.organizationId, { customerId: otherCustomer });
    const id = await newDraft();
    const ok = await createEntry(h, team.member, { projectId: project });
    const running = await createEntry(h, team.admin, { projectId: project, end: null });
    const invoiced = await createEntry(h, team.member, { projectId: project, invoiceId: await newDraft() });
    const foreignCustomer = await createEntry(h, team.member, { projectId: otherProject });
    const noProject = await createEntry(h, team.member);

    const res = await attach(id, [ok, running, invoiced, foreignCustomer, noProject]);

    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: {
        code: "ENTRIES_NOT_ATTACHABLE",
        message: "Some time entries cannot be attached to this invoice",
        details: {
          running: [running],
          invoiced: [invoiced],
          other_customer: [foreignCustomer, noProject].sort(),
        },
      },
    });
    expect(await invoiceOf(ok)).toBeNull();
  });

  it("answers 404 listing ids that are unknown or another organization's, changing nothing", async () => {
    const project = await createProject(h, team.organizationId, { customerId });
    const id = await newDraft();
    const ok = await createEntry(h, team.member, { projectId: project });
    const other = await createTeam(h);
    const foreign = await createEntry(h, other.member);
    const unknown = crypto.randomUUID();

    const res = await attach(id, [ok, foreign, unknown]);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: {
        code: "NOT_FOUND",
        message: "Some time entries were not found",
        details: { time_entry_ids: [foreign, unknown].sort() },
      },
    });
    expect(await invoiceOf(ok)).toBeNull();
    expect(await invoiceOf(foreign)).toBeNull();
  });

  it("detaches only entries on this invoice", async () => {
    const id = await newDraft();
    const loose = await createEntry(h, team.member);
    const res = await detach(id, [loose]);
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: {
        code: "ENTRIES_NOT_ATTACHABLE",
        message: "Some time entries are not attached to this invoice",
        details: { not_attached: [loose] },
      },
    });
  });

  it("works on drafts only", async () => {
    const sent = await createInvoice(h, team.organizationId, { customerId, status: "sent" });
    const entry = await createEntry(h, team.member, { invoiceId: sent });
    const res = await detach(sent, [entry]);
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: { code: "INVOICE_NOT_DRAFT", message: "The invoice is sent; only drafts can change" },
    });
    expect((await attach(sent, [await createEntry(h, team.member)])).status).toBe(409);
    expect(await invoiceOf(entry)).toBe(sent);
  });

  it("validates the id list and is forbidden to a member", async () => {
    const id = await newDraft();
    const entry = await createEntry(h, team.member);
    const empty = await attach(id, []);
    expect(empty.status).toBe(400);
    expect(empty.body.error.details).toEqual({ time_entry_ids: ["Give 1 to 100 ids"] });
    const tooMany = await attach(
      id,
      Array.from({ length: 101 }, () => crypto.randomUUID()),
    );
    expect(tooMany.body.error.details).toEqual({ time_entry_ids: ["Give 1 to 100 ids"] });
    const repeated = await attach(id, [entry, entry.toUpperCase()]);
    expect(repeated.body.error.details).toEqual({ time_entry_ids: ["Must not repeat an id"] });
    const member = await attach(id, [entry], team.member.token);
    expect(member.status).toBe(403);
    expect(member.body.error.message).toBe("Only owners and admins can attach time entries");
    expect((await attach(crypto.randomUUID(), [entry])).status).toBe(404);
  });
});

describe("what an issued invoice billed", () => {
  const move = (id: string, status: string) =>
    h.call("PATCH", `/v1/invoices/${id}`, { token: team.owner.token, body: { status } });
  const summaryOf = async (id: string) =>
    (await h.call("GET", `/v1/invoices/${id}`, { token: team.owner.token })).body.data.summary;
  const billedHour = async (projectId: string, invoiceId: string, day: string) =>
    createEntry(h, team.member, {
      projectId,
      invoiceId,
      billable: true,
      start: `2026-10-${day}T09:00:00Z`,
      end: `2026-10-${day}T10:00:00Z`,
    });
  const oneHourAt = (currency: string, amount: string) => ({
    entry_count: 1,
    total_seconds: 3600,
    billable_seconds: 3600,
    amounts: [{ currency, amount }],
  });

  it("stays as it was sent when the project's rate or currency changes; a draft follows them; a billed project keeps its customer", async () => {
    const project = await createProject(h, team.organizationId, { customerId, hourlyRate: "100.00", currency: "EUR" });
    const sent = await newDraft();
    const billed = await billedHour(project, sent, "01");
    const draft = await newDraft();
    await billedHour(project, draft, "02");
    const moved = await move(sent, "sent");
    expect(moved.status).toBe(200);
    expect(moved.body.data.summary).toEqual(oneHourAt("EUR", "100.00"));

    const otherCustomer = await createCustomer(h, team.organizationId, "Initech");
    const patchProject = (body: object) =>
      h.call("PATCH", `/v1/projects/${project}`, { token: team.owner.token, body });
    const version = async () =>
      Number((await h.sql("select version from projects where id = $1", [project]))[0]?.version);
    // Billed to its customer: the project keeps it, whatever else comes with the change, and before the draft's rule.
    const invoiced = {
      code: "PROJECT_INVOICED",
      message: "The project's time entries are on invoices issued to its customer; its customer cannot change",
      details: { invoice_ids: [sent] },
    };
    const before = await version();
    const refused = await patchProject({ hourly_rate: 150, currency: "USD", customer_id: otherCustomer });
    expect([refused.status, refused.body.error]).toEqual([409, invoiced]);
    expect(await version()).toBe(before);
    expect((await patchProject({ customer_id: customerId })).status).toBe(200);
    expect((await patchProject({ hourly_rate: 150, currency: "USD" })).status).toBe(200);
    expect(await summaryOf(sent)).toEqual(oneHourAt("EUR", "100.00"));
    expect(await summaryOf(draft)).toEqual(oneHourAt("USD", "150.00"));

    expect((await move(sent, "paid")).body.data.summary).toEqual(oneHourAt("EUR", "100.00"));
    expect((await patchProject({ hourly_rate: null })).status).toBe(200);
    expect(await summaryOf(sent)).toEqual(oneHourAt("EUR", "100.00"));
    const paid = await patchProject({ customer_id: null });
    expect([paid.status, paid.body.error]).toEqual([409, invoiced]);
    // Voided, the invoice releases its entries: nothing billed holds the customer any more.
    await h.sql("update invoices set status = 'void' where id = $1", [sent]);
    await h.sql("update time_entries set invoice_id = null where id = $1", [billed]);
    await h.call("DELETE", `/v1/invoices/${draft}`, { token: team.owner.token });
    expect((await patchProject({ customer_id: otherCustomer })).status).toBe(200);
  });

  it("a new rate or currency of its billed hours is a new version of a draft, so If-Match cannot send amounts nobody saw", async () => {
    const own = await createTeam(h);
    await subscribe(h, own.organizationId, { events: ["invoice.updated"] });
    const customer = await createCustomer(h, own.organizationId, "Globex");
    const rated = await createProject(h, own.organizationId, {
      customerId: customer,
      hourlyRate: "100.00",
      currency: "EUR",
    });
    const unbilledOnly = await createProject(h, own.organizationId, {
      customerId: customer,
      hourlyRate: "10.00",
      currency: "EUR",
    });
    const draft = await createInvoice(h, own.organizationId, { customerId: customer });
    const issued = await createInvoice(h, own.organizationId, { customerId: customer });
    const hour = (projectId: string, invoiceId: string, day: string, billable = true) =>
      createEntry(h, own.member, {
        projectId,
        invoiceId,
        billable,
        start: `2026-10-${day}T09:00:00Z`,
        end: `2026-10-${day}T10:00:00Z`,
      });
    await hour(rated, draft, "01");
    await hour(unbilledOnly, draft, "02", false);
    await hour(rated, issued, "03");
    const send = (id: string, headers: Record<string, string> = {}) =>
      h.call("PATCH", `/v1/invoices/${id}`, { token: own.owner.token, headers, body: { status: "sent" } });
    expect((await send(issued)).status).toBe(200);
    const read = (id: string) => h.call("GET", `/v1/invoices/${id}`, { token: own.owner.token });
    const reviewed = await read(draft);
    const issuedBefore = await read(issued);
    const patchProject = (id: string, body: object) =>
      h.call("PATCH", `/v1/projects/${id}`, { token: own.owner.token, body });

    // Neither a name nor the rate of hours it does not bill moves the draft's amounts: same version.
    expect((await patchProject(rated, { name: "Renamed" })).status).toBe(200);
    expect((await patchProject(unbilledOnly, { hourly_rate: 20 })).status).toBe(200);
    expect((await read(draft)).headers.get("ETag")).toBe(reviewed.headers.get("ETag"));

    const member = await h.call("PATCH", `/v1/projects/${rated}`, {
      token: own.member.token,
      body: { hourly_rate: 300 },
    });
    expect([member.status, member.body.error.code]).toEqual([403, "FORBIDDEN"]);
    expect((await patchProject(rated, { hourly_rate: 200, currency: "USD" })).status).toBe(200);
    const repriced = await read(draft);
    expect(repriced.body.data).toMatchObject({
      version: reviewed.body.data.version + 1,
      summary: { entry_count: 2, amounts: [{ currency: "USD", amount: "200.00" }] },
    });
    expect(repriced.headers.get("ETag")).toBe(`"${reviewed.body.data.version + 1}"`);
    // The issued invoice keeps what it billed, and its version.
    expect((await read(issued)).body).toEqual(issuedBefore.body);

    const stale = await send(draft, { "If-Match": reviewed.headers.get("ETag") as string });
    expect([stale.status, stale.body.error.code]).toEqual([412, "PRECONDITION_FAILED"]);
    expect((await read(draft)).body.data.status).toBe("draft");

    const events = (await eventsOf(h, own.organizationId)).filter(
      (event) => event.type === "invoice.updated" && event.data.id === draft,
    );
    expect(
      events.map((event) => [event.data.id, event.data.version, event.data.summary.amounts, event.previous_attributes]),
    ).toEqual([[draft, reviewed.body.data.version + 1, [{ currency: "USD", amount: "200.00" }], {}]]);
    expect(events[0]?.data).toEqual(repriced.body.data);
  });

  it("a project whose entries are on a draft keeps its customer until they are detached", async () => {
    const project = await createProject(h, team.organizationId, { customerId, hourlyRate: "100.00", currency: "EUR" });
    const draft = await newDraft();
    const drafted = await billedHour(project, draft, "03");
    const patchProject = (body: object) =>
      h.call("PATCH", `/v1/projects/${project}`, { token: team.owner.token, body });
    const otherCustomer = await createCustomer(h, team.organizationId, "Initrode");
    const refused = await patchProject({ customer_id: otherCustomer });
    expect([refused.status, refused.body.error]).toEqual([
      409,
      {
        code: "PROJECT_ON_DRAFT_INVOICE",
        message:
          "The project's time entries are on draft invoices of its customer; detach them or issue the invoices first",
        details: { invoice_ids: [draft] },
      },
    ]);
    const detached = await h.call("DELETE", `/v1/invoices/${draft}/time-entries`, {
      token: team.owner.token,
      body: { time_entry_ids: [drafted] },
    });
    expect(detached.status).toBe(200);
    expect((await patchProject({ customer_id: otherCustomer })).status).toBe(200);
  });

  it.each(["draft", "sent"])(
    "voiding a %s invoice releases its entries, unbilled, and keeps its summary",
    async (from) => {
      await subscribe(h, team.organizationId, { events: ["time_entry.updated"] });
      const project = await createProject(h, team.organizationId, { customerId, hourlyRate: "80.00", currency: "EUR" });
      const id = await newDraft();
      const entry = await billedHour(project, id, "05");
      if (from === "sent") expect((await move(id, "sent")).status).toBe(200);
      const events = (await eventsOf(h, team.organizationId)).length;

      const voided = await move(id, "void");
      expect(voided.status).toBe(200);
      expect(voided.body.data).toMatchObject({ status: "void", summary: oneHourAt("EUR", "80.00") });
      expect(await summaryOf(id)).toEqual(oneHourAt("EUR", "80.00"));
      const [row] = await h.sql("select invoice_id from time_entries where id = $1", [entry]);
      expect(row?.invoice_id).toBeNull();
      const released = (await eventsOf(h, team.organizationId))
        .slice(events)
        .filter((event) => event.type === "time_entry.updated");
      expect(released.map((event) => [event.type, event.data.id, event.previous_attributes])).toEqual([
        ["time_entry.updated", entry, { invoice_id: id, invoice: expect.objectContaining({ id, status: from }) }],
      ]);

      // Unbilled again: it can be edited and billed on another invoice.
      const edited = await h.call("PATCH", `/v1/time-entries/${entry}`, {
        token: team.member.token,
        body: { description: "Rebilled" },
      });
      expect(edited.status).toBe(200);
      const next = await newDraft();
      const attached = await h.call("POST", `/v1/invoices/${next}/time-entries`, {
        token: team.owner.token,
        body: { time_entry_ids: [entry] },
      });
      expect(attached.status).toBe(200);
      expect(attached.body.data.summary).toEqual(oneHourAt("EUR", "80.00"));
      expect(await summaryOf(id)).toEqual(oneHourAt("EUR", "80.00"));
    },
  );
});
