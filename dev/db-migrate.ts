// `npm run db:migrate`: applies the migrations in drizzle/ to DATABASE_URL
// (a Neon URL or any Postgres), or to the embedded database in .data/ when unset.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openDevDatabase } from "./database";
import { migrate } from "./migrate";
import { localSetting } from "./worker-vars";

const root = fileURLToPath(new URL("..", import.meta.url));
try {
  const database = await openDevDatabase({
    databaseUrl: await localSetting(root, "DATABASE_URL"),
    dataDir: join(root, ".data", "pglite"),
  });
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
