// `npm run db:migrate`: applies the migrations in drizzle/ to DATABASE_URL
// (a Neon URL or any Postgres), or to the embedded database in .data/ when unset.
import { fileURLToPath } from "node:url";
import { openDevDatabase } from "./database";
import { migrate } from "./migrate";

const dataDir = fileURLToPath(new URL("../.data/pglite", import.meta.url));
try {
  const database = await openDevDatabase({ databaseUrl: process.env.DATABASE_URL?.trim() || undefined, dataDir });
  try {
    const applied = await migrate(database.databaseUrl, database.sqlHttpEndpoint);
    console.log(`${applied} migration(s) applied to ${database.description}`);
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
