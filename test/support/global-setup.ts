// Migrates one embedded database and snapshots it; every test file starts
// from that snapshot instead of paying for initdb and migrations again.
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { LOCAL_DRIVER_URL } from "../../dev/database";
import { migrate } from "../../dev/migrate";
import { openPglite } from "../../dev/sql-backends";
import { startSqlHttpEndpoint } from "../../dev/sql-http-endpoint";

declare module "vitest" {
  export interface ProvidedContext {
    snapshotPath: string;
  }
}

export default async function setup(project: TestProject) {
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
