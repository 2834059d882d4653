// Seeds a realistic, large data set with SQL (generate_series), for the
// benchmarks (1,000,000 entries) and the query-plan test (tens of thousands):
// organizations, their users (one owner, one admin, the rest members),
// customers, projects (half with an hourly rate) and finished time entries
// spread over the last years, one every 97 seconds across all users.
import type { Query, QueryResult } from "../dev/sql-backends";

export type Run = (query: Query) => Promise<QueryResult>;

export type SeedSize = { organizations: number; users: number; projects: number; entries: number };

export type SeededOrganization = {
  id: string;
  ownerId: string;
  memberId: string;
  otherMemberId: string;
  projectIds: string[];
};

const descriptions = [
  "Sprint planning",
  "Code review",
  "Landing page build",
  "Client call",
  "Bug triage",
  "Invoice preparation",
  "Database migration",
  "Design review",
  "Onboarding session",
  "Performance tuning",
  "Support ticket",
  "Release notes",
];

const column = (result: QueryResult, name: string) => {
  const index = result.fields.findIndex((field) => field.name === name);
  return result.rows.map((row) => row[index] as string);
};

/** Inserts the organizations, users, memberships, customers and projects; returns who is who. */
export async function seedOrganizations(run: Run, size: SeedSize, label = "Seeded") {
  const tag = crypto.randomUUID().slice(0, 8);
  const organizationIds = column(
    await run({
      query: `insert into organizations (name)
        select $1 || ' organization ' || n from generate_series(1, $2::int) n returning id`,
      params: [label, String(size.organizations)],
    }),
    "id",
  );
  const orgs = `$1::uuid[]`;
  // User n belongs to organization n % organizations; the first of each is its owner, the second its admin.
  await run({
    query: `with added as (
        insert into users (email)
        select 'user-' || n || '-' || $3 || '@seed.example' from generate_series(0, $4::int - 1) n
        returning id, email
      )
      insert into organization_members (organization_id, user_id, full_name, role)
      select (${orgs})[1 + n % cardinality(${orgs})], id, $2 || ' user ' || n,
        case when n < cardinality(${orgs}) then 'owner' when n < 2 * cardinality(${orgs}) then 'admin' else 'member' end
      from (select id, split_part(email, '-', 2)::int as n from added) a`,
    params: [`{${organizationIds.join(",")}}`, label, tag, String(size.users)],
  });
  await run({
    query: `insert into customers (organization_id, name)
      select o, 'Customer ' || n from unnest(${orgs}) o, generate_series(1, 2) n`,
    params: [`{${organizationIds.join(",")}}`],
  });
  await run({
    query: `insert into projects (organization_id, name, customer_id, hourly_rate, currency)
      select o.id, 'Project ' || n, c.id, case when n % 2 = 0 then 80 + n else null end, case when n % 2 = 0 then 'EUR' end
      from generate_series(0, $2::int - 1) n
      join lateral (select (${orgs})[1 + n % cardinality(${orgs})] as id) o on true
      left join lateral (select id from customers where organization_id = o.id order by id limit 1) c on n % 3 <> 0`,
    params: [`{${organizationIds.join(",")}}`, String(size.projects)],
  });

  const members = await run({
    query: `select m.organization_id, m.user_id, m.role from organization_members m
      join users u on u.id = m.user_id
      where m.organization_id = any(${orgs}) order by split_part(u.email, '-', 2)::int`,
    params: [`{${organizationIds.join(",")}}`],
  });
  const projects = await run({
    query: `select organization_id, id from projects where organization_id = any(${orgs}) order by id`,
    params: [`{${organizationIds.join(",")}}`],
  });
  return organizationIds.map((id): SeededOrganization => {
    const people = members.rows.filter((row) => row[0] === id);
    const ofRole = (role: string) => people.filter((row) => row[2] === role).map((row) => row[1] as string);
    const [memberId, otherMemberId] = ofRole("member");
    return {
      id,
      ownerId: ofRole("owner")[0] as string,
      memberId: memberId as string,
      otherMemberId: (otherMemberId ?? memberId) as string,
      projectIds: projects.rows.filter((row) => row[0] === id).map((row) => row[1] as string),
    };
  });
}

/**
 * Inserts entries number `from` to `to` (inclusive) for the organizations'
 * members: entry g belongs to member g % members, 90% of them on one of their
 * organization's projects, starting 97 seconds × g before 2026-11-28 18:00 UTC.
 */
