// Migrates one embedded database and snapshots it; every test file starts
// from that snapshot instead of paying for initdb and migrations again.
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { LOCAL_DRIVER_URL } from "../../dev/database";
import { migrate } from "../../dev/migrate";
import { openPglite, openPostgres } from "../../dev/sql-backends";
import { startSqlHttpEndpoint } from "../../dev/sql-http-endpoint";
import { createDatabase, dropDatabase, onPostgres, testDatabaseUrl, withDatabase } from "./postgres";

declare module "vitest" {
  export interface ProvidedContext {
    snapshotPath: string;
    /** TEST_BACKEND=postgres: the migrated template database each test file is copied from. */
    postgresTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  if (onPostgres()) return setupPostgres(project);
  const backend = await openPglite();
  const endpoint = await startSqlHttpEndpoint(backend);
  await migrate(LOCAL_DRIVER_URL, endpoint.url);
  const snapshot = await backend.pglite.dumpDataDir("gzip");
  await endpoint.close();
  await backend.close();

  const snapshotPath = join(tmpdir(), `time-entries-test-db-${process.pid}.tar.gz`);
  writeFileSync(snapshotPath, Buffer.from(await snapshot.arrayBuffer()));
  project.provide("snapshotPath", snapshotPath);
  return () => rmSync(snapshotPath, { force: true });
}

const TEST_DATABASE_PREFIX = "time_entries_test_";

async function setupPostgres(project: TestProject) {
  const url = testDatabaseUrl();
  await dropLeftovers(url);
  const template = `${TEST_DATABASE_PREFIX}${process.pid}`;
  await createDatabase(url, template);
  const backend = openPostgres(withDatabase(url, template), { max: 1 });
  const endpoint = await startSqlHttpEndpoint(backend);
  try {
    await migrate(LOCAL_DRIVER_URL, endpoint.url);
  } finally {
    await endpoint.close();
    await backend.close();
  }
  project.provide("snapshotPath", "");
  project.provide("postgresTemplate", template);
  return () => dropDatabase(url, template);
}

/** Databases of earlier runs that were killed before their teardown (their runner's process is gone). */
async function dropLeftovers(url: string) {
  const admin = openPostgres(url, { max: 1 });
  let names: string[];
  try {
    const { rows } = await admin.query({
      query: "select datname from pg_database where datname like $1",
      params: [`${TEST_DATABASE_PREFIX}%`],
    });
    names = rows.map((row) => String(row[0]));
  } finally {
    await admin.close();
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const name of names) {
    const pid = Number(/^time_entries_test_(\d+)/.exec(name)?.[1]);
    if (Number.isInteger(pid) && !alive(pid)) await dropDatabase(url, name);
  }
}
