// Query plans: with a realistic amount of data (60,000 entries, 6,000
// memberships, 60,000 webhook deliveries, statistics fresh), the statements the
// app sends for each operation must never read time_entries,
// time_entry_departures, organization_members, webhook_events or webhook_deliveries sequentially.
// Every seeded organization has a webhook subscription, so the writes carry
// their outbox. The SQL is captured at the SQL endpoint as the app sent it,
// then EXPLAINed with its parameters.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SeededOrganization, seed } from "../../bench/seed";
import type { Query } from "../../dev/sql-backends";
import { createDb } from "../../src/db/client";
import { DEFAULT_WEBHOOK_SETTINGS } from "../../src/lib/config";
import { encodeCursor } from "../../src/lib/cursor";
import { EXPORT_PAGE_SIZE } from "../../src/routes/time-entries/export.handlers";
import { loadDeliveries, markDeadLetters, recordAttempts } from "../../src/webhooks/delivery.queries";
import type { DeliveryMessage } from "../../src/webhooks/queues";
import { sweepLostDeliveries } from "../../src/webhooks/sweeper";
import { type Harness, startHarness } from "../support/harness";
import { subscribe } from "../support/webhooks";

const SIZE = { organizations: 3, users: 24, projects: 12, entries: 60_000 };
/** Memberships beyond the seed's few, over many organizations, so that a table scan is never the cheap way. */
const EXTRA_MEMBERS = 6_000;
const DELIVERIES = 60_000;

let h: Harness;
let org: SeededOrganization;
let tokens: { owner: string; member: string };
let captured: Query[] | undefined;
let subscriptionId: string;

beforeAll(async () => {
  h = await startHarness();
  const run = h.backend.query.bind(h.backend);
  const organizations = await seed(run, SIZE, { label: "Plans" });
  [org] = organizations as [SeededOrganization];
  // A third of the deliveries for each organization's subscription, all but the newest day's sent long ago.
  for (const [i, { id }] of organizations.entries()) {
    const subscription = await subscribe(h, id, { events: ["*"] });
    if (i === 0) subscriptionId = subscription.id;
    await h.sql(
      `with event as (
         insert into webhook_events (organization_id, type, data, created_at)
         select $1, 'time_entry.created', '{}', now() - n * interval '1 minute' from generate_series(1, $3::int) n
         returning id, organization_id, created_at
       )
       insert into webhook_deliveries (organization_id, event_id, subscription_id, status, attempts, requested_at,
         enqueued_at, created_at)
       select organization_id, id, $2, case when created_at < now() - interval '1 day' then 'delivered' else 'pending' end,
         1, created_at, case when created_at < now() - interval '5 minutes' then created_at end, created_at
       from event`,
      [id, subscription.id, String(DELIVERIES / organizations.length)],
    );
  }
  for (const table of ["webhook_subscriptions", "webhook_events", "webhook_deliveries"])
    await h.sql(`analyze ${table}`);
  // Many organizations of a realistic size, the seeded one among them with a hundred more people.
  await h.sql(
    `with extra as (insert into organizations (name) select 'Team ' || n from generate_series(1, $2::int) n returning id),
     orgs as (select array_agg(id) as ids from (select id from extra union all select $3::uuid) o),
     people as (
       insert into users (email)
       select 'colleague-' || n || '@plans.example' from generate_series(1, $1::int) n
       returning id, (regexp_match(email, '[0-9]+'))[1]::int as n
     )
     insert into organization_members (organization_id, user_id, full_name, role, status, removed_at)
     select case when n <= 100 then $3::uuid else orgs.ids[1 + n % array_length(orgs.ids, 1)] end, id, 'Colleague ' || n,
       case when n % 20 = 1 then 'owner' else 'member' end,
       case when n % 5 = 0 then 'removed' else 'active' end, case when n % 5 = 0 then now() end
     from people, orgs`,
    [String(EXTRA_MEMBERS), String(EXTRA_MEMBERS / 20), org.id],
  );
  await h.sql("analyze users");
  await h.sql("analyze organization_members");
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
  // Entries moved between projects and members, for the sync feed's departures (the trigger of migration 0038).
  await h.sql(
    `update time_entries te set project_id = (select p.id from projects p where p.organization_id = te.organization_id
       and p.id is distinct from te.project_id order by p.id limit 1)
    where id in (select id from time_entries where organization_id = $1 order by id limit 3000)`,
    [org.id],
  );
  // Vacuumed so that the visibility map is whole again after those updates: the summary's index-only scans need it.
  await h.sql("vacuum analyze time_entries");
  await h.sql("analyze time_entry_departures");
  // Record what the endpoint runs while `capture` is on; direct `h.sql` calls are not captured.
  h.backend.query = (query) => {
    captured?.push(query);
    return run(query);
  };
  const transaction = h.backend.transaction.bind(h.backend);
  h.backend.transaction = (queries, options) => {
    captured?.push(...queries);
    return transaction(queries, options);
  };
}, 120_000);
afterAll(() => h?.close());

