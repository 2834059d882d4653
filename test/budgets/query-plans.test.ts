// Query plans: with a realistic amount of data (60,000 entries, 6,000
// memberships, statistics fresh), the statements the app sends for each
// operation must never read time_entries or organization_members sequentially.
// The SQL is captured at the SQL endpoint as the app sent it, then EXPLAINed
// with its parameters.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SeededOrganization, seed } from "../../bench/seed";
import type { Query } from "../../dev/sql-backends";
import { EXPORT_PAGE_SIZE } from "../../src/routes/time-entries/export.handlers";
import { type Harness, startHarness } from "../support/harness";

const SIZE = { organizations: 3, users: 24, projects: 12, entries: 60_000 };
/** Memberships beyond the seed's few, over many organizations, so that a table scan is never the cheap way. */
const EXTRA_MEMBERS = 6_000;

let h: Harness;
let org: SeededOrganization;
let tokens: { owner: string; member: string };
let captured: Query[] | undefined;

beforeAll(async () => {
  h = await startHarness();
  const run = h.backend.query.bind(h.backend);
  [org] = (await seed(run, SIZE, { label: "Plans" })) as [SeededOrganization];
  // Many organizations of a realistic size, the seeded one among them with a hundred more people.
  await h.sql(
    `with extra as (insert into organizations (name) select 'Team ' || n from generate_series(1, $2::int) n returning id),
     orgs as (select array_agg(id) as ids from (select id from extra union all select $3::uuid) o),
     people as (
       insert into users (full_name, email)
       select 'Colleague ' || n, 'colleague-' || n || '@plans.example' from generate_series(1, $1::int) n
       returning id, (regexp_match(email, '[0-9]+'))[1]::int as n
     )
     insert into organization_members (organization_id, user_id, role, status, removed_at)
     select case when n <= 100 then $3::uuid else orgs.ids[1 + n % array_length(orgs.ids, 1)] end, id,
       case when n % 20 = 1 then 'owner' else 'member' end,
       case when n % 5 = 0 then 'removed' else 'active' end, case when n % 5 = 0 then now() end
     from people, orgs`,
    [String(EXTRA_MEMBERS), String(EXTRA_MEMBERS / 20), org.id],
  );
  await h.sql("analyze users");
  await h.sql("analyze organization_members");
  tokens = { owner: await h.sessionToken(org.ownerId, org.id), member: await h.sessionToken(org.memberId, org.id) };
  // Record what the endpoint runs while `capture` is on; direct `h.sql` calls are not captured.
  h.backend.query = (query) => {
    captured?.push(query);
    return run(query);
  };
}, 120_000);
afterAll(() => h?.close());

type Caller = keyof typeof tokens;
/**
 * `statements`: how many the request sends, when not one (an export: one per page); each is EXPLAINed.
 * `reads`: the table every statement must read (by an index): time_entries unless said.
 */
type Request = {
  caller: Caller;
  method: string;
  path: string;
  body?: unknown;
  statements?: number;
  reads?: "time_entries" | "organization_members";
};

/** A member of the seeded organization that no other operation here touches. */
const freshMember = async () => {
  const [row] = await h.sql(
    `with person as (insert into users (full_name, email) values ('Fresh', $2) returning id)
     insert into organization_members (organization_id, user_id) select $1, id from person returning user_id`,
    [org.id, `fresh-${crypto.randomUUID()}@plans.example`],
  );
  return row?.user_id as string;
};

const entryOf = async (userId: string) =>
  (
    await h.sql("select id from time_entries where user_id = $1 order by start_time desc limit 1 offset 500", [userId])
  )[0]?.id as string;
const customerOf = async (organizationId: string) =>
  (await h.sql("select id from customers where organization_id = $1 order by id limit 1", [organizationId]))[0]
    ?.id as string;
/** `count` entries of the user that no other operation here touches, none on an invoice. */
const entriesOf = async (userId: string, count: number) =>
  (
    await h.sql(
      "select id from time_entries where user_id = $1 and deleted_at is null and invoice_id is null order by start_time desc limit $2 offset 600",
      [userId, String(count)],
    )
  ).map((row) => row.id as string);
const cursorAfter = async (path: string, caller: Caller) =>
  (await h.call("GET", path, { token: tokens[caller] })).body.meta.next_cursor as string;