export async function seedEntries(run: Run, organizationIds: string[], from: number, to: number) {
  await run({
    query: `with member as (
        select organization_id, user_id, (row_number() over (order by user_id) - 1)::int as n,
          count(*) over ()::int as members
        from organization_members where organization_id = any($1::uuid[])
      ),
      project as (
        select organization_id, id, (row_number() over (partition by organization_id order by id) - 1)::int as n,
          count(*) over (partition by organization_id)::int as projects
        from projects where organization_id = any($1::uuid[])
      )
      insert into time_entries (organization_id, user_id, project_id, start_time, end_time, description, billable)
      select m.organization_id, m.user_id, p.id, s.start_time,
        s.start_time + (10 + g % 470) * interval '1 minute',
        ($4::text[])[1 + g % cardinality($4::text[])] || ' #' || g,
        g % 3 <> 0
      from generate_series($2::int, $3::int) g
      join member m on m.n = g % m.members
      left join project p on p.organization_id = m.organization_id and p.n = (g / 7) % p.projects and g % 10 <> 0
      cross join lateral (select timestamptz '2026-11-28 18:00:00+00' - g * interval '97 seconds' as start_time) s`,
    params: [
      `{${organizationIds.join(",")}}`,
      String(from),
      String(to),
      `{${descriptions.map((d) => `"${d}"`).join(",")}}`,
    ],
  });
}

/**
 * Runs `load` with `table`'s secondary indexes dropped, then builds them again: one sorted build per index is
 * much cheaper than maintaining each of them row by row, most of all in single-threaded PGlite.
 */
async function withIndexesRebuilt(run: Run, table: string, load: () => Promise<unknown>) {
  const indexes = column(
    await run({
      query: `select pg_get_indexdef(i.indexrelid) as definition from pg_index i
        where i.indrelid = $1::regclass and not i.indisprimary
          and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`,
      params: [table],
    }),
    "definition",
  ).map((definition) => ({ definition, name: /^CREATE (?:UNIQUE )?INDEX (\S+)/.exec(definition)?.[1] as string }));
  for (const { name } of indexes) await run({ query: `drop index ${name}`, params: [] });
  try {
    await load();
  } finally {
    for (const { definition } of indexes) await run({ query: definition, params: [] });
  }
}

/**
 * Seeds everything in chunks, calling `progress(done, total)` after each; then vacuums (so that index-only scans need not visit the table, as on a settled production table) and refreshes the planner's statistics.
 * `concurrency` chunks are inserted at once (a Postgres server uses its cores; PGlite runs one at a time anyway).
 * `withoutTriggers` (superuser, one connection: PGlite) sets `session_replication_role = replica` and drops the
 * secondary indexes of time_entries while the entries go in (they are built again after), which skips the per-row trigger and foreign-key checks: the generated rows satisfy them by construction
 * (every reference is looked up in the same statement, no organization prevents overlaps, `version` is its default).
 */
export async function seed(
  run: Run,
  size: SeedSize,
  options: {
    label?: string;
    chunk?: number;
    concurrency?: number;
    withoutTriggers?: boolean;
    progress?: (done: number, total: number) => void;
  } = {},
) {
  const organizations = await seedOrganizations(run, size, options.label);
  const ids = organizations.map((org) => org.id);
  const chunk = options.chunk ?? 50_000;
  const starts: number[] = [];
  for (let from = 0; from < size.entries; from += chunk) starts.push(from);
  let done = 0;
  const worker = async () => {
    for (let from = starts.shift(); from !== undefined; from = starts.shift()) {
      const to = Math.min(from + chunk, size.entries) - 1;
      await seedEntries(run, ids, from, to);
      done += to - from + 1;
      options.progress?.(done, size.entries);
    }
  };
  const insertAll = () => Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker));
  if (options.withoutTriggers) {
    await run({ query: "set session_replication_role = replica", params: [] });
    try {
      await withIndexesRebuilt(run, "time_entries", insertAll);
    } finally {
      await run({ query: "set session_replication_role = origin", params: [] });
    }
  } else {
    await insertAll();
  }
  for (const table of ["organizations", "users", "organization_members", "customers", "projects", "time_entries"]) {
    await run({ query: `vacuum analyze ${table}`, params: [] });
  }
  return organizations;
}
