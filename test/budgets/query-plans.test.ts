// Query plans: with a realistic amount of data (60,000 entries, statistics
// fresh), the statements the app sends for each operation must never read
// time_entries sequentially. The SQL is captured at the SQL endpoint as the
// app sent it, then EXPLAINed with its parameters.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SeededOrganization, seed } from "../../bench/seed";
import type { Query } from "../../dev/sql-backends";
import { EXPORT_PAGE_SIZE } from "../../src/routes/time-entries/export.handlers";
import { type Harness, startHarness } from "../support/harness";

const SIZE = { organizations: 3, users: 24, projects: 12, entries: 60_000 };

let h: Harness;
let org: SeededOrganization;
let tokens: { owner: string; member: string };
let captured: Query[] | undefined;

beforeAll(async () => {
  h = await startHarness();
  const run = h.backend.query.bind(h.backend);
  [org] = (await seed(run, SIZE, { label: "Plans" })) as [SeededOrganization];
  tokens = { owner: await h.sessionToken(org.ownerId, org.id), member: await h.sessionToken(org.memberId, org.id) };
  // A word in a handful of entries, and two that only `%` and `_` taken as wildcards would confuse.
  await h.sql(
    `update time_entries set description = description || ' quokka'
    where id in (select id from time_entries where organization_id = $1 order by start_time desc limit 3 offset 100)`,
    [org.id],
  );
  await h.sql(
    `update time_entries set description = 'Sale: 100% quokka_x' where id = (select id from time_entries
    where organization_id = $1 order by start_time desc limit 1 offset 200)`,
    [org.id],
  );
  await h.sql(
    `update time_entries set description = 'Sale: 1000 quokkaax' where id = (select id from time_entries
    where organization_id = $1 order by start_time desc limit 1 offset 201)`,
    [org.id],
  );
  await h.sql("analyze time_entries");
  // Record what the endpoint runs while `capture` is on; direct `h.sql` calls are not captured.
  h.backend.query = (query) => {
    captured?.push(query);
    return run(query);
  };
}, 120_000);
afterAll(() => h?.close());

type Caller = keyof typeof tokens;
/** `statements`: how many the request sends, when not one (an export: one per page); each is EXPLAINed. */
type Request = {
  caller: Caller;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  statements?: number;
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
  "summary (owner), a year by project and month": async () => ({
    caller: "owner",
    method: "GET",
    path: "/v1/time-entries/summary?start_date=2025-11-28&end_date=2026-11-28&group_by=project,month",
  }),
  "list, q on a rare word": async () => ({
    caller: "owner",
    method: "GET",
    path: "/v1/time-entries?limit=20&q=quokka",
  }),
  "create with Idempotency-Key": async () => ({
    caller: "member",
    method: "POST",
    path: "/v1/time-entries",
    body: { start_time: "2026-11-28T21:00:00Z", end_time: "2026-11-28T22:00:00Z", description: "Keyed" },
    headers: { "Idempotency-Key": crypto.randomUUID() },
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

/** The statement one API request sends, and the names of the indexes its plan reads. */
async function statementOf(caller: Caller, path: string) {
  captured = [];
  const res = await h.call("GET", path, { token: tokens[caller] });
  const [statement] = captured;
  captured = undefined;
  const indexes = (node: PlanNode & { "Index Name"?: string }): string[] => [
    ...(node["Index Name"] ? [`${node["Node Type"]} on ${node["Index Name"]}`] : []),
    ...(node.Plans ?? []).flatMap(indexes),
  ];
  return { res, indexes: indexes(await explain(statement as Query)) };
}

describe("the indexes a million entries need", () => {
  it("q on a rare word reads the trigram index, with % and _ still literal", async () => {
    const { res, indexes } = await statementOf("owner", "/v1/time-entries?limit=20&q=quokka");
    expect(res.body.data.map((entry: { description: string }) => entry.description)).toHaveLength(5);
    expect(indexes).toContain("Bitmap Index Scan on time_entries_description_trgm_idx");
    const literal = await statementOf("owner", `/v1/time-entries?limit=20&q=${encodeURIComponent("100% quokka_x")}`);
    expect(literal.res.body.data.map((entry: { description: string }) => entry.description)).toEqual([
      "Sale: 100% quokka_x",
    ]);
    expect(literal.indexes).toContain("Bitmap Index Scan on time_entries_description_trgm_idx");
  });

  it("a year's summary of the organization reads its covering index only, not the table", async () => {
    const { res, indexes } = await statementOf(
      "owner",
      "/v1/time-entries/summary?start_date=2025-11-28&end_date=2026-11-28&group_by=user,week",
    );
    expect(res.status).toBe(200);
    expect(indexes).toContain("Index Only Scan on time_entries_org_start_totals_idx");
  });
});

describe("query plans on a seeded database", () => {
  it("has the data the planner needs to prefer indexes", async () => {
    const [row] = await h.sql("select reltuples from pg_class where relname = 'time_entries'");
    expect(Number(row?.reltuples)).toBeGreaterThanOrEqual(SIZE.entries);
  });

  it.each(Object.keys(operations))("%s never scans time_entries sequentially", async (name) => {
    const request = await (operations[name] as () => Promise<Request>)();
    captured = [];
    const res = await h.call(request.method, request.path, {
      token: tokens[request.caller],
      body: request.body,
      headers: request.headers,
    });
    const statements = captured;
    captured = undefined;
    expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
    expect(statements).toHaveLength(request.statements ?? 1);

    for (const statement of statements) {
      const used = scans(await explain(statement));
      expect(
        used.some((scan) => scan.endsWith(" on time_entries")),
        used.join(", "),
      ).toBe(true);
      expect(
        used.filter((scan) => /Seq Scan on time_entries$/.test(scan)),
        used.join(", "),
      ).toEqual([]);
    }
  });
});