/** The statements an export of the live entries matching `where` sends: one per page, one when empty. */
const exportPages = async (where: string) => {
  const [row] = await h.sql(`select count(*)::int as n from time_entries where deleted_at is null and ${where}`);
  return Math.max(1, Math.ceil(Number(row?.n) / EXPORT_PAGE_SIZE));
};

/** One line per statement the app sends. */
const operations: Record<string, () => Promise<Request>> = {
  "list (owner)": async () => ({ caller: "owner", method: "GET", path: "/v1/time-entries?limit=100" }),
  "list (member)": async () => ({ caller: "member", method: "GET", path: "/v1/time-entries?limit=100" }),
  "list, dates": async () => ({
    caller: "owner",
    method: "GET",
    path: "/v1/time-entries?limit=100&start_date=2026-06-01&end_date=2026-06-30",
  }),
  "list, project": async () => ({
    caller: "owner",
    method: "GET",
    path: `/v1/time-entries?limit=100&project_id=${org.projectIds[0]}`,
  }),
  "list, user": async () => ({
    caller: "owner",
    method: "GET",
    path: `/v1/time-entries?limit=100&user_id=${org.memberId}`,
  }),
  "list, me (member)": async () => ({ caller: "member", method: "GET", path: "/v1/time-entries?limit=100&user_id=me" }),
  "list, q": async () => ({ caller: "owner", method: "GET", path: "/v1/time-entries?limit=100&q=review" }),
  "list, next page": async () => ({
    caller: "owner",
    method: "GET",
    path: `/v1/time-entries?limit=100&cursor=${await cursorAfter("/v1/time-entries?limit=100", "owner")}`,
  }),
  "sync (owner)": async () => ({
    caller: "owner",
    method: "GET",
    path: "/v1/time-entries?limit=100&updated_since=2026-01-01T00:00:00Z&include_deleted=true",
  }),
  "sync (member)": async () => ({
    caller: "member",
    method: "GET",
    path: "/v1/time-entries?limit=100&updated_since=2026-01-01T00:00:00Z",
  }),
  "summary (owner), by project and week": async () => ({
    caller: "owner",
    method: "GET",
    path: "/v1/time-entries/summary?start_date=2026-10-01&end_date=2026-10-31&timezone=Europe/Berlin&group_by=project,week",
  }),
  "summary (member), every filter, rounded": async () => ({
    caller: "member",
    method: "GET",
    path: `/v1/time-entries/summary?start_date=2026-10-01&end_date=2026-10-31&group_by=customer,day&rounding=nearest&rounding_minutes=15&billable=true&invoiced=false&q=review&customer_id=${await customerOf(org.id)}`,
  }),
  "summary, user": async () => ({
    caller: "owner",
    method: "GET",
    path: `/v1/time-entries/summary?start_date=2026-01-01&end_date=2026-12-31&user_id=${org.memberId}&group_by=month`,
  }),
  "list, customer, billable, invoiced, time zone": async () => ({
    caller: "owner",
    method: "GET",
    path: "/v1/time-entries?limit=100&billable=true&invoiced=false&timezone=America/New_York&start_date=2026-06-01&end_date=2026-06-30",
  }),
  // Every page of the organization's entries (a third of the seed), one keyset statement per page.
  "export, every page (owner)": async () => ({
    caller: "owner",
    method: "GET",
    path: "/v1/time-entries/export?format=csv",
    statements: await exportPages(`organization_id = '${org.id}'`),
  }),
  "export, every page (member)": async () => ({
    caller: "member",
    method: "GET",
    path: "/v1/time-entries/export?format=json&start_date=2026-01-01",
    statements: await exportPages(`user_id = '${org.memberId}' and start_time >= '2026-01-01'`),
  }),
  "get (owner)": async () => ({
    caller: "owner",
    method: "GET",
    path: `/v1/time-entries/${await entryOf(org.memberId)}`,
  }),
  "get (member)": async () => ({
    caller: "member",
    method: "GET",
    path: `/v1/time-entries/${await entryOf(org.memberId)}`,
  }),
  create: async () => ({
    caller: "member",
    method: "POST",
    path: "/v1/time-entries",
    body: { project_id: org.projectIds[0], start_time: "2026-11-28T20:00:00Z", description: "Timer" },
  }),
  patch: async () => ({
    caller: "member",
    method: "PATCH",
    path: `/v1/time-entries/${await entryOf(org.memberId)}`,
    body: { description: "Changed" },
  }),
  delete: async () => ({ caller: "owner", method: "DELETE", path: `/v1/time-entries/${await entryOf(org.memberId)}` }),
  "bulk patch (member)": async () => ({
    caller: "member",
    method: "PATCH",
    path: "/v1/time-entries",
    body: { ids: await entriesOf(org.memberId, 20), changes: { project_id: org.projectIds[1], description: "Bulk" } },
  }),
  "bulk delete (owner)": async () => ({
    caller: "owner",
    method: "DELETE",
    path: "/v1/time-entries",
    body: { ids: await entriesOf(org.memberId, 20) },
  }),
  "members, list (member)": async () => ({
    caller: "member",
    method: "GET",
    path: "/v1/members?limit=100",
    reads: "organization_members",
  }),
  "members, list by role, status and q, next page": async () => ({
    caller: "owner",
    method: "GET",
    path: `/v1/members?limit=20&role=member&status=all&q=colleague&cursor=${await cursorAfter("/v1/members?limit=20&role=member&status=all&q=colleague", "owner")}`,
    reads: "organization_members",
  }),
  "members, get": async () => ({
    caller: "member",
    method: "GET",
    path: `/v1/members/${org.ownerId}`,
    reads: "organization_members",
  }),
  "members, add": async () => ({
    caller: "owner",
    method: "POST",
    path: "/v1/members",
    body: { email: `new-${crypto.randomUUID()}@plans.example`, role: "member" },
    reads: "organization_members",
  }),
  "members, change role": async () => ({
    caller: "owner",
    method: "PATCH",
    path: `/v1/members/${await freshMember()}`,
    body: { role: "admin" },
    reads: "organization_members",
  }),
  // Offboarding also stops a running timer: it reads the member's entries.
  "members, remove": async () => ({ caller: "owner", method: "DELETE", path: `/v1/members/${await freshMember()}` }),
  "organization, get": async () => ({
    caller: "member",
    method: "GET",
    path: "/v1/organizations/current",
    reads: "organization_members",
  }),
  "organization, update": async () => ({
    caller: "owner",
    method: "PATCH",
    path: "/v1/organizations/current",
    body: { name: "Plans", timezone: "UTC" },
    reads: "organization_members",
  }),
};