type Caller = keyof typeof tokens;
/**
 * `statements`: how many the request sends, when not one (an export: one per page); each is EXPLAINed.
 * `reads`: the table every statement must read (by an index): time_entries unless said.
 * `settings`: how many of them come first in a batch to set what the others read (the sync feed's horizon), reading
 * no table of the API's.
 */
type Request = {
  caller: Caller;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  statements?: number;
  settings?: number;
  reads?: "time_entries" | "organization_members" | "webhook_deliveries";
};

/** A member of the seeded organization that no other operation here touches. */
const freshMember = async () => {
  const [row] = await h.sql(
    `with person as (insert into users (email) values ($2) returning id)
     insert into organization_members (organization_id, user_id, full_name) select $1, id, 'Fresh' from person
     returning user_id`,
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
    statements: 2,
    settings: 1,
  }),
  "sync (member)": async () => ({
    caller: "member",
    method: "GET",
    path: "/v1/time-entries?limit=100&updated_since=2026-01-01T00:00:00Z",
    statements: 2,
    settings: 1,
  }),
  "sync (member), departures": async () => ({
    caller: "member",
    method: "GET",
    path: "/v1/time-entries?limit=100&updated_since=2026-01-01T00:00:00Z&include_deleted=true&include_departures=true",
    statements: 2,
    settings: 1,
  }),
  "sync (owner), departures without tombstones": async () => ({
    caller: "owner",
    method: "GET",
    path: "/v1/time-entries?limit=100&updated_since=2026-01-01T00:00:00Z&include_departures=true",
    statements: 2,
    settings: 1,
  }),
  "sync (owner), departures of a project": async () => ({
    caller: "owner",
    method: "GET",
    path: `/v1/time-entries?limit=100&updated_since=2026-01-01T00:00:00Z&include_departures=true&project_id=${org.projectIds[0]}`,
    statements: 2,
    settings: 1,
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
  // The running timer is stopped by offboarding_stop_timers() (drizzle/0010), whose statement the plan does not show:
  // it updates by the one-running-timer index.
  "members, remove": async () => ({
    caller: "owner",
    method: "DELETE",
    path: `/v1/members/${await freshMember()}`,
    reads: "organization_members",
  }),
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
  "webhook deliveries, a page and the next": async () => ({
    caller: "owner",
    method: "GET",
    path: `/v1/webhooks/${subscriptionId}/deliveries?limit=100&cursor=${await cursorAfter(`/v1/webhooks/${subscriptionId}/deliveries?limit=100`, "owner")}`,
    reads: "webhook_deliveries",
  }),
  "webhook deliveries, failed only": async () => ({
    caller: "owner",
    method: "GET",
    path: `/v1/webhooks/${subscriptionId}/deliveries?limit=100&status=failed`,
    reads: "webhook_deliveries",
  }),
  "webhook delivery retry": async () => ({
    caller: "owner",
    method: "POST",
    path: `/v1/webhooks/${subscriptionId}/deliveries/${(await deliveriesOf(1))[0]}/retry`,
    reads: "webhook_deliveries",
  }),
};

/** `count` deliveries of the first organization's subscription, recent ones (still pending). */
const deliveriesOf = async (count: number) =>
  (
    await h.sql(
      "select id from webhook_deliveries where subscription_id = $1 order by created_at desc limit $2 offset 10",
      [subscriptionId, String(count)],
    )
  ).map((row) => row.id as string);

/**
 * The delivery side's statements (the queue consumer, the dead letters, the sweep), run as the Worker runs them:
 * each line prepares its input, then gives the work to measure.
 */
const deliveryWork: Record<string, () => Promise<() => Promise<unknown>>> = {
  "consumer: read a batch of deliveries": async () => {
    const ids = await deliveriesOf(10);
    return () => loadDeliveries(db(), ids);
  },
  "consumer: record a batch's attempts": async () => {
    const results = (await deliveriesOf(10)).map((id, i) => ({
      id,
      outcome: i % 2 ? ("delivered" as const) : ("retry" as const),
      attempted: true,
      attempted_at: new Date().toISOString(),
      response_status: i % 2 ? 200 : 500,
      duration_ms: 12,
      error: i % 2 ? null : "The receiver answered 500",
      retry_in_seconds: i % 2 ? null : 30,
      url: "https://hooks.example.com/time-entries",
    }));
    return () => recordAttempts(db(), results);
  },
  "dead letters: mark failed": async () => {
    const ids = await deliveriesOf(5);
    const messages = ids.map((delivery_id) => ({ delivery_id }));
    return () => markDeadLetters(db(), messages, DEFAULT_WEBHOOK_SETTINGS.disableAfterFailures);
  },
  // The queue binding's stand-in takes the messages; the sweep's two statements are what is measured.
  "sweep: lost enqueues": async () => () =>
    sweepLostDeliveries(db(), { sendBatch: async () => {} } as unknown as Queue<DeliveryMessage>),
};

const db = () => createDb(h.env.DATABASE_URL as string, h.env.SQL_HTTP_ENDPOINT);

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
  if (!statement) throw new Error(`${path} sent no SQL: ${res.status} ${JSON.stringify(res.body)}`);
  const indexes = (node: PlanNode & { "Index Name"?: string }): string[] => [
    ...(node["Index Name"] ? [`${node["Node Type"]} on ${node["Index Name"]}`] : []),
    ...(node.Plans ?? []).flatMap(indexes),
  ];
  return { res, indexes: indexes(await explain(statement as Query)) };
}

