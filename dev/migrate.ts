// Applies drizzle-kit's SQL migrations over Neon's HTTP protocol, each
// migration in one transaction (a batch), so a failure leaves nothing half done.
// Bookkeeping matches drizzle-kit's own (drizzle.__drizzle_migrations).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { NeonDbError, neon, neonConfig } from "@neondatabase/serverless";
import { readMigrationFiles } from "drizzle-orm/migrator";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../drizzle", import.meta.url));

// Runs of db:migrate at once (two deploys, say) take turns: SQL over HTTP holds no session, so each transaction takes
// this lock first, and a migration another run applied meanwhile is skipped, not applied twice.
const LOCK = "select pg_advisory_xact_lock(7318402215)";
const ALREADY_APPLIED = "MG409";

export async function migrate(databaseUrl: string, sqlHttpEndpoint?: string) {
  if (sqlHttpEndpoint) neonConfig.fetchEndpoint = sqlHttpEndpoint;
  const sql = neon(databaseUrl);
  await sql.transaction([
    sql.query(LOCK),
    sql`create schema if not exists drizzle`,
    sql`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`,
  ]);
  const [last] = await sql`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`;
  const appliedUpTo = Number(last?.created_at ?? 0);

  const tags = migrationTags();
  const pending = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).filter(
    (migration) => migration.folderMillis > appliedUpTo,
  );
  let applied = 0;
  for (const migration of pending) {
    const when = Number(migration.folderMillis);
    try {
      await sql.transaction([
        sql.query(LOCK),
        sql.query(`do $$ begin
          if exists (select from drizzle.__drizzle_migrations where created_at = ${when}) then
            raise exception 'applied by another run' using errcode = '${ALREADY_APPLIED}';
          end if;
        end $$`),
        ...migration.sql.filter((statement) => statement.trim()).map((statement) => sql.query(statement)),
        sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`,
      ]);
      applied++;
    } catch (error) {
      if (error instanceof NeonDbError && error.code === ALREADY_APPLIED) continue;
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(
        `Migration ${tags.get(when) ?? when} failed, nothing of it applied (${applied} before it): ${reason}`,
        { cause: error },
      );
    }
  }
  return applied;
}

/** drizzle-kit's name of each migration (its file, without .sql), by the time that orders it. */
function migrationTags() {
  const journal = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, "utf8")) as {
    entries: { when: number; tag: string }[];
  };
  return new Map(journal.entries.map(({ when, tag }) => [when, tag]));
}
