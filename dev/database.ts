// Opens the database that local development and tests use: Neon directly when
// DATABASE_URL is a Neon URL; otherwise a local SQL-over-HTTP endpoint in front
// of that Postgres server, or of embedded PGlite when DATABASE_URL is unset.
import { randomBytes } from "node:crypto";
import { neon } from "@neondatabase/serverless";
import { isPostgresUrl } from "../src/lib/config";
import { isNeonUrl, openPglite, openPostgres, type SqlBackend } from "./sql-backends";
import { type SqlHttpEndpoint, startSqlHttpEndpoint } from "./sql-http-endpoint";

/**
 * What the Neon driver is given when a local endpoint of the tests or the bench serves: it must parse, and such an
 * endpoint takes any (npm start's takes only the random one it was started with).
 */
export const LOCAL_DRIVER_URL = "postgresql://local:local@localhost/local";

/** The headers the Neon driver sends the local endpoint, for a request made without it (the bench's floor). */
export const LOCAL_DRIVER_HEADERS = {
  "Content-Type": "application/json",
  "Neon-Array-Mode": "true",
  "Neon-Raw-Text-Output": "true",
  "Neon-Connection-String": LOCAL_DRIVER_URL,
};

export type DevDatabase = {
  /** The connection string for the Worker and the Neon driver. */
  databaseUrl: string;
  /** The local endpoint's URL, when one serves the database. */
  sqlHttpEndpoint: string | undefined;
  /** How to say where the data lives. */
  description: string;
  backend: SqlBackend | undefined;
  endpoint: SqlHttpEndpoint | undefined;
  close(): Promise<void>;
};

export async function openDevDatabase(options: {
  databaseUrl?: string;
  dataDir: string;
  port?: number;
  /** A delay before every answer of the local endpoint, standing for the network to the database. */
  latencyMs?: number;
}): Promise<DevDatabase> {
  const { databaseUrl, dataDir, port, latencyMs } = options;
  if (databaseUrl && isNeonUrl(databaseUrl)) {
    await reachableNeon(databaseUrl);
    return {
      databaseUrl,
      sqlHttpEndpoint: undefined,
      description: `Neon (${new URL(databaseUrl).hostname})`,
      backend: undefined,
      endpoint: undefined,
      close: async () => {},
    };
  }
  const backend = databaseUrl ? await reachablePostgres(databaseUrl) : await openPglite({ dataDir });
  // The endpoint runs any SQL it is sent: only for the Worker it was started for, which alone knows this string.
  const connectionString = `postgresql://local:${randomBytes(24).toString("hex")}@localhost/local`;
  const endpoint = await startSqlHttpEndpoint(backend, { port, latencyMs, connectionString });
  return {
    databaseUrl: connectionString,
    sqlHttpEndpoint: endpoint.url,
    description: `${databaseUrl ? `Postgres at ${new URL(databaseUrl).host}` : `embedded PGlite in ${dataDir}`}, through the local SQL-over-HTTP endpoint ${endpoint.url}${latencyMs ? ` (${latencyMs} ms added to every SQL request)` : ""}`,
    backend,
    endpoint,
    async close() {
      await endpoint.close();
      await backend.close();
    },
  };
}

/** A Postgres server DATABASE_URL names, answering; otherwise an error that says which setting is wrong and why. */
async function reachablePostgres(databaseUrl: string): Promise<SqlBackend> {
  if (!isPostgresUrl(databaseUrl)) {
    throw new Error("DATABASE_URL must be a postgres:// or postgresql:// URL (a Neon one, or any Postgres server)");
  }
  const backend = openPostgres(databaseUrl);
  try {
    await backend.query({ query: "select 1", params: [] });
    return backend;
  } catch (error) {
    await backend.close().catch(() => {});
    throw new Error(`DATABASE_URL: the Postgres server at ${new URL(databaseUrl).host} ${whyNot(error)}`);
  }
}

/** Neon's SQL-over-HTTP endpoint for DATABASE_URL, answering within 10 s; otherwise why not, as for Postgres. */
async function reachableNeon(databaseUrl: string) {
  try {
    await neon(databaseUrl).query("select 1", [], { fetchOptions: { signal: AbortSignal.timeout(10_000) } });
  } catch (error) {
    // The driver wraps a failed fetch in an error of its own, without a code; the socket's is on its source.
    const source = (error as { sourceError?: { cause?: unknown } } | null)?.sourceError;
    const why = whyNot(source?.cause ?? error);
    throw new Error(`DATABASE_URL: Neon at ${new URL(databaseUrl).hostname} ${why}`);
  }
}

/**
 * Why the server did not answer `select 1`, in words: a socket or DNS failure (Node's `E…` codes, EAI_AGAIN included)
 * is no server reached; Postgres' own refusal (a SQLSTATE: a wrong password is 28P01, a missing database 3D000) is a
 * server that answered and did not let us in.
 */
function whyNot(error: unknown) {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^E[A-Z_]+$/.test(code)) return `could not be reached: ${message}`;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return `did not let us in: ${message} (SQLSTATE ${code})`;
  return `did not answer: ${message}`;
}