type PlanNode = { "Node Type": string; "Relation Name"?: string; Plans?: PlanNode[] };

function scans(node: PlanNode): string[] {
  const own = node["Relation Name"] ? [`${node["Node Type"]} on ${node["Relation Name"]}`] : [];
  return [...own, ...(node.Plans ?? []).flatMap(scans)];
}

async function explain(query: Query) {
  const result = await h.backend.query({ query: `explain (format json) ${query.query}`, params: query.params });
  const text = result.rows[0]?.[0];
  return (JSON.parse(String(text)) as [{ Plan: PlanNode }])[0].Plan;
}

describe("query plans on a seeded database", () => {
  it("has the data the planner needs to prefer indexes", async () => {
    const [row] = await h.sql("select reltuples from pg_class where relname = 'time_entries'");
    expect(Number(row?.reltuples)).toBeGreaterThanOrEqual(SIZE.entries);
  });

  it.each(Object.keys(operations))("%s never scans time_entries or organization_members sequentially", async (name) => {
    const request = await (operations[name] as () => Promise<Request>)();
    captured = [];
    const res = await h.call(request.method, request.path, { token: tokens[request.caller], body: request.body });
    const statements = captured;
    captured = undefined;
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    expect(statements).toHaveLength(request.statements ?? 1);

    for (const statement of statements) {
      const used = scans(await explain(statement));
      expect(
        used.some((scan) => scan.endsWith(` on ${request.reads ?? "time_entries"}`)),
        used.join(", "),
      ).toBe(true);
      expect(
        used.filter((scan) => /Seq Scan on (time_entries|organization_members)$/.test(scan)),
        used.join(", "),
      ).toEqual([]);
    }
  });
});
