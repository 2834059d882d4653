import { afterAll, beforeAll, describe, expect, it } from "vitest";
import app from "../../src/app";
import { SummaryEnvelope } from "../../src/routes/time-entries/summary.schemas";
import { createCustomer, createEntry, createMember, createProject, createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

const NOVEMBER = "start_date=2026-11-01&end_date=2026-11-30";

async function summary(token: string, query: string) {
  const res = await h.call("GET", `/v1/time-entries/summary?${query}`, { token });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(SummaryEnvelope.parse(res.body)).toEqual(res.body);
  return res.body.data;
}

const totals = (
  entry_count: number,
  total_seconds: number,
  billable_seconds: number,
  amounts: [string, string][] = [],
) => ({
  entry_count,
  total_seconds,
  billable_seconds,
  amounts: amounts.map(([currency, amount]) => ({ currency, amount })),
});

describe("GET /v1/time-entries/summary", () => {
  let team: Team;
  let alpha: string;
  let beta: string;
  let chores: string;
  let acme: string;
  let betaCorp: string;

  beforeAll(async () => {
    team = await createTeam(h);
    acme = await createCustomer(h, team.organizationId, "Acme");
    betaCorp = await createCustomer(h, team.organizationId, "Beta Corp");
    alpha = await createProject(h, team.organizationId, {
      name: "Alpha site",
      customerId: acme,
      hourlyRate: "100.00",
      currency: "EUR",
    });
    beta = await createProject(h, team.organizationId, {
      name: "Beta app",
      customerId: betaCorp,
      hourlyRate: "80.50",
      currency: "USD",
    });
    chores = await createProject(h, team.organizationId, { name: "Chores" });
    const entry = (
      who: Team["member"],
      start: string,
      seconds: number,
      options: { projectId?: string; billable?: boolean } = {},
    ) =>
      createEntry(h, who, {
        start,
        end: new Date(Date.parse(start) + seconds * 1000).toISOString(),
        ...options,
      });
    // Mia (member): 5 entries, 11,820 s, of which billable 8,220 s.
    await entry(team.member, "2026-11-02T09:00:00Z", 5400, { projectId: alpha, billable: true });
    await entry(team.member, "2026-11-03T09:00:00Z", 1200, { projectId: alpha, billable: true });
    await entry(team.member, "2026-11-03T10:00:00Z", 1200, { projectId: alpha, billable: true });
    await entry(team.member, "2026-11-02T13:00:00Z", 420, { projectId: beta, billable: true });
    await entry(team.member, "2026-11-04T10:00:00Z", 3600, { projectId: chores });
    // Max (otherMember): 3 entries, 7,900 s, of which billable 7,200 s.
    await entry(team.otherMember, "2026-11-03T08:00:00Z", 7200, { projectId: beta, billable: true });
    await entry(team.otherMember, "2026-11-05T12:00:00Z", 600);
    await entry(team.otherMember, "2026-11-05T14:00:00Z", 100, { projectId: alpha, billable: false });
    // Never counted: a deleted entry, and one outside November.
    const deleted = await entry(team.owner, "2026-11-04T12:00:00Z", 3600, { billable: true });
    await h.sql("update time_entries set deleted_at = now(), project_id = null where id = $1", [deleted]);
    await entry(team.owner, "2026-12-01T09:00:00Z", 3600, { projectId: alpha, billable: true });
  });

  it("totals every visible entry for the owner, amounts per currency rounded on the total", async () => {
    // EUR: 7,800 s × 100.00 / 3600 = 216.666… → 216.67 (per entry it would be 150.00 + 33.33 + 33.33 = 216.66).
    // USD: 7,620 s × 80.50 / 3600 = 170.391… → 170.39.
    expect(await summary(team.owner.token, NOVEMBER)).toEqual({
      groups: [],
      totals: totals(8, 19720, 15420, [
        ["EUR", "216.67"],
        ["USD", "170.39"],
      ]),
    });
  });

  it("rounds each currency's amount to its ISO 4217 minor unit: none for the yen, 3 decimals for the dinar", async () => {
    const own = await createTeam(h);
    const project = (currency: string, hourlyRate: string) =>
      createProject(h, own.organizationId, { name: currency, hourlyRate, currency });
    const rated: [string, number][] = [
      [await project("JPY", "1000"), 1200], // 333.33… yen: 333
      [await project("KWD", "1.50"), 420], // 0.175 dinar: 0.175, not 0.18
      [await project("EUR", "1.50"), 420], // 0.175 euro: 0.18
      [await project("CLP", "999.99"), 5], // 1.38… pesos: 1
    ];
    for (const [projectId, seconds] of rated) {
      await createEntry(h, own.owner, {
        start: "2026-11-10T09:00:00Z",
        end: new Date(Date.parse("2026-11-10T09:00:00Z") + seconds * 1000).toISOString(),
        projectId,
        billable: true,
      });
    }
    expect((await summary(own.owner.token, NOVEMBER)).totals.amounts).toEqual([
      { currency: "CLP", amount: "1" },
      { currency: "EUR", amount: "0.18" },
      { currency: "JPY", amount: "333" },
      { currency: "KWD", amount: "0.175" },
    ]);
  });

  it("groups by project, by label with the entries without a project last", async () => {
    const data = await summary(team.owner.token, `${NOVEMBER}&group_by=project`);
    expect(data.groups).toEqual([
      { key: alpha, label: "Alpha site", ...totals(4, 7900, 7800, [["EUR", "216.67"]]) },
      { key: beta, label: "Beta app", ...totals(2, 7620, 7620, [["USD", "170.39"]]) },
      { key: chores, label: "Chores", ...totals(1, 3600, 0) },
      { key: null, label: "No project", ...totals(1, 600, 0) },
    ]);
    expect(data.totals).toEqual(
      totals(8, 19720, 15420, [
        ["EUR", "216.67"],
        ["USD", "170.39"],
      ]),
    );
  });

  it("groups by customer, entries of projects without a customer under key null", async () => {
    const data = await summary(team.admin.token, `${NOVEMBER}&group_by=customer`);
    expect(data.groups).toEqual([
      { key: acme, label: "Acme", ...totals(4, 7900, 7800, [["EUR", "216.67"]]) },
      { key: betaCorp, label: "Beta Corp", ...totals(2, 7620, 7620, [["USD", "170.39"]]) },
      { key: null, label: "No customer", ...totals(2, 4200, 0) },
    ]);
  });

  it("groups by user, labelled with the full name", async () => {
    const data = await summary(team.owner.token, `${NOVEMBER}&group_by=user`);
    expect(data.groups).toEqual([
      { key: team.otherMember.id, label: "Max Member", ...totals(3, 7900, 7200, [["USD", "161.00"]]) },
      {
        key: team.member.id,
        label: "Mia Member",
        ...totals(5, 11820, 8220, [
          ["EUR", "216.67"],
          ["USD", "9.39"],
        ]),
      },
    ]);
  });

  it("orders groups by name A to Z whatever the case, as the lists do, then by key", async () => {
    const other = await createTeam(h);
    const names = ["Ärger", "beta", "Alpha", "alpha", "Beta"];
    const ids: Record<string, string> = {};
    for (const name of names) {
      ids[name] = await createProject(h, other.organizationId, { name });
      await createEntry(h, other.owner, {
        projectId: ids[name],
        start: "2026-11-02T09:00:00Z",
        end: "2026-11-02T10:00:00Z",
      });
    }
    const data = await summary(other.owner.token, `${NOVEMBER}&group_by=project`);
    // Byte order would put "Alpha" and "Beta" before "alpha" and "beta".
    expect(data.groups.map((g: { label: string }) => g.label)).toEqual(["Alpha", "alpha", "Beta", "beta", "Ärger"]);
    const listed = (await h.call("GET", "/v1/projects", { token: other.owner.token })).body.data;
    expect(listed.map((p: { name: string }) => p.name)).toEqual(["Alpha", "alpha", "Beta", "beta", "Ärger"]);
  });

  it("groups by day in UTC by default", async () => {
    const data = await summary(team.owner.token, `${NOVEMBER}&group_by=day`);
    expect(data.groups).toEqual([
      {
        key: "2026-11-02",
        label: "2026-11-02",
        ...totals(2, 5820, 5820, [
          ["EUR", "150.00"],
          ["USD", "9.39"],
        ]),
      },
      {
        key: "2026-11-03",
        label: "2026-11-03",
        ...totals(3, 9600, 9600, [
          ["EUR", "66.67"],
          ["USD", "161.00"],
        ]),
      },
      { key: "2026-11-04", label: "2026-11-04", ...totals(1, 3600, 0) },
      { key: "2026-11-05", label: "2026-11-05", ...totals(2, 700, 0) },
    ]);
  });

  it("groups on two levels, each group holding its subgroups", async () => {
    const data = await summary(team.owner.token, `${NOVEMBER}&group_by=user,day`);
    expect(data.groups).toEqual([
      {
        key: team.otherMember.id,
        label: "Max Member",
        ...totals(3, 7900, 7200, [["USD", "161.00"]]),
        groups: [
          { key: "2026-11-03", label: "2026-11-03", ...totals(1, 7200, 7200, [["USD", "161.00"]]) },
          { key: "2026-11-05", label: "2026-11-05", ...totals(2, 700, 0) },
        ],
      },
      {
        key: team.member.id,
        label: "Mia Member",
        ...totals(5, 11820, 8220, [
          ["EUR", "216.67"],
          ["USD", "9.39"],
        ]),
        groups: [
          {
            key: "2026-11-02",
            label: "2026-11-02",
            ...totals(2, 5820, 5820, [
              ["EUR", "150.00"],
              ["USD", "9.39"],
            ]),
          },
          { key: "2026-11-03", label: "2026-11-03", ...totals(2, 2400, 2400, [["EUR", "66.67"]]) },
          { key: "2026-11-04", label: "2026-11-04", ...totals(1, 3600, 0) },
        ],
      },
    ]);
    expect(data.totals.entry_count).toBe(8);
  });

  it("groups a second level under key null too", async () => {
    const data = await summary(team.owner.token, `${NOVEMBER}&group_by=customer,project`);
    expect(data.groups.at(-1)).toEqual({
      key: null,
      label: "No customer",
      ...totals(2, 4200, 0),
      groups: [
        { key: chores, label: "Chores", ...totals(1, 3600, 0) },
        { key: null, label: "No project", ...totals(1, 600, 0) },
      ],
    });
  });

  // The summary is spliced into the body as Postgres wrote it; the text must be what JSON.stringify writes.
  it("answers compact JSON, exactly as JSON.stringify would write the same summary", async () => {
    const own = await createTeam(h);
    const customer = await createCustomer(h, own.organizationId, 'Kunde "K" \\ \u0001');
    const projectId = await createProject(h, own.organizationId, {
      name: 'line\nbreak, "quotes", ümlaut ✓',
      customerId: customer,
      hourlyRate: "120.50",
      currency: "EUR",
    });
    const other = await createMember(h, own.organizationId, "member", 'Zoë "Q" \\ Tab\t');
    await createEntry(h, other, {
      projectId,
      billable: true,
      start: "2026-11-02T09:00:00Z",
      end: "2026-11-02T10:00:00Z",
    });
    await createEntry(h, own.owner, { start: "2026-11-03T09:00:00Z", end: "2026-11-03T09:30:00Z" });
    const queries = [
      "",
      "&group_by=user",
      "&group_by=customer,project",
      "&group_by=project,week",
      "&group_by=month,user",
    ];
    // The last: nothing matches (zeros, no groups).
    for (const query of [
      ...queries.map((q) => `${NOVEMBER}${q}`),
      "start_date=2020-01-01&end_date=2020-01-31&group_by=user,day",
    ]) {
      const res = await app.request(
        `/v1/time-entries/summary?${query}`,
        { headers: { Authorization: `Bearer ${own.owner.token}` } },
        h.env,
      );
      const text = await res.text();
      expect(res.status, text).toBe(200);
      expect(res.headers.get("Content-Type")).toBe("application/json");
      expect(text).toBe(JSON.stringify(JSON.parse(text)));
      expect(SummaryEnvelope.parse(JSON.parse(text))).toEqual(JSON.parse(text));
    }
    const byCustomer = await summary(own.owner.token, `${NOVEMBER}&group_by=customer,project`);
    expect(byCustomer.groups[0]).toEqual({
      key: customer,
      label: 'Kunde "K" \\ \u0001',
      ...totals(1, 3600, 3600, [["EUR", "120.50"]]),
      groups: [
        { key: projectId, label: 'line\nbreak, "quotes", ümlaut ✓', ...totals(1, 3600, 3600, [["EUR", "120.50"]]) },
      ],
    });
    const byUser = await summary(own.owner.token, `${NOVEMBER}&group_by=user`);
    expect(byUser.groups.find((group: { key: string | null }) => group.key === other.id)?.label).toBe(
      'Zoë "Q" \\ Tab\t',
    );
  });

  it("shows a member only their own entries", async () => {
    const mine = totals(5, 11820, 8220, [
      ["EUR", "216.67"],
      ["USD", "9.39"],
    ]);
    expect((await summary(team.member.token, NOVEMBER)).totals).toEqual(mine);
    expect((await summary(team.member.token, `${NOVEMBER}&user_id=me`)).totals).toEqual(mine);
    expect((await summary(team.owner.token, `${NOVEMBER}&user_id=${team.member.id}`)).totals).toEqual(mine);
    const data = await summary(team.member.token, `${NOVEMBER}&group_by=user`);
    expect(data.groups.map((g: { key: string }) => g.key)).toEqual([team.member.id]);
  });

  it("refuses a member asking for another user's summary", async () => {
    const res = await h.call("GET", `/v1/time-entries/summary?${NOVEMBER}&user_id=${team.otherMember.id}`, {
      token: team.member.token,
    });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: "FORBIDDEN", message: "Members can only read their own time entries" } });
  });

  it("applies the list's filters", async () => {
    expect((await summary(team.owner.token, `${NOVEMBER}&billable=true`)).totals).toEqual(
      totals(5, 15420, 15420, [
        ["EUR", "216.67"],
        ["USD", "170.39"],
      ]),
    );
    expect((await summary(team.owner.token, `${NOVEMBER}&customer_id=${betaCorp}`)).totals).toEqual(
      totals(2, 7620, 7620, [["USD", "170.39"]]),
    );
    expect((await summary(team.owner.token, `${NOVEMBER}&project_id=${chores}&invoiced=false`)).totals).toEqual(
      totals(1, 3600, 0),
    );
    expect((await summary(team.owner.token, `${NOVEMBER}&invoiced=true`)).totals).toEqual(totals(0, 0, 0));
    expect((await summary(team.owner.token, "start_date=2026-11-03&end_date=2026-11-03")).totals).toEqual(
      totals(3, 9600, 9600, [
        ["EUR", "66.67"],
        ["USD", "161.00"],
      ]),
    );
  });

  describe("rounding each entry's duration", () => {
    // Mia's entries: 5400, 1200, 1200 (EUR, billable), 420 (USD, billable), 3600 s (not billable).
    const mine = `${NOVEMBER}&user_id=me`;

    it("rounds up to 15 minutes", async () => {
      // 5400, 1800, 1800, 900, 3600: EUR 9000 s × 100 / 3600 = 250.00, USD 900 s × 80.50 / 3600 = 20.125 → 20.13.
      expect((await summary(team.member.token, `${mine}&rounding=up&rounding_minutes=15`)).totals).toEqual(
        totals(5, 13500, 9900, [
          ["EUR", "250.00"],
          ["USD", "20.13"],
        ]),
      );
    });

    it("rounds down to 15 minutes, an entry under the step to nothing", async () => {
      // 5400, 900, 900, 0, 3600.
      expect((await summary(team.member.token, `${mine}&rounding=down&rounding_minutes=15`)).totals).toEqual(
        totals(5, 10800, 7200, [
          ["EUR", "200.00"],
          ["USD", "0.00"],
        ]),
      );
    });

    it("rounds to the nearest 10 minutes", async () => {
      // 5400, 1200, 1200, 600 (from 420), 3600: USD 600 s × 80.50 / 3600 = 13.4166… → 13.42.
      expect((await summary(team.member.token, `${mine}&rounding=nearest&rounding_minutes=10`)).totals).toEqual(
        totals(5, 12000, 8400, [
          ["EUR", "216.67"],
          ["USD", "13.42"],
        ]),
      );
    });

    it("rounds within groups too, and changes no stored time", async () => {
      const data = await summary(team.member.token, `${mine}&group_by=day&rounding=up&rounding_minutes=60`);
      expect(data.groups.map((g: { total_seconds: number }) => g.total_seconds)).toEqual([
        7200 + 3600, // 5400 → 7200, 420 → 3600
        3600 + 3600,
        3600,
      ]);
      const [row] = await h.sql(
        "select sum(duration) as seconds from time_entries where user_id = $1 and deleted_at is null",
        [team.member.id],
      );
      expect(row?.seconds).toBe("11820");
    });
  });

  it("answers zeros and no groups when nothing matches", async () => {
    expect(await summary(team.owner.token, "start_date=2025-01-01&end_date=2025-01-31&group_by=project,day")).toEqual({
      groups: [],
      totals: totals(0, 0, 0),
    });
  });
});

