// A local stand-in for Neon's SQL-over-HTTP endpoint: the `POST /sql` requests
// that `neon()` sends when `neonConfig.fetchEndpoint` points here. Development
// and tests only; in production the Worker talks to Neon itself.
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { LOOPBACK_HOSTS } from "../src/lib/config";
import type { BatchOptions, Query, QueryResult, SqlBackend } from "./sql-backends";

export type SqlHttpEndpoint = {
  /** The URL to give the Worker as SQL_HTTP_ENDPOINT. */
  readonly url: string;
  /** How many SQL requests (single queries or batches) have been served. */
  readonly requests: number;
  /**
   * Milliseconds every answer waits before it is sent (SQL_HTTP_LATENCY_MS): the network between an edge
   * location and the database's region, which loopback does not have. Settable, so one endpoint can serve
   * a bench at several distances.
   */
  latencyMs: number;
  close(): Promise<void>;
};

/** SQL_HTTP_LATENCY_MS as a delay: a number of milliseconds ≥ 0, 0 when unset or empty. */
export function latencyFromEnv(value = process.env.SQL_HTTP_LATENCY_MS): number {
  const ms = Number(value?.trim() || 0);
  if (!Number.isFinite(ms) || ms < 0)
    throw new Error(`SQL_HTTP_LATENCY_MS must be a number of milliseconds ≥ 0, not ${value}`);
  return ms;
}

// The fields of a Postgres error that the Neon driver copies onto NeonDbError.
const errorFields = [
  "code",
  "severity",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;

class BadRequest extends Error {}

export async function startSqlHttpEndpoint(
  backend: SqlBackend,
  {
    port = 0,
    host = "127.0.0.1",
    latencyMs = 0,
    connectionString,
  }: {
    port?: number;
    host?: string;
    latencyMs?: number;
    /**
     * The only Neon-Connection-String served, when set (npm start's, random per start): another user of the machine
     * can reach a loopback port too, but cannot read the Worker's settings, where it is.
     */
    connectionString?: string;
  } = {},
): Promise<SqlHttpEndpoint> {
  let requests = 0;
  let latency = latencyMs;
  // Applied to every answer, errors included, after the database has answered: one round trip's network.
  const send = async (res: ServerResponse, status: number, body: unknown) => {
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    sendNow(res, status, body);
  };

  const server = createServer(async (req, res) => {
    if (req.method !== "POST" || new URL(req.url ?? "/", "http://x").pathname !== "/sql") {
      return sendNow(res, 404, { message: "Not found: POST /sql is the only route" });
    }
    const refusal = refusalOf(req, connectionString);
    if (refusal) return sendNow(res, 403, { message: refusal });
    requests++;
    try {
      const body = parseBody(await readBody(req));
      const arrayMode = header(req, "neon-array-mode") !== "false";
      if ("queries" in body) {
        const results = await backend.transaction(body.queries, batchOptions(req));
        return send(res, 200, { results: results.map((r) => shape(r, arrayMode)) });
      }
      return send(res, 200, shape(await backend.query(body), arrayMode));
    } catch (error) {
      if (error instanceof BadRequest) return send(res, 400, { message: error.message });
      return send(res, 400, postgresError(error));
    }
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/sql`,
    get requests() {
      return requests;
    },
    get latencyMs() {
      return latency;
    },
    set latencyMs(ms: number) {
      latency = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Why a request is not one of the Neon driver's, or undefined. Any web page a developer opens while `npm start` runs
 * can post to a port of 127.0.0.1 (a form, or `fetch` with `text/plain`: no preflight) and, by DNS rebinding, even
 * read the answers; this endpoint runs whatever SQL it is sent. So a request must name a loopback host (a rebound
 * page names its own) and carry `Neon-Connection-String`, which the driver always sends and which no page may send
 * to another origin without a preflight, one this endpoint never grants.
 */
function refusalOf(req: IncomingMessage, connectionString: string | undefined): string | undefined {
  const host = header(req, "host") ?? "";
  if (!URL.canParse(`http://${host}`) || !LOOPBACK_HOSTS.includes(new URL(`http://${host}`).hostname)) {
    return "Only requests to a loopback host name (127.0.0.1, localhost, [::1]) are served";
  }
  const given = header(req, "neon-connection-string");
  if (given === undefined) {
    return "A Neon-Connection-String header is required, as the Neon driver sends it";
  }
  // The driver adds parameters of its own (application_name): the password is what tells.
  if (connectionString !== undefined && !sameText(passwordOf(given), passwordOf(connectionString))) {
    return "The Neon-Connection-String is not this endpoint's (npm start gives the Worker its own in .data/worker-vars.env)";
  }
  return undefined;
}

function header(req: IncomingMessage, name: string) {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function batchOptions(req: IncomingMessage): BatchOptions {
  return {
    isolationLevel: header(req, "neon-batch-isolation-level"),
    readOnly: header(req, "neon-batch-read-only") === "true",
    deferrable: header(req, "neon-batch-deferrable") === "true",
  };
}

async function readBody(req: IncomingMessage) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function parseBody(text: string): Query | { queries: Query[] } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequest("Request body is not JSON");
  }
  const isQuery = (q: unknown): q is Query =>
    typeof q === "object" &&
    q !== null &&
    typeof (q as Query).query === "string" &&
    (!("params" in q) || Array.isArray((q as Query).params));
  const withParams = (q: Query): Query => ({ query: q.query, params: q.params ?? [] });
  if (isQuery(body)) return withParams(body);
  if (typeof body === "object" && body !== null && "queries" in body) {
    const { queries } = body as { queries: unknown };
    if (Array.isArray(queries) && queries.every(isQuery)) return { queries: queries.map(withParams) };
  }
  throw new BadRequest('Expected {"query", "params"} or {"queries": [...]}');
}

function shape(result: QueryResult, arrayMode: boolean) {
  const fields = result.fields.map((f) => ({
    name: f.name,
    dataTypeID: f.dataTypeID,
    tableID: 0,
    columnID: 0,
    dataTypeSize: -1,
    dataTypeModifier: -1,
    format: "text",
  }));
  const rows = arrayMode
    ? result.rows
    : result.rows.map((row) => Object.fromEntries(fields.map((f, i) => [f.name, row[i]])));
  return { command: result.command, rowCount: result.rowCount, rows, fields, rowAsArray: arrayMode };
}

function postgresError(error: unknown) {
  const source = (error ?? {}) as Record<string, unknown>;
  const body: Record<string, unknown> = {
    message: error instanceof Error ? error.message : String(error),
  };
  for (const field of errorFields) {
    if (source[field] !== undefined) body[field] = source[field];
  }
  return body;
}

function sendNow(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Equal text, compared in constant time. */
function sameText(a: string, b: string) {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A connection string's password, or "" for none or for text that is no URL. */
function passwordOf(connectionString: string) {
  return URL.canParse(connectionString) ? new URL(connectionString).password : "";
}
