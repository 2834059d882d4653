import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeCursor } from "../../src/lib/cursor";
import {
  createCustomer,
  createEntry,
  createInvoice,
  createMember,
  createOrganization,
  createProject,
  createTeam,
  type Team,
} from "../support/factories";
import { type Harness, startHarness } from "../support/harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

describe("GET /v1/time-entries billable, customer_id, invoiced and timezone filters", () => {
  let team: Team;
  const ids: Record<string, string> = {};
  let acme: string;
  let globex: string;
  let invoiceId: string;

  /** The ids listed for `query`, by fixture name, newest first. */
  async function listed(query: string, token = team.owner.token) {
    const res = await h.call("GET", `/v1/time-entries?limit=100&${query}`, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
    return res.body.data.map((e: { id: string }) => names[e.id] ?? e.id);
  }

  beforeAll(async () => {
    team = await createTeam(h);
    acme = await createCustomer(h, team.organizationId, "Acme");
    globex = await createCustomer(h, team.organizationId, "Globex");
    const acmeSite = await createProject(h, team.organizationId, { name: "Site", customerId: acme });
    const acmeApp = await createProject(h, team.organizationId, { name: "App", customerId: acme });
    const globexWork = await createProject(h, team.organizationId, { name: "Work", customerId: globex });
    const internal = await createProject(h, team.organizationId, { name: "Internal" });
    invoiceId = await createInvoice(h, team.organizationId, { customerId: acme });
    const at = (day: number, time = "09:00") => `2026-03-${String(day).padStart(2, "0")}T${time}:00Z`;
    const entry = (start: string, options: Parameters<typeof createEntry>[2] = {}, who = team.member) =>
      createEntry(h, who, { start, end: start.replace(/T\d\d/, "T23"), ...options });

    ids.siteInvoiced = await entry(at(2), { projectId: acmeSite, billable: true, invoiceId });
    ids.siteBillable = await entry(at(3), { projectId: acmeSite, billable: true });
    ids.appFree = await entry(at(4), { projectId: acmeApp, billable: false });
    ids.globexBillable = await entry(at(5), { projectId: globexWork, billable: true }, team.otherMember);
    ids.internal = await entry(at(6), { projectId: internal });
    ids.noProject = await entry(at(7));
    // Europe/Berlin starts summer time on Sunday 2026-03-29 at 01:00 UTC (02:00 CET → 03:00 CEST).
    // 2026-03-28T23:30Z is 00:30 on the 29th in Berlin; 2026-03-29T22:30Z is 00:30 on the 30th.
    ids.lateSaturday = await createEntry(h, team.member, {
      start: "2026-03-28T23:30:00Z",
      end: "2026-03-29T00:00:00Z",
    });
    ids.lateSunday = await createEntry(h, team.member, { start: "2026-03-29T22:30:00Z", end: "2026-03-29T23:00:00Z" });
    ids.sundayEvening = await createEntry(h, team.member, {
      start: "2026-03-29T21:30:00Z",
      end: "2026-03-29T22:00:00Z",
    });
  });

  it("filters by billable", async () => {
    expect(await listed("billable=true")).toEqual(["globexBillable", "siteBillable", "siteInvoiced"]);
    expect(await listed("billable=false&end_date=2026-03-10")).toEqual(["noProject", "internal", "appFree"]);
  });

  it("filters by customer: the entries of all its projects", async () => {
    expect(await listed(`customer_id=${acme}`)).toEqual(["appFree", "siteBillable", "siteInvoiced"]);
    expect(await listed(`customer_id=${globex}`)).toEqual(["globexBillable"]);
    expect(await listed(`customer_id=${globex}`, team.member.token)).toEqual([]);
    expect(await listed(`customer_id=${crypto.randomUUID()}`)).toEqual([]);
  });

  it("filters another organization's customer to nothing", async () => {
    const stranger = await createMember(h, await createOrganization(h, "Elsewhere"), "owner");
    const theirCustomer = await createCustomer(h, stranger.organizationId, "Theirs");
    const theirProject = await createProject(h, stranger.organizationId, { customerId: theirCustomer });
    await createEntry(h, stranger, { projectId: theirProject });
    expect(await listed(`customer_id=${theirCustomer}`)).toEqual([]);
  });

  it("filters by invoiced", async () => {
    expect(await listed("invoiced=true")).toEqual(["siteInvoiced"]);
    expect(await listed("invoiced=false&end_date=2026-03-10")).toEqual([
      "noProject",
      "internal",
      "globexBillable",
      "appFree",
      "siteBillable",
    ]);
  });

  it("filters by invoice_id: the invoice's lines, in the list, the export and the summary", async () => {
    const other = await createInvoice(h, team.organizationId, { customerId: acme });
    const secondLine = await createEntry(h, team.otherMember, {
      projectId: (await h.sql("select project_id from time_entries where id = $1", [ids.siteInvoiced]))[0]
        ?.project_id as string,
      start: "2026-03-01T09:00:00Z",
      end: "2026-03-01T10:00:00Z",
      billable: true,
      invoiceId,
    });
    expect(await listed(`invoice_id=${invoiceId}`)).toEqual(["siteInvoiced", secondLine]);
    expect(await listed(`invoice_id=${invoiceId}`, team.member.token)).toEqual(["siteInvoiced"]);
    expect(await listed(`invoice_id=${other}`)).toEqual([]);
    expect(await listed(`invoice_id=${invoiceId}&user_id=${team.otherMember.id}`)).toEqual([secondLine]);
    const theirs = await createInvoice(h, await createOrganization(h, "Other books"));
    expect(await listed(`invoice_id=${theirs}`)).toEqual([]);

    const csv = await h.call("GET", `/v1/time-entries/export?format=csv&invoice_id=${invoiceId}`, {
      token: team.owner.token,
    });
    expect([csv.status, String(csv.body).trimEnd().split("\r\n").length]).toEqual([200, 3]);
    const summary = await h.call(
      "GET",
      `/v1/time-entries/summary?start_date=2026-03-01&end_date=2026-03-31&invoice_id=${invoiceId}`,
      {
        token: team.owner.token,
      },
    );
    expect(summary.body.data.totals).toMatchObject({ entry_count: 2, total_seconds: 14 * 3600 + 3600 });
    const invalid = await h.call("GET", "/v1/time-entries?invoice_id=INV-1", { token: team.owner.token });
    expect([invalid.status, Object.keys(invalid.body.error.details)]).toEqual([400, ["invoice_id"]]);
    await h.sql("delete from time_entries where id = $1", [secondLine]);
  });

  it("combines the new filters with the others", async () => {
    expect(await listed(`customer_id=${acme}&billable=true&invoiced=false`)).toEqual(["siteBillable"]);
    expect(await listed(`billable=true&user_id=${team.otherMember.id}`)).toEqual(["globexBillable"]);
    expect(await listed("billable=true&start_date=2026-03-03&end_date=2026-03-04")).toEqual(["siteBillable"]);
  });

  it("cuts start_date and end_date in the time zone, on the day summer time starts", async () => {
    // Berlin's 2026-03-29 is 23 hours long: from 2026-03-28T23:00Z to 2026-03-29T22:00Z.
    const day = "start_date=2026-03-29&end_date=2026-03-29";
    expect(await listed(`${day}&timezone=Europe/Berlin`)).toEqual(["sundayEvening", "lateSaturday"]);
    expect(await listed(day)).toEqual(["lateSunday", "sundayEvening"]);
    expect(await listed(`${day}&timezone=UTC`)).toEqual(["lateSunday", "sundayEvening"]);
    expect(await listed("start_date=2026-03-30&end_date=2026-03-30&timezone=Europe/Berlin")).toEqual(["lateSunday"]);
    expect(await listed("end_date=2026-03-28&start_date=2026-03-28&timezone=America/New_York")).toEqual([
      "lateSaturday",
    ]);
  });

  it.each([
    ["billable=yes", "billable"],
    ["invoiced=", "invoiced"],
    ["customer_id=acme", "customer_id"],
    ["timezone=Europe/Nowhere", "timezone"],
    ["timezone=%2B02:00", "timezone"],
    ["timezone=Europe%2FBerlin%00", "timezone"],
    [`timezone=${"A".repeat(65)}`, "timezone"],
    ["start_date=0000-12-31", "start_date"],
    ["updated_since=0000-06-01T00:00:00Z", "updated_since"],
    ["updated_since=9999-12-31T20:00:00-05:00", "updated_since"],
  ])("%s is 400 VALIDATION_ERROR naming the field", async (query, field) => {
    const res = await h.call("GET", `/v1/time-entries?${query}`, { token: team.owner.token });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(Object.keys(res.body.error.details)).toEqual([field]);
  });

  it.each([
    "/v1/time-entries?timezone=CET&start_date=2026-07-01",
    "/v1/time-entries?timezone=eet",
    "/v1/time-entries/summary?timezone=MET&start_date=2026-07-01&end_date=2026-07-01",
    "/v1/time-entries/export?format=csv&timezone=WET",
  ])("refuses a zone name Postgres reads as a fixed-offset abbreviation (an hour off all summer): %s", async (path) => {
    // IANA's CET is +02:00 in summer; Postgres' AT TIME ZONE 'CET' is the abbreviation, +01:00 all year.
    const res = await h.call("GET", path, { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(Object.keys(res.body.error.details)).toEqual(["timezone"]);
  });

  it.each([
    "/v1/time-entries?timezone=US/Pacific-New&start_date=2026-03-01",
    "/v1/time-entries?timezone=US/Pacific-New",
    "/v1/time-entries?timezone=US/Pacific-New&updated_since=2026-03-01T00:00:00Z&include_deleted=true",
    "/v1/time-entries/export?format=csv&timezone=US/Pacific-New",
    "/v1/time-entries/export?format=json&timezone=US/Pacific-New&end_date=2026-03-01",
  ])("refuses a time zone only Intl knows, naming it, whether dates use it or not: %s", async (path) => {
    const res = await h.call("GET", path, { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { code: "VALIDATION_ERROR", message: "Invalid timezone", details: { timezone: ["Unknown time zone"] } },
    });
  });
});

describe("GET /v1/time-entries dates in the organization's time zone, paged", () => {
  it("keep the zone of the first page when the organization changes its own between pages", async () => {
    const team = await createTeam(h);
    // The UTC day 2026-10-25 holds the first three; Kiritimati's (+14:00) holds the middle one and the last.
    const starts = ["2026-10-25T23:00:00Z", "2026-10-25T12:00:00Z", "2026-10-25T00:30:00Z", "2026-10-24T22:00:00Z"];
    const byStart = new Map<string, string>();
    for (const start of starts) {
      byStart.set(await createEntry(h, team.owner, { start, end: start.replace(/:00Z$/, ":30Z") }), start);
    }
    const day = "start_date=2026-10-25&end_date=2026-10-25&limit=1";
    for (const query of [day, `${day}&updated_since=2026-01-01T00:00:00Z`]) {
      await h.call("PATCH", "/v1/organizations/current", { token: team.owner.token, body: { timezone: "UTC" } });
      const first = await h.call("GET", `/v1/time-entries?${query}`, { token: team.owner.token });
      const seen = first.body.data.map((e: { id: string }) => byStart.get(e.id));
      const moved = await h.call("PATCH", "/v1/organizations/current", {
        token: team.owner.token,
        body: { timezone: "Pacific/Kiritimati" },
      });
      expect(moved.status).toBe(200);
      let cursor = first.body.meta.next_cursor;
      while (cursor) {
        const res = await h.call("GET", `/v1/time-entries?${query}&cursor=${cursor}`, { token: team.owner.token });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        seen.push(...res.body.data.map((e: { id: string }) => byStart.get(e.id)));
        cursor = res.body.meta.next_cursor;
      }
      expect(seen.sort()).toEqual(starts.slice(0, 3).sort());
      // A new listing reads the dates in the organization's new zone.
      const now = await h.call("GET", `/v1/time-entries?${query.replace("limit=1", "limit=10")}`, {
        token: team.owner.token,
      });
      expect(now.body.data.map((e: { id: string }) => byStart.get(e.id)).sort()).toEqual([starts[2], starts[3]].sort());
    }
  });
  it("page on in a zone the organization holds that no request may name, and refuse a zone Postgres does not know", async () => {
    const team = await createTeam(h);
    for (const start of ["2026-10-25T20:00:00Z", "2026-10-25T12:00:00Z", "2026-10-25T04:00:00Z"]) {
      await createEntry(h, team.owner, { start, end: start.replace(":00:00Z", ":30:00Z") });
    }
    // POSIX zones are Postgres' own; the API's `timezone` refuses them, an operator may have set one.
    await h.sql("update organizations set timezone = 'UTC+3' where id = $1", [team.organizationId]);
    const query = "start_date=2026-10-25&end_date=2026-10-25";
    const whole = await h.call("GET", `/v1/time-entries?${query}`, { token: team.owner.token });
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await h.call("GET", `/v1/time-entries?${query}&limit=1${cursor ? `&cursor=${cursor}` : ""}`, {
        token: team.owner.token,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      paged.push(...res.body.data.map((e: { id: string }) => e.id));
      cursor = res.body.meta.next_cursor;
    } while (cursor);
    expect(paged).toEqual(whole.body.data.map((e: { id: string }) => e.id));
    expect(paged.length).toBeGreaterThan(1);

    const url = `http://localhost/v1/time-entries?${query}&limit=1`;
    const [last] = whole.body.data;
    const forged = encodeCursor("time-entries", [last.start_time, last.id, "Mars/Olympus_Mons"], url);
    const refused = await h.call("GET", `/v1/time-entries?${query}&limit=1&cursor=${forged}`, {
      token: team.owner.token,
    });
    expect([refused.status, refused.body.error.code]).toEqual([400, "INVALID_CURSOR"]);
    // A cursor of the previous version, without a zone, reads the organization's zone as it is now.
    const [first] = whole.body.data;
    const old = encodeCursor("time-entries", [first.start_time, first.id], url);
    const next = await h.call("GET", `/v1/time-entries?${query}&limit=10&cursor=${old}`, { token: team.owner.token });
    expect(next.body.data.map((e: { id: string }) => e.id)).toEqual(paged.slice(1));
  });
});