/** The shared buffers each statement an API request sends reads when run again (EXPLAIN ANALYZE), in order. */
async function buffersOf(caller: Caller, path: string) {
  captured = [];
  const res = await h.call("GET", path, { token: tokens[caller] });
  const statements = captured;
  captured = undefined;
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const read = [];
  for (const { query, params } of statements) {
    const result = await h.backend.query({ query: `explain (analyze, buffers, format json) ${query}`, params });
    const [{ Plan: plan }] = JSON.parse(String(result.rows[0]?.[0])) as [
      { Plan: { "Shared Hit Blocks": number; "Shared Read Blocks": number } },
    ];
    read.push(plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]);
  }
  return read;
}

/** The shared buffers a sync page's statement reads when run again after its horizon, in one transaction. */
async function syncPageBuffers(path: string) {
  captured = [];
  const res = await h.call("GET", path, { token: tokens.owner });
  const [horizon, page] = captured as [Query, Query];
  captured = undefined;
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const [, result] = await h.backend.transaction([
    horizon,
    { query: `explain (analyze, buffers, format json) ${page.query}`, params: page.params },
  ]);
  const [{ Plan: plan }] = JSON.parse(String(result?.rows[0]?.[0])) as [
    { Plan: { "Shared Hit Blocks": number; "Shared Read Blocks": number } },
  ];
  return { read: plan["Shared Hit Blocks"] + plan["Shared Read Blocks"], count: res.body.meta.count as number };
}

