// Applies drizzle-kit's SQL migrations over Neon's HTTP protocol, each
// migration in one transaction (a batch), so a failure leaves nothing half done.
// Bookkeeping matches drizzle-kit's own (drizzle.__drizzle_migrations).
import { fileURLToPath } from "node:url";
import { neon, neonConfig } from "@neondatabase/serverless";
import { readMigrationFiles } from "drizzle-orm/migrator";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../drizzle", import.meta.url));

export async function migrate(databaseUrl: string, sqlHttpEndpoint?: string) {
  if (sqlHttpEndpoint) neonConfig.fetchEndpoint = sqlHttpEndpoint;
  const sql = neon(databaseUrl);
  await sql`create schema if not exists drizzle`;
  await sql`create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)`;
  const [last] = await sql`select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1`;
  const appliedUpTo = Number(last?.created_at ?? 0);

  const pending = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).filter(
    (migration) => migration.folderMillis > appliedUpTo,
  );
  for (const migration of pending) {
    await sql.transaction([
      ...migration.sql.filter((statement) => statement.trim()).map((statement) => sql.query(statement)),
      sql`insert into drizzle.__drizzle_migrations (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`,
    ]);
  }
  return pending.length;
}
