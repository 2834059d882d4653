// What `npm run bench` measures: each operation of the time entries API as
// the owner of the largest bench organization sees it.
import { encodeCursor } from "../src/lib/cursor";
import type { Run, SeededOrganization } from "./seed";

/** Values that must be fresh for each request: one for the probe, then as many for the API, the floor and the relay. */
export type Pool = { probe: string; api: string[]; floor: string[]; relay: string[] };

export type Scenario = {
  name: string;
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** With `{id}` when the scenario works through a pool of rows. */
  path: string;
  body?: string;
  /**
   * Rows for writes that need a fresh one per request (in the path's `{id}`), or fresh Idempotency-Keys
   * (`poolIn: "Idempotency-Key"`); the floor and relay send the probe's statement with the value replaced.
   */
  pool?: Pool;
  poolIn?: "path" | "Idempotency-Key";
};

/** The description of the entries the create scenario makes: none of the seeded ones has it. */
const CREATED = "Created by the bench";
/** The description the patch scenario gives its pool's rows. */
const PATCHED = "Patched by the bench";
const POOL = Number(process.env.BENCH_POOL ?? 3_000);
const DEEP_PAGE = Number(process.env.BENCH_DEEP_PAGE ?? 5_000);
/** A word in a handful of entries of the organization (`RARE_ENTRIES`), spread over its whole history. */
export const RARE_WORD = "quokka";
const RARE_ENTRIES = [10, 50_000, 100_000, 200_000, 300_000];

/** Fresh Idempotency-Keys, one per request. */
function keys(size: number): Pool {
  const fresh = () => Array.from({ length: size }, () => crypto.randomUUID());
  return { probe: crypto.randomUUID(), api: fresh(), floor: fresh(), relay: fresh() };
}

/** Puts RARE_WORD into a few entries of the organization, once (a reused seed keeps them). */
async function markRareEntries(run: Run, org: SeededOrganization) {
  await run({
    query: `update time_entries set description = description || ' ' || $2
      where id in (
        select (select id from time_entries where organization_id = $1 and deleted_at is null
          order by start_time desc, id desc offset n limit 1)
        from unnest($3::int[]) n
      ) and description not like '%' || $2`,
    params: [org.id, RARE_WORD, `{${RARE_ENTRIES.join(",")}}`],
  });
}

/** Finished entries of `userId` far in the past (2015), so they stay off the pages the list scenarios read. */
async function pool(run: Run, org: SeededOrganization, size: number): Promise<Pool> {
  const result = await run({
    query: `insert into time_entries (organization_id, user_id, project_id, start_time, end_time, description, billable)
      select $1, $2, $3, timestamptz '2015-01-01 00:00:00+00' + n * interval '1 hour',
        timestamptz '2015-01-01 00:30:00+00' + n * interval '1 hour', 'Bench pool #' || n, false
      from generate_series(1, $4::int) n returning id`,
    params: [org.id, org.ownerId, org.projectIds[0], String(size)],
  });
  const ids = result.rows.map((row) => row[0] as string);
  return {
    probe: ids[0] as string,
    api: ids.slice(1, 1 + (size - 1) / 3),
    floor: ids.slice(1 + (size - 1) / 3, 1 + (2 * (size - 1)) / 3),
    relay: ids.slice(1 + (2 * (size - 1)) / 3),
  };
}

/**
 * Deletes what the write scenarios left (pools, patched and soft-deleted rows too, created entries, the keys
 * of the idempotent creates), so runs do not pile up.
 */
export async function removePools(run: Run, org: SeededOrganization) {
  await run({
    query: `delete from time_entries where organization_id = $1
      and (description like 'Bench pool #%' or description = any($2::text[]))`,
    params: [org.id, `{"${CREATED}","${PATCHED}"}`],
  });
  await run({ query: "delete from idempotency_keys where organization_id = $1", params: [org.id] });
}

/** The cursor that `meta.next_cursor` of page `page - 1` would carry, for pages of `limit` entries. */
async function cursorOfPage(run: Run, org: SeededOrganization, page: number, limit: number) {
  const result = await run({
    query: `select to_char(start_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), id from time_entries
      where organization_id = $1 order by start_time desc, id desc offset $2 limit 1`,
    params: [org.id, String((page - 1) * limit - 1)],
  });
  const [row] = result.rows;
  if (!row) throw new Error(`the bench organization has fewer than ${(page - 1) * limit} entries`);
  return encodeCursor("time-entries", [row[0], row[1]]);
}

/**
 * The operations, as the owner of `org` (the largest organization) calls them. `poolSize`: rows (or keys) per
 * kind for the writes that need fresh ones, fewer at a network distance where each request takes longer.
 */
export async function scenarios({
  run,
  org,
  poolSize = POOL,
}: {
  run: Run;
  org: SeededOrganization;
  poolSize?: number;
}): Promise<Scenario[]> {
  await removePools(run, org);
  await markRareEntries(run, org);
  const list = "/v1/time-entries?limit=100";
  const [entry] = (
    await run({
      query: "select id from time_entries where organization_id = $1 order by start_time desc offset 1000 limit 1",
      params: [org.id],
    })
  ).rows;
  const created = JSON.stringify({
    project_id: org.projectIds[0],
    start_time: "2026-11-28T09:00:00+01:00",
    end_time: "2026-11-28T10:30:00+01:00",
    description: CREATED,
  });
  // 366 days (the most a summary takes) up to the last seeded day.
  const year = "/v1/time-entries/summary?start_date=2025-11-28&end_date=2026-11-28";
  return [
    { name: "list (limit 100)", method: "GET", path: list },
    { name: "list, start_date + end_date", method: "GET", path: `${list}&start_date=2026-11-01&end_date=2026-11-15` },
    { name: "list, project_id", method: "GET", path: `${list}&project_id=${org.projectIds[1]}` },
    { name: "list, user_id", method: "GET", path: `${list}&user_id=${org.memberId}` },
    { name: "list, q", method: "GET", path: `${list}&q=review` },
    { name: "page 1 (limit 20)", method: "GET", path: "/v1/time-entries?limit=20" },
    {
      name: `q, a rare word (limit 20, ${RARE_ENTRIES.length} hits)`,
      method: "GET",
      path: `/v1/time-entries?limit=20&q=${RARE_WORD}`,
    },
    {
      name: `page ${DEEP_PAGE.toLocaleString("en")} (limit 20, cursor)`,
      method: "GET",
      path: `/v1/time-entries?limit=20&cursor=${await cursorOfPage(run, org, DEEP_PAGE, 20)}`,
    },
    { name: "get", method: "GET", path: `/v1/time-entries/${entry?.[0]}` },
    { name: "create", method: "POST", path: "/v1/time-entries", body: created },
    {
      name: "create, Idempotency-Key",
      method: "POST",
      path: "/v1/time-entries",
      body: created,
      pool: keys(poolSize),
      poolIn: "Idempotency-Key",
    },
    {
      name: "patch",
      method: "PATCH",
      path: "/v1/time-entries/{id}",
      body: JSON.stringify({ description: PATCHED, billable: true }),
      pool: await pool(run, org, 1 + 3 * poolSize),
    },
    { name: "delete", method: "DELETE", path: "/v1/time-entries/{id}", pool: await pool(run, org, 1 + 3 * poolSize) },
    { name: "summary, 366 days, project × month", method: "GET", path: `${year}&group_by=project,month` },
    { name: "summary, 366 days, user × week", method: "GET", path: `${year}&group_by=user,week` },
  ];
}