describe("the sync feed's departures", () => {
  it("are read only as far as the page's own changes reach, not up to the horizon", async () => {
    // The 3,000 entries moved in beforeAll changed last: their departures all lie past the first page of changes.
    const path = "/v1/time-entries?limit=100&updated_since=2000-01-01T00:00:00Z";
    const plain = await syncPageBuffers(path);
    const withDepartures = await syncPageBuffers(`${path}&include_departures=true`);
    expect([plain.count, withDepartures.count]).toEqual([100, 100]);
    expect(withDepartures.read, `${plain.read} without departures`).toBeLessThan(plain.read + 200);
  });
});

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

  it.each([
    ["the list", "/v1/time-entries?limit=100&start_date=2025-11-28&end_date=2026-11-28"],
    ["the export", "/v1/time-entries/export?format=csv&start_date=2025-11-28&end_date=2026-11-28"],
  ])(
    "%s over a long date range in the organization's time zone reads the index in order, not all of the range",
    async (_, path) => {
      // The organization's time zone is a subquery the planner cannot see through: a plain range of unknown
      // bounds was taken for a sliver of the organization and read whole by a bitmap scan, then sorted.
      const { res, indexes } = await statementOf("owner", path);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      // The owner's branch comes first; a member's (never run for an owner) reads that member's entries.
      expect(indexes.find((index) => index.includes("time_entries_org_"))).toMatch(
        /^Index (Only )?Scan on time_entries_org_start/,
      );
      expect(indexes).not.toContain("Bitmap Index Scan on time_entries_org_start_idx");
    },
  );

  // Buffers read, counted by EXPLAIN ANALYZE: the depth of a page must not show in them. Ten thousand entries
  // deep, a page that starts its index scan at the range's end rather than at its cursor reads 2.4 times as many.
  it("a page deep in a date range reads what the first page of the range reads", async () => {
    // An explicit time zone makes the range's bounds constants, as cheap to check as the cursor (see `keyset`).
    const range = "start_date=2025-11-28&end_date=2026-11-28&timezone=UTC";
    const [deep] = await h.sql(
      `select to_char(start_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as time, id from time_entries
      where organization_id = $1 and deleted_at is null and start_time >= '2025-11-28' and start_time < '2026-11-29'
      order by start_time desc, id desc offset 10000 limit 1`,
      [org.id],
    );
    const [first] = await buffersOf("owner", `/v1/time-entries?limit=20&${range}`);
    const [deepPage] = await buffersOf(
      "owner",
      `/v1/time-entries?limit=20&${range}&cursor=${encodeCursor("time-entries", [deep?.time, deep?.id])}`,
    );
    expect(deepPage).toBeLessThanOrEqual(1.25 * (first as number));
  });

  it("every page of an export over a date range in the organization's time zone reads about what the first reads", async () => {
    // Read whole and sorted, or from the range's end, the pages of this year of 20,000 entries read up to 4 times
    // as much as the first. Read from their cursor, each reads about what the first reads; near the end the planner
    // may read what is left of the range whole, which is two pages at most.
    const pages = await buffersOf(
      "owner",
      "/v1/time-entries/export?format=csv&start_date=2025-11-28&end_date=2026-11-28",
    );
    expect(pages.length).toBeGreaterThanOrEqual(8);
    expect(Math.max(...pages)).toBeLessThanOrEqual(2 * (pages[0] as number));
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

  it.each(Object.keys(operations))("%s never scans a large table sequentially", async (name) => {
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

    const settings = statements.slice(0, request.settings ?? 0);
    for (const statement of settings)
      expect(
        scans(await explain(statement)).filter((scan) => / on (time_entries|organization_members|webhook_)/.test(scan)),
      ).toEqual([]);
    for (const statement of statements.slice(settings.length))
      await expectIndexed(statement, request.reads ?? "time_entries");
  });

  it.each(Object.keys(deliveryWork))("%s never scans the webhook tables sequentially", async (name) => {
    const work = await (deliveryWork[name] as () => Promise<() => Promise<unknown>>)();
    captured = [];
    await work();
    const statements = captured;
    captured = undefined;
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) await expectIndexed(statement, "webhook_deliveries");
  });
});

const largeTables = [
  "time_entries",
  "time_entry_departures",
  "organization_members",
  "webhook_events",
  "webhook_deliveries",
];

/** The statement reads `table`, and reads none of the large tables sequentially. */
async function expectIndexed(statement: Query, table: string) {
  const used = scans(await explain(statement));
  expect(
    used.some((scan) => scan.endsWith(` on ${table}`)),
    used.join(", "),
  ).toBe(true);
  expect(
    used.filter((scan) => largeTables.some((large) => scan === `Seq Scan on ${large}`)),
    used.join(", "),
  ).toEqual([]);
}
