// The database of one test file: a PGlite copy of the migrated snapshot, or,
// with TEST_BACKEND=postgres, a database of its own on a real server.
import { readFileSync } from "node:fs";
import { inject } from "vitest";
import { openPglite, type SqlBackend } from "../../dev/sql-backends";
import { onPostgres, openFileDatabase } from "./postgres";

export type TestDatabase = { backend: SqlBackend; close(): Promise<void> };

export async function openTestDatabase(): Promise<TestDatabase> {
  if (onPostgres()) return openFileDatabase(inject("postgresTemplate"));
  const backend = await openPglite({ loadDataDir: new Blob([readFileSync(inject("snapshotPath"))]) });
  return { backend, close: () => backend.close() };
}