describe("summary calendar periods in a time zone", () => {
  let team: Team;
  // Europe/Berlin leaves summer time on Sunday 2026-10-25 at 01:00 UTC (03:00 CEST → 02:00 CET).
  const starts = {
    // Berlin: Monday 2026-10-19 00:30 CEST; UTC: Sunday 2026-10-18.
    mondayMidnight: "2026-10-18T22:30:00Z",
    // Berlin and UTC: Monday 2026-10-19.
    monday: "2026-10-19T00:30:00Z",
    // Berlin: Sunday 2026-10-25 01:30 CEST, before the change; UTC: Saturday 2026-10-24.
    beforeChange: "2026-10-24T23:30:00Z",
    // Berlin: Sunday 2026-10-25 23:30 CET, the day's 25th hour; at summer time's +2 it would be Monday.
    lastHour: "2026-10-25T22:30:00Z",
    // Berlin: Monday 2026-10-26 00:30 CET; UTC: Sunday 2026-10-25.
    nextDay: "2026-10-25T23:30:00Z",
    // Berlin: Sunday 2026-11-01 00:30 CET; UTC: Saturday 2026-10-31.
    newMonth: "2026-10-31T23:30:00Z",
    // Berlin: Monday 2026-11-02 00:30 CET; UTC: Sunday 2026-11-01.
    newWeek: "2026-11-01T23:30:00Z",
  };
  const range = "start_date=2026-10-18&end_date=2026-11-02";
  const counts = (groups: { key: string; label: string; entry_count: number }[]) =>
    groups.map((g) => [g.key, g.label, g.entry_count]);

  beforeAll(async () => {
    team = await createTeam(h);
    for (const start of Object.values(starts)) {
      await createEntry(h, team.member, { start, end: new Date(Date.parse(start) + 1800_000).toISOString() });
    }
  });

  it("cuts days in the time zone, daylight saving time included", async () => {
    const berlin = await summary(team.owner.token, `${range}&timezone=Europe/Berlin&group_by=day`);
    expect(counts(berlin.groups)).toEqual([
      ["2026-10-19", "2026-10-19", 2],
      ["2026-10-25", "2026-10-25", 2],
      ["2026-10-26", "2026-10-26", 1],
      ["2026-11-01", "2026-11-01", 1],
      ["2026-11-02", "2026-11-02", 1],
    ]);
    const utc = await summary(team.owner.token, `${range}&group_by=day`);
    expect(counts(utc.groups)).toEqual([
      ["2026-10-18", "2026-10-18", 1],
      ["2026-10-19", "2026-10-19", 1],
      ["2026-10-24", "2026-10-24", 1],
      ["2026-10-25", "2026-10-25", 2],
      ["2026-10-31", "2026-10-31", 1],
      ["2026-11-01", "2026-11-01", 1],
    ]);
  });

  it("cuts ISO weeks from Monday in the time zone, across the change", async () => {
    const berlin = await summary(team.owner.token, `${range}&timezone=Europe/Berlin&group_by=week`);
    expect(counts(berlin.groups)).toEqual([
      ["2026-10-19", "2026-W43", 4],
      ["2026-10-26", "2026-W44", 2],
      ["2026-11-02", "2026-W45", 1],
    ]);
    expect(berlin.groups[0].total_seconds).toBe(4 * 1800);
    const utc = await summary(team.owner.token, `${range}&timezone=UTC&group_by=week`);
    expect(counts(utc.groups)).toEqual([
      ["2026-10-12", "2026-W42", 1],
      ["2026-10-19", "2026-W43", 4],
      ["2026-10-26", "2026-W44", 2],
    ]);
  });

  it("starts weeks on the organization's week_start, or the request's, labelled by their first and last day", async () => {
    const setWeekStart = async (week_start: string) => {
      const res = await h.call("PATCH", "/v1/organizations/current", { token: team.owner.token, body: { week_start } });
      expect([res.status, res.body.data?.week_start]).toEqual([200, week_start]);
    };
    await setWeekStart("sunday");
    try {
      const sunday = await summary(team.member.token, `${range}&timezone=UTC&group_by=week`);
      expect(counts(sunday.groups)).toEqual([
        ["2026-10-18", "2026-10-18/2026-10-24", 3],
        ["2026-10-25", "2026-10-25/2026-10-31", 3],
        ["2026-11-01", "2026-11-01/2026-11-07", 1],
      ]);
      const iso = await summary(team.member.token, `${range}&timezone=UTC&group_by=week&week_start=monday`);
      expect(counts(iso.groups)).toEqual([
        ["2026-10-12", "2026-W42", 1],
        ["2026-10-19", "2026-W43", 4],
        ["2026-10-26", "2026-W44", 2],
      ]);
      const saturday = await summary(team.member.token, `${range}&group_by=user,week&week_start=saturday`);
      expect(counts(saturday.groups[0].groups)).toEqual([
        ["2026-10-17", "2026-10-17/2026-10-23", 2],
        ["2026-10-24", "2026-10-24/2026-10-30", 3],
        ["2026-10-31", "2026-10-31/2026-11-06", 2],
      ]);
      const tuesday = await summary(team.member.token, `${range}&group_by=week,user&week_start=tuesday`);
      expect(counts(tuesday.groups)).toEqual([
        ["2026-10-13", "2026-10-13/2026-10-19", 2],
        ["2026-10-20", "2026-10-20/2026-10-26", 3],
        ["2026-10-27", "2026-10-27/2026-11-02", 2],
      ]);
      // Sunday weeks in Berlin: its Monday 2026-11-02 00:30 is UTC's Sunday evening, in the week of 11-01 both ways.
      const berlin = await summary(team.member.token, `${range}&timezone=Europe/Berlin&group_by=week`);
      expect(counts(berlin.groups).at(-1)).toEqual(["2026-11-01", "2026-11-01/2026-11-07", 2]);
      for (const week_start of ["Sunday", "sun", "0", ""]) {
        const res = await h.call("GET", `/v1/time-entries/summary?${range}&group_by=week&week_start=${week_start}`, {
          token: team.member.token,
        });
        expect([week_start, res.status, res.body.error.details]).toEqual([
          week_start,
          400,
          {
            week_start: [
              "Must be a day of the week in lower case: monday, tuesday, wednesday, thursday, friday, saturday, sunday",
            ],
          },
        ]);
      }
      for (const query of [`${range}&week_start=monday`, `${range}&group_by=user,day&week_start=sunday`]) {
        const res = await h.call("GET", `/v1/time-entries/summary?${query}`, { token: team.member.token });
        expect([query, res.status, res.body.error]).toEqual([
          query,
          400,
          {
            code: "VALIDATION_ERROR",
            message: expect.any(String),
            details: { week_start: ["Only allowed with a group_by that names week"] },
          },
        ]);
      }
    } finally {
      await setWeekStart("monday");
    }
  });

  it("cuts the weeks at the ends of the calendar at its first and last days: no week of 1 BC or year 10000", async () => {
    const own = await createTeam(h);
    for (const start of ["0001-01-01T09:00:00Z", "9999-12-31T09:00:00Z"]) {
      await createEntry(h, own.owner, { start, end: start.replace("09:", "10:") });
    }
    const weeks = async (dates: string, weekStart: string) =>
      counts((await summary(own.owner.token, `${dates}&timezone=UTC&group_by=week&week_start=${weekStart}`)).groups);
    // 0001-01-01 is a Monday: the week from Sunday would begin in 1 BC; 9999-12-31 a Friday, the week from
    // Wednesday would end in 10000.
    expect(await weeks("start_date=0001-01-01&end_date=0001-01-31", "sunday")).toEqual([
      ["0001-01-01", "0001-01-01/0001-01-06", 1],
    ]);
    expect(await weeks("start_date=9999-12-01&end_date=9999-12-31", "wednesday")).toEqual([
      ["9999-12-29", "9999-12-29/9999-12-31", 1],
    ]);
    expect(await weeks("start_date=0001-01-01&end_date=0001-01-31", "monday")).toEqual([["0001-01-01", "0001-W01", 1]]);
  });

  it("cuts months in the time zone", async () => {
    const berlin = await summary(team.owner.token, `${range}&timezone=Europe/Berlin&group_by=month`);
    expect(counts(berlin.groups)).toEqual([
      ["2026-10", "2026-10", 5],
      ["2026-11", "2026-11", 2],
    ]);
    const utc = await summary(team.owner.token, `${range}&group_by=month`);
    expect(counts(utc.groups)).toEqual([
      ["2026-10", "2026-10", 6],
      ["2026-11", "2026-11", 1],
    ]);
  });

  it("bounds start_date and end_date by local midnight: the 25-hour day of the change", async () => {
    // Berlin's 2026-10-25 runs from 2026-10-24T22:00Z to 2026-10-25T23:00Z.
    const day = "start_date=2026-10-25&end_date=2026-10-25";
    const berlin = await summary(team.owner.token, `${day}&timezone=Europe/Berlin&group_by=day`);
    expect(counts(berlin.groups)).toEqual([["2026-10-25", "2026-10-25", 2]]);
    const utc = await summary(team.owner.token, `${day}&group_by=day`);
    expect(counts(utc.groups)).toEqual([["2026-10-25", "2026-10-25", 2]]);
    const list = await h.call("GET", `/v1/time-entries?${day}&timezone=Europe/Berlin`, { token: team.owner.token });
    expect(list.body.data.map((e: { start_time: string }) => e.start_time)).toEqual([
      "2026-10-25T22:30:00.000Z",
      "2026-10-24T23:30:00.000Z",
    ]);
  });
});

