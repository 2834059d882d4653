// The database the bench scripts share: DATABASE_URL (a Postgres server) or, when unset, the embedded PGlite
// in .data/bench-pglite, and who is who in the organizations `npm run bench` seeded there.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openPglite, openPostgres, type SqlBackend } from "../dev/sql-backends";
import type { Run, SeededOrganization } from "./seed";

const root = fileURLToPath(new URL("..", import.meta.url));

/** `max`: connections of the Postgres pool (PGlite has one). */
export async function openBenchBackend(max: number): Promise<SqlBackend> {
  const url = process.env.DATABASE_URL?.trim();
  if (url) return openPostgres(url, { max });
  // PGlite creates its own directory but not the parents: a fresh clone has no .data yet.
  mkdirSync(join(root, ".data"), { recursive: true });
  return openPglite({ dataDir: join(root, ".data", "bench-pglite") });
}

/** Who is who in existing bench organizations (as `seed` returns it). */
export async function describeOrganizations(run: Run, ids: string[]): Promise<SeededOrganization[]> {
  const members = await run({
    query: `select organization_id, user_id, role from organization_members where organization_id = any($1::uuid[]) order by user_id`,
    params: [`{${ids.join(",")}}`],
  });
  const projects = await run({
    query: "select organization_id, id from projects where organization_id = any($1::uuid[]) order by id",
    params: [`{${ids.join(",")}}`],
  });
  return ids.map((id) => {
    const people = members.rows.filter((row) => row[0] === id);
    const ofRole = (role: string) => people.filter((row) => row[2] === role).map((row) => row[1] as string);
    return {
      id,
      ownerId: ofRole("owner")[0] as string,
      memberId: ofRole("member")[0] as string,
      otherMemberId: ofRole("member")[1] as string,
      projectIds: projects.rows.filter((row) => row[0] === id).map((row) => row[1] as string),
    };
  });
}

/** The first organization an earlier `npm run bench` seeded (the largest), for the scripts that measure it again. */
export async function seededBenchOrganization(run: Run): Promise<SeededOrganization> {
  const [first] = (
    await run({
      query: "select id from organizations where name like 'Bench organization %' order by name limit 1",
      params: [],
    })
  ).rows;
  if (!first) throw new Error("No bench organization: run `npm run bench` first to seed its database");
  return (await describeOrganizations(run, [first[0] as string]))[0] as SeededOrganization;
}
