// Races forced into one interleaving on a PostgreSQL server: a transaction on a connection of its own holds a lock,
// the request under test starts and waits on it, and the transaction then ends. PGlite runs one statement at a time,
// so a request cannot wait on another transaction there.
import pg from "pg";
import type { Harness } from "./harness";
import { testDatabaseUrl, withDatabase } from "./postgres";

/** The URL of the harness's own database on the server. */
export async function databaseUrlOf(h: Harness) {
  const [row] = await h.sql("select current_database() as name");
  return withDatabase(testDatabaseUrl(), row?.name as string);
}

/** A transaction on a connection of its own, begun. */
export async function transaction(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("begin");
  return {
    query: (text: string, params: unknown[] = []) => client.query(text, params),
    async end(how: "commit" | "rollback") {
      await client.query(how);
      await client.end();
    },
  };
}

/** Until `count` sessions of this database wait on a lock. */
export async function waitingOnLocks(h: Harness, count: number) {
  for (let i = 0; i < 500; i++) {
    const [row] = await h.sql(
      "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
    );
    if (Number(row?.n) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`fewer than ${count} sessions ever waited on a lock`);
}
