// One test file's world: a real Postgres (PGlite from the migrated snapshot, or
// a database of its own on a server with TEST_BACKEND=postgres, see postgres.ts)
// behind the local Neon SQL-over-HTTP endpoint, a local OAuth issuer, and the
// app called exactly as the Workers runtime calls it, through the neon-http driver.
import { LOCAL_DRIVER_URL } from "../../dev/database";
import { type OAuthIssuer, startOAuthIssuer } from "../../dev/oauth-issuer";
import type { SqlBackend } from "../../dev/sql-backends";
import { type SqlHttpEndpoint, startSqlHttpEndpoint } from "../../dev/sql-http-endpoint";
import { signSessionToken } from "../../dev/tokens";
import app from "../../src/app";
import type { Bindings } from "../../src/lib/types";
import { contractCheck } from "./contract-check";
import { openTestDatabase } from "./test-database";

export const TEST_SESSION_SECRET = "test-session-secret-that-is-at-least-32-bytes-long";

export type CallOptions = {
  token?: string;
  /** A value to send as JSON, or a string sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
};

export type ApiResponse = {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely and assert them exactly.
  body: any;
};

export type Harness = Awaited<ReturnType<typeof startHarness>>;

export async function startHarness() {
  const database = await openTestDatabase();
  const backend: SqlBackend = database.backend;
  const endpoint: SqlHttpEndpoint = await startSqlHttpEndpoint(backend);
  const issuer: OAuthIssuer = await startOAuthIssuer();
  const env: Bindings = {
    DATABASE_URL: LOCAL_DRIVER_URL,
    SQL_HTTP_ENDPOINT: endpoint.url,
    SESSION_JWT_SECRET: TEST_SESSION_SECRET,
    OAUTH_ISSUER: issuer.issuer,
    OAUTH_AUDIENCE: issuer.audience,
    OAUTH_JWKS_URL: issuer.jwksUrl,
  };

  const call = checkedCall((path, init) => app.request(path, init, env));

  /** Runs SQL straight on the database (not through the endpoint, so it is not counted). Values come back as Postgres text. */
  async function sql(query: string, params: unknown[] = []) {
    const result = await backend.query({ query, params });
    return result.rows.map((row) =>
      Object.fromEntries(result.fields.map((field, i) => [field.name, row[i] as string | null])),
    );
  }

  return {
    env,
    backend,
    endpoint,
    issuer,
    call,
    sql,
    sessionToken: (userId: string, organizationId: string, expiresIn?: string | number) =>
      signSessionToken(TEST_SESSION_SECRET, { userId, organizationId }, expiresIn),
    /** How many SQL requests `action` cost. */
    async roundTrips(action: () => Promise<unknown>) {
      const before = endpoint.requests;
      await action();
      return endpoint.requests - before;
    },
    /** What `action` answered, and how many SQL requests it cost. */
    async counted<T>(action: () => Promise<T>) {
      const before = endpoint.requests;
      const result = await action();
      return { result, trips: endpoint.requests - before };
    },
    async close() {
      await endpoint.close();
      await issuer.close();
      await database.close();
    },
  };
}

/**
 * The harness's `call` over `fetcher` (the app in-process, or the built Worker under workerd): each answer is held
 * to the /openapi.json that same fetcher serves.
 */
export function checkedCall(fetcher: (path: string, init: RequestInit) => Response | Promise<Response>) {
  const checkContract = contractCheck(async () => (await fetcher("/openapi.json", {})).json());
  return async (method: string, path: string, options: CallOptions = {}) => {
    const response = await callWith((init) => fetcher(path, init), method, options);
    await checkContract(method, path, response);
    return response;
  };
}

/** Sends one API request through `fetcher` (the app in-process, or a Worker under workerd) and reads the answer. */
export async function callWith(
  fetcher: (init: RequestInit) => Response | Promise<Response>,
  method: string,
  options: CallOptions,
): Promise<ApiResponse> {
  const headers = new Headers(options.headers);
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  const response = await fetcher({ method, headers, body });
  const text = await response.text();
  // JSON bodies (`application/json`, `…+json`) are parsed; anything else, NDJSON and CSV included, stays text.
  const isJson = /^application\/([\w.-]+\+)?json\b/i.test(response.headers.get("Content-Type") ?? "");
  return { status: response.status, headers: response.headers, body: isJson && text ? JSON.parse(text) : text };
}

/** Postgres' text for a timestamptz in UTC (`2026-11-28 09:00:00.5+00`) as the API writes it. */
export function isoFromPostgres(text: string | null | undefined) {
  if (!text) throw new Error("expected a timestamp");
  return new Date(text.replace(" ", "T").replace(/\+00$/, "Z")).toISOString();
}
