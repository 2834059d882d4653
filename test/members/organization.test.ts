import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Organization } from "../../src/routes/organizations/organizations.schemas";
import { createEntry, createTeam, type Team } from "../support/factories";
import { type Harness, isoFromPostgres, startHarness } from "../support/harness";
import { expectNoOpPatch } from "../support/no-op";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

async function organizationFromDatabase(id: string) {
  const [row] = await h.sql("select * from organizations where id = $1", [id]);
  if (!row) throw new Error("no such organization");
  return {
    id,
    name: row.name,
    timezone: row.timezone,
    prevent_overlaps: row.prevent_overlaps === "t",
    week_start: row.week_start,
    limits: { webhook_subscriptions: Number(row.webhook_subscriptions_limit) },
    created_at: isoFromPostgres(row.created_at),
    updated_at: isoFromPostgres(row.updated_at),
    version: Number(row.version),
  };
}

const patch = (token: string, body: unknown, headers?: Record<string, string>) =>
  h.call("PATCH", "/v1/organizations/current", { token, body, headers });

describe("GET /v1/organizations/current", () => {
  it("lets every member read the token's organization, with an ETag", async () => {
    const res = await h.call("GET", "/v1/organizations/current", { token: team.member.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe('"1"');
    expect(res.body).toEqual({ data: await organizationFromDatabase(team.organizationId) });
    expect(res.body.data).toMatchObject({ timezone: "UTC", prevent_overlaps: false });
    expect(Organization.parse(res.body.data)).toEqual(res.body.data);
  });

  it("shows its limits, read-only: a limit the operator raises is a new version and updated_at, a PATCH naming one is 400", async () => {
    const { organizationId, owner, member } = await createTeam(h);
    const before = await h.call("GET", "/v1/organizations/current", { token: member.token });
    expect(before.body.data.limits).toEqual({ webhook_subscriptions: 20 });
    const raised = await h.sql(
      "update organizations set webhook_subscriptions_limit = 50 where id = $1 returning updated_at > created_at as touched",
      [organizationId],
    );
    expect(raised).toEqual([{ touched: "t" }]); // a new version is a new updated_at too (drizzle/0020)
    const after = await h.call("GET", "/v1/organizations/current", { token: member.token });
    expect(after.body.data).toMatchObject({ limits: { webhook_subscriptions: 50 }, version: 2 });
    expect(after.headers.get("ETag")).toBe('"2"');
    expect(after.body).toEqual({ data: await organizationFromDatabase(organizationId) });
    for (const body of [{ limits: { webhook_subscriptions: 100 } }, { webhook_subscriptions_limit: 100 }]) {
      const res = await patch(owner.token, body);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toMatchObject({ [Object.keys(body)[0] as string]: ["Unknown field"] });
    }
    expect((await organizationFromDatabase(organizationId)).limits).toEqual({ webhook_subscriptions: 50 });
  });
});

describe("PATCH /v1/organizations/current", () => {
  it("changes name, time zone and prevent_overlaps for an owner or admin, with If-Match", async () => {
    const { organizationId, admin, owner } = await createTeam(h);
    const res = await patch(admin.token, { name: "Renamed Ltd", timezone: "Europe/Berlin" }, { "If-Match": '"1"' });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe('"2"');
    expect(res.body).toEqual({ data: await organizationFromDatabase(organizationId) });
    expect(res.body.data).toMatchObject({ name: "Renamed Ltd", timezone: "Europe/Berlin", prevent_overlaps: false });

    const week = await patch(owner.token, { week_start: "sunday" });
    expect(week.body.data).toMatchObject({ week_start: "sunday", version: 3 });
    expect(await organizationFromDatabase(organizationId)).toEqual(week.body.data);
    const invalid = await patch(owner.token, { week_start: "Sunday" });
    expect(invalid.body.error.details).toEqual({
      week_start: [
        "Must be a day of the week in lower case: monday, tuesday, wednesday, thursday, friday, saturday, sunday",
      ],
    });
    await expect(
      h.sql("update organizations set week_start = 'sun' where id = $1", [organizationId]),
      "the database refuses another day name too",
    ).rejects.toThrow(/organizations_week_start_check/);

    const overlaps = await patch(owner.token, { prevent_overlaps: true });
    expect(overlaps.body.data).toMatchObject({ prevent_overlaps: true, version: 4 });
    const me = await h.call("GET", "/v1/me", { token: owner.token });
    expect(me.body.data.organization.prevent_overlaps).toBe(true);

    const stale = await patch(owner.token, { name: "Lost" }, { "If-Match": '"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe("PRECONDITION_FAILED");
    expect((await organizationFromDatabase(organizationId)).name).toBe("Renamed Ltd");
  });

  it("turning prevent_overlaps on keeps existing overlaps and checks new writes", async () => {
    const { member, owner } = await createTeam(h);
    await createEntry(h, member, { start: "2026-11-20T09:00:00Z", end: "2026-11-20T11:00:00Z" });
    await createEntry(h, member, { start: "2026-11-20T10:00:00Z", end: "2026-11-20T12:00:00Z" });
    expect((await patch(owner.token, { prevent_overlaps: true })).status).toBe(200);

    const both = await h.call("GET", "/v1/time-entries?start_date=2026-11-20", { token: member.token });
    expect(both.body.data).toHaveLength(2);
    const res = await h.call("POST", "/v1/time-entries", {
      token: member.token,
      body: { start_time: "2026-11-20T11:30:00Z", end_time: "2026-11-20T13:00:00Z", description: "overlapping" },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("OVERLAP");
  });

  it("clears the name with null, as a never named organization has it, and names it again", async () => {
    const { organizationId, owner } = await createTeam(h);
    const cleared = await patch(owner.token, { name: null });
    expect([cleared.status, cleared.body.data?.name, cleared.body.data?.version]).toEqual([200, null, 2]);
    expect((await organizationFromDatabase(organizationId)).name).toBeNull();
    const named = await patch(owner.token, { name: "Renamed" });
    expect([named.status, named.body.data?.name]).toEqual([200, "Renamed"]);
  });

  it("changes nothing when every given field has that value: same version and updated_at", async () => {
    const { organizationId, owner, member } = await createTeam(h);
    await expectNoOpPatch(h, {
      path: "/v1/organizations/current",
      token: owner.token,
      organizationId,
      same: { name: "Org", timezone: "UTC", prevent_overlaps: false, week_start: "monday" },
      change: { name: "Org", prevent_overlaps: true },
    });
    expect((await patch(member.token, { name: "Org" })).status).toBe(403);
  });

  it("keeps a time zone in IANA's spelling, whatever the case it was given in", async () => {
    const { organizationId, owner } = await createTeam(h);
    const res = await patch(owner.token, { timezone: "europe/BERLIN" });
    expect(res.body.data).toMatchObject({ timezone: "Europe/Berlin", version: 2 });
    expect((await organizationFromDatabase(organizationId)).timezone).toBe("Europe/Berlin");
    // The same zone in another case is no change.
    expect((await patch(owner.token, { timezone: "EUROPE/berlin" })).body.data.version).toBe(2);
    expect((await patch(owner.token, { timezone: "etc/gmt+5" })).body.data.timezone).toBe("Etc/GMT+5");
    // A name the runtime resolves to another (a link, or a zone its ICU knows by an older name) keeps its own name,
    // in the tz database's spelling: the runtime would answer America/Los_Angeles, UTC, Asia/Calcutta, Europe/Kiev.
    const spellings = {
      "us/pacific": "US/Pacific",
      "ETC/UTC": "Etc/UTC",
      zulu: "Zulu",
      gmt0: "GMT0",
      "America/Indiana/indianapolis": "America/Indiana/Indianapolis",
      "Asia/Kolkata": "Asia/Kolkata",
      "europe/kyiv": "Europe/Kyiv",
      "nz-chat": "NZ-CHAT",
    };
    for (const [given, spelled] of Object.entries(spellings)) {
      expect((await patch(owner.token, { timezone: given })).body.data.timezone).toBe(spelled);
      expect((await organizationFromDatabase(organizationId)).timezone).toBe(spelled);
    }
  });

  it("is for owners and admins: a member gets 403 and nothing changes", async () => {
    const res = await patch(team.member.token, { name: "Mine" });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      error: { code: "FORBIDDEN", message: "Only owners and admins can change the organization" },
    });
    expect((await organizationFromDatabase(team.organizationId)).version).toBe(1);
  });

  it("refuses an unknown time zone, a blank name, an empty body and unknown fields", async () => {
    const invalid = await patch(team.owner.token, { timezone: "Mars/Olympus", name: " ", slug: "x" });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details).toEqual({
      timezone: ["Must be an IANA time zone name, e.g. Europe/Berlin"],
      name: ["Must not be blank"],
      slug: ["Unknown field"],
    });
    expect((await patch(team.owner.token, {})).status).toBe(400);
    // Known to the runtime's Intl, not to Postgres: still the client's error, on the field.
    const onlyIntl = await patch(team.owner.token, { timezone: "US/Pacific-New" });
    expect(onlyIntl.status).toBe(400);
    expect(onlyIntl.body.error.details).toEqual({ timezone: ["Unknown time zone"] });
    // Known to both, but Postgres reads CET as its abbreviation: +01:00 without summer time.
    const abbreviation = await patch(team.owner.token, { timezone: "CET" });
    expect(abbreviation.status).toBe(400);
    expect(Object.keys(abbreviation.body.error.details)).toEqual(["timezone"]);
    expect((await organizationFromDatabase(team.organizationId)).timezone).toBe("UTC");
    // The database refuses them too, in any case (migration 0012 moved stored ones to their IANA links).
    await expect(
      h.sql("update organizations set timezone = 'met' where id = $1", [team.organizationId]),
    ).rejects.toThrow(/organizations_timezone_not_abbreviation_check/);
  });

  it.each(["IST", "pst", "CST", "BST", "ACT", "ART", "AST", "NST"])(
    "refuses %s, an id the runtime takes for a zone and Postgres for another offset, in the body, the query and the database",
    async (name) => {
      // Intl: IST is Asia/Kolkata (+05:30); Postgres' AT TIME ZONE 'IST' is Israel's +02:00, and PST has no summer.
      const res = await patch(team.owner.token, { timezone: name });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.error.details)).toEqual(["timezone"]);
      expect((await organizationFromDatabase(team.organizationId)).timezone).toBe("UTC");
      const summary = await h.call(
        "GET",
        `/v1/time-entries/summary?start_date=2026-11-20&end_date=2026-11-21&timezone=${name}`,
        {
          token: team.owner.token,
        },
      );
      expect(summary.status).toBe(400);
      expect(Object.keys(summary.body.error.details)).toEqual(["timezone"]);
      await expect(
        h.sql("update organizations set timezone = $2 where id = $1", [team.organizationId, name]),
      ).rejects.toThrow(/organizations_timezone_not_abbreviation_check/);
    },
  );

  it("makes its time zone the default of the list, the summary and the export", async () => {
    const { owner, member } = await createTeam(h);
    // 23:30 on 19 November in UTC is already 20 November in Berlin.
    const entry = await createEntry(h, member, { start: "2026-11-19T23:30:00Z", end: "2026-11-20T00:30:00Z" });
    const day = "start_date=2026-11-20&end_date=2026-11-20";
    const read = async () => ({
      list: (await h.call("GET", `/v1/time-entries?${day}`, { token: owner.token })).body.data.map(
        (e: { id: string }) => e.id,
      ),
      summary: (await h.call("GET", `/v1/time-entries/summary?group_by=day&${day}`, { token: owner.token })).body.data,
      export: (await h.call("GET", `/v1/time-entries/export?format=csv&${day}`, { token: owner.token })).body,
    });

    const inUtc = await read();
    expect(inUtc.list).toEqual([]);
    expect(inUtc.summary.totals.entry_count).toBe(0);
    expect(inUtc.export.trim().split("\r\n")).toHaveLength(1);

    await patch(owner.token, { timezone: "Europe/Berlin" });
    const inBerlin = await read();
    expect(inBerlin.list).toEqual([entry]);
    expect(inBerlin.summary.groups).toEqual([expect.objectContaining({ key: "2026-11-20", entry_count: 1 })]);
    expect(inBerlin.export).toContain(entry);

    // A request's own timezone still wins.
    const utc = await h.call("GET", `/v1/time-entries?${day}&timezone=UTC`, { token: owner.token });
    expect(utc.body.data).toEqual([]);
  });
});
