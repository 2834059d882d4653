import { NeonDbError } from "@neondatabase/serverless";

export type PostgresError = {
  code: string;
  constraint: string | undefined;
  detail: string | undefined;
  message: string;
};

function neonErrorOf(error: unknown): NeonDbError | undefined {
  // Through Drizzle a single query's error arrives wrapped; a batch's arrives bare.
  for (let e = error, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof NeonDbError) return e;
  }
  return undefined;
}

/** The SQLSTATE and constraint of an error Postgres raised, if this is one. */
export function postgresErrorOf(error: unknown): PostgresError | undefined {
  const neonError = neonErrorOf(error);
  if (!neonError?.code) return undefined;
  return {
    code: neonError.code,
    constraint: neonError.constraint,
    detail: neonError.detail,
    message: neonError.message,
  };
}

/** True when the database could not be reached or answered with something other than a Postgres error. */
export function isDatabaseUnavailable(error: unknown) {
  const neonError = neonErrorOf(error);
  return neonError !== undefined && !neonError.code;
}

export const UNIQUE_VIOLATION = "23505";

/**
 * Postgres refused to go on for now, not because of the request: a lock not granted within the role's `lock_timeout`
 * (55P03), a statement cancelled or over its `statement_timeout` (57014), a server shutting down or starting (57P01 to
 * 57P03), too many connections (53300). Sent again later, it may pass; the API never cancels its own statements.
 */
const BUSY = new Set(["55P03", "57014", "57P01", "57P02", "57P03", "53300"]);

export const isDatabaseBusy = (error: unknown) => BUSY.has(postgresErrorOf(error)?.code ?? "");

/** Postgres aborted the statement to resolve a conflict with a concurrent one: sending it again may succeed. */
export const isTransientConflict = (error: unknown) => {
  const code = postgresErrorOf(error)?.code;
  return code === "40P01" || code === "40001";
};

const withoutParameters = (message: string) => message.replace(/\nparams: [\s\S]*$/, "\nparams: (not logged)");

/**
 * An error as the logs keep it: the statement, SQLSTATE, constraint and the cause's words, but not the statement's
 * parameters (request bodies, webhook secrets) nor Postgres' detail ("Failing row contains (…)": every column).
 */
export function errorForLog(error: unknown) {
  const postgres = postgresErrorOf(error);
  const database = postgres && { code: postgres.code, constraint: postgres.constraint, message: postgres.message };
  if (!(error instanceof Error)) return { database, error: String(error) };
  const message = withoutParameters(error.message);
  const frames = (error.stack ?? "").split("\n").filter((line) => /^\s+at /.test(line));
  const cause = error.cause instanceof Error ? withoutParameters(error.cause.message) : undefined;
  return {
    database,
    error: { name: error.name, message, cause, stack: [`${error.name}: ${message}`, ...frames].join("\n") },
  };
}