describe("summary where local midnight happens twice", () => {
  // Atlantic/Azores leaves summer time on Sunday 2026-10-25 at 01:00 UTC (01:00 back to 00:00): the day starts at
  // 00:00Z, and its first hour comes again from 01:00Z.
  it("gives the hour between the two midnights to the new day, in the range and in the groups", async () => {
    const team = await createTeam(h);
    // Azores: Sunday 2026-10-25 00:30, summer time (the first of the two 00:30s).
    await createEntry(h, team.member, { start: "2026-10-25T00:30:00Z", end: "2026-10-25T00:45:00Z" });
    const azores = "timezone=Atlantic/Azores&group_by=day";
    const saturday = await summary(team.owner.token, `start_date=2026-10-24&end_date=2026-10-24&${azores}`);
    expect(saturday).toEqual({ groups: [], totals: totals(0, 0, 0) });
    const sunday = await summary(team.owner.token, `start_date=2026-10-25&end_date=2026-10-25&${azores}`);
    expect(sunday.groups.map((g: { key: string }) => g.key)).toEqual(["2026-10-25"]);
    const list = await h.call("GET", "/v1/time-entries?start_date=2026-10-25&timezone=Atlantic/Azores", {
      token: team.owner.token,
    });
    expect(list.body.meta.count).toBe(1);
    const before = await h.call("GET", "/v1/time-entries?end_date=2026-10-24&timezone=Atlantic/Azores", {
      token: team.owner.token,
    });
    expect(before.body.meta.count).toBe(0);
  });
});

