// The suite on a real Postgres server (TEST_BACKEND=postgres, TEST_DATABASE_URL
// naming a role that may create databases): the global setup migrates one
// template database, and each test file gets its own database copied from it,
// dropped when the file ends. PGlite runs one statement at a time; a server
// shows what concurrent requests really do.
import { openPostgres, type SqlBackend } from "../../dev/sql-backends";

export const onPostgres = () => process.env.TEST_BACKEND === "postgres";

export function testDatabaseUrl() {
  const url = process.env.TEST_DATABASE_URL?.trim();
  if (!url)
    throw new Error("TEST_BACKEND=postgres needs TEST_DATABASE_URL, e.g. postgres://dev:dev@127.0.0.1:5432/postgres");
  return url;
}

/** The same server and credentials, another database. */
export function withDatabase(url: string, database: string) {
  const next = new URL(url);
  next.pathname = `/${database}`;
  return next.toString();
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function onServer<T>(url: string, action: (admin: SqlBackend) => Promise<T>) {
  const admin = openPostgres(url, { max: 1 });
  try {
    return await action(admin);
  } finally {
    await admin.close();
  }
}

export async function createDatabase(url: string, name: string, template?: string) {
  await onServer(url, async (admin) => {
    await admin.query({ query: `drop database if exists ${quote(name)} with (force)`, params: [] });
    const from = template ? ` template ${quote(template)}` : "";
    // Several test files copy the template at once; Postgres refuses a copy while
    // another session is in the template, so retry briefly.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query({ query: `create database ${quote(name)}${from}`, params: [] });
        return;
      } catch (error) {
        if (attempt >= 20 || !/being accessed by other users/.test(String(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  });
}

export async function dropDatabase(url: string, name: string) {
  await onServer(url, async (admin) => {
    // FORCE ends the database's sessions, but an unprivileged role may not end an autovacuum worker that
    // just started on it (Postgres answers "must be a member of the role whose process is being
    // terminated"); the worker gives way within moments, so retry briefly.
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query({ query: `drop database if exists ${quote(name)} with (force)`, params: [] });
        return;
      } catch (error) {
        if (attempt >= 20 || !/whose process is being terminated|being accessed by other users/.test(String(error))) {
          throw error;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  });
}

/** A database of this test file, copied from the migrated template. */
export async function openFileDatabase(template: string) {
  const url = testDatabaseUrl();
  const name = `${template}_f${process.pid}_${crypto.randomUUID().slice(0, 8)}`;
  await createDatabase(url, name, template);
  const backend = openPostgres(withDatabase(url, name), { max: 20 });
  return {
    backend,
    name,
    async close() {
      await backend.close();
      await dropDatabase(url, name);
    },
  };
}