describe("summary of a running entry", () => {
  it("counts a running entry up to now", async () => {
    const team = await createTeam(h);
    const projectId = await createProject(h, team.organizationId, { hourlyRate: "36.00", currency: "EUR" });
    const start = Date.now() - 3600_000;
    await createEntry(h, team.member, { start: new Date(start).toISOString(), end: null, projectId, billable: true });
    const day = (offset: number) => new Date(start + offset * 86_400_000).toISOString().slice(0, 10);

    const before = Date.now();
    const data = await summary(team.member.token, `start_date=${day(-1)}&end_date=${day(1)}`);
    const after = Date.now();

    const seconds = data.totals.total_seconds;
    expect(seconds).toBeGreaterThanOrEqual(Math.floor((before - start) / 1000) - 1);
    expect(seconds).toBeLessThanOrEqual(Math.ceil((after - start) / 1000) + 1);
    expect(data.totals.billable_seconds).toBe(seconds);
    // 36.00 an hour is 1 cent a second.
    expect(data.totals.amounts).toEqual([{ currency: "EUR", amount: (seconds / 100).toFixed(2) }]);
  });
});

describe("summary validation", () => {
  let team: Team;
  beforeAll(async () => {
    team = await createTeam(h);
  });

  it.each([
    ["group_by=", "group_by"],
    ["group_by=projects", "group_by"],
    ["group_by=project,project", "group_by"],
    ["group_by=project,day,user", "group_by"],
    ["group_by=project%2C%20day", "group_by"],
    ["rounding=sideways&rounding_minutes=15", "rounding"],
    ["rounding=up", "rounding_minutes"],
    ["rounding_minutes=15", "rounding_minutes"],
    ["rounding=up&rounding_minutes=0", "rounding_minutes"],
    ["rounding=up&rounding_minutes=61", "rounding_minutes"],
    ["rounding=up&rounding_minutes=1.5", "rounding_minutes"],
    ["timezone=Mars/Olympus_Mons", "timezone"],
    ["timezone=%2B01:00", "timezone"],
    ["timezone=", "timezone"],
    ["billable=yes", "billable"],
    ["invoiced=1", "invoiced"],
    ["customer_id=42", "customer_id"],
  ])("%s is 400 VALIDATION_ERROR naming the field", async (query, field) => {
    const res = await h.call("GET", `/v1/time-entries/summary?${NOVEMBER}&${query}`, { token: team.owner.token });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(Object.keys(res.body.error.details)).toEqual([field]);
  });

  it("says which dates are missing: Required", async () => {
    const res = await h.call("GET", "/v1/time-entries/summary?group_by=project", { token: team.owner.token });
    expect([res.status, res.body.error.details]).toEqual([400, { start_date: ["Required"], end_date: ["Required"] }]);
  });

  it("requires a range of at most 366 days", async () => {
    for (const [query, field] of [
      ["end_date=2026-11-30", "start_date"],
      ["start_date=2026-11-01", "end_date"],
      ["start_date=2026-01-01&end_date=2027-01-02", "end_date"],
      ["start_date=2026-11-02&end_date=2026-11-01", "end_date"],
    ]) {
      const res = await h.call("GET", `/v1/time-entries/summary?${query}`, { token: team.owner.token });
      expect(res.status, query).toBe(400);
      expect(Object.keys(res.body.error.details), query).toEqual([field]);
    }
    await summary(team.owner.token, "start_date=2026-01-01&end_date=2027-01-01");
  });

  it("refuses a time zone Postgres does not know with 400, not 500", async () => {
    // Intl still knows this retired link; Postgres no longer does.
    const res = await h.call("GET", `/v1/time-entries/summary?${NOVEMBER}&timezone=US/Pacific-New`, {
      token: team.owner.token,
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { code: "VALIDATION_ERROR", message: "Invalid timezone", details: { timezone: ["Unknown time zone"] } },
    });
  });
});
