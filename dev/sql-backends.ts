// The databases the local SQL-over-HTTP endpoint can serve: embedded PGlite, or
// a Postgres server reached with node-postgres. Both hand back Postgres' own
// text for every value, because the Neon driver parses values itself by type OID.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import pg from "pg";

export type Field = { name: string; dataTypeID: number };
export type QueryResult = { command: string; rowCount: number; rows: unknown[][]; fields: Field[] };
export type Query = { query: string; params: unknown[] };
export type BatchOptions = { isolationLevel?: string; readOnly?: boolean; deferrable?: boolean };

export interface SqlBackend {
  readonly kind: "pglite" | "postgres";
  query(query: Query): Promise<QueryResult>;
  /** Runs the queries in one transaction: all commit or none do. */
  transaction(queries: Query[], options?: BatchOptions): Promise<QueryResult[]>;
  close(): Promise<void>;
}

const isolationLevels: Record<string, string> = {
  ReadUncommitted: "read uncommitted",
  ReadCommitted: "read committed",
  RepeatableRead: "repeatable read",
  Serializable: "serializable",
};

function transactionModes({ isolationLevel, readOnly, deferrable }: BatchOptions = {}) {
  const modes: string[] = [];
  const level = isolationLevel ? isolationLevels[isolationLevel] : undefined;
  if (level) modes.push(`isolation level ${level}`);
  if (readOnly) modes.push("read only");
  if (deferrable) modes.push("deferrable");
  return modes.join(", ");
}

const identity = <T>(value: T) => value;

export type PgliteBackend = SqlBackend & { readonly pglite: PGlite };

export async function openPglite(options: { dataDir?: string; loadDataDir?: Blob } = {}): Promise<PgliteBackend> {
  // PGlite does not lock its directory: a second process (another `npm start`, `npm run db:migrate`) would
  // open it too, and what one of them writes is silently lost.
  const releaseLock = options.dataDir ? lockDataDir(options.dataDir) : () => {};
  // pg_trgm: the migrations create it (the `q` filter's trigram index); PGlite loads contrib extensions on demand.
  const db = await PGlite.create({ ...options, extensions: { pg_trgm } }).catch((error: unknown) => {
    releaseLock();
    if (!options.dataDir) throw error;
    // PGlite's own errors (an ErrnoError with a number, "failed to initialize properly") do not say what to do.
    const reason = (error instanceof Error && error.message) || JSON.stringify(error) || String(error);
    throw new Error(
      `The embedded database in ${options.dataDir} could not be opened (${reason}). If it is damaged, delete that folder: npm start then migrates and seeds a new one.`,
    );
  });
  await db.exec("set timezone = 'UTC'");
  // Built after start-up so the array types PGlite registers are covered too.
  const rawText = {
    parsers: Object.fromEntries(Object.keys(db.parsers).map((oid) => [oid, identity])),
    serializers: Object.fromEntries(Object.keys(db.serializers).map((oid) => [oid, identity])),
    rowMode: "array" as const,
  };
  type Runner = Pick<PGlite, "query">;
  const run = async (runner: Runner, { query, params }: Query): Promise<QueryResult> => {
    const result = await runner.query<unknown[]>(query, params, rawText);
    return {
      command: commandOf(query),
      rowCount: result.affectedRows || result.rows.length,
      rows: result.rows,
      fields: result.fields,
    };
  };
  return {
    kind: "pglite",
    query: (query) => run(db, query),
    transaction: (queries, options) =>
      db.transaction(async (tx) => {
        const modes = transactionModes(options);
        if (modes) await tx.query(`set transaction ${modes}`);
        const results: QueryResult[] = [];
        for (const query of queries) results.push(await run(tx, query));
        return results;
      }),
    close: async () => {
      await db.close();
      releaseLock();
    },
    pglite: db,
  };
}

/** The lock files this process holds: one naming this pid that is not among them was left by an earlier process. */
const heldLocks = new Set<string>();

/** Takes `<dataDir>.lock` for this process, or throws naming the live process that holds it. */
function lockDataDir(dataDir: string) {
  const file = resolve(`${dataDir}.lock`);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
      heldLocks.add(file);
      return () => {
        if (heldLocks.delete(file)) rmSync(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
      const holder = Number(readFileSync(file, "utf8"));
      // A pid is reused: after a crash or a container restart, this very process may bear the dead holder's pid.
      const inUse = holder === process.pid ? heldLocks.has(file) : isAlive(holder);
      if (inUse)
        throw new Error(
          `The embedded database in ${dataDir} is in use by process ${holder} (npm start?); stop it first`,
        );
      rmSync(file, { force: true }); // left by a process that died
    }
  }
}

function isAlive(pid: number) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

// PGlite does not report the command tag; the driver only passes it through (`fullResults`), so it is
// read from the text as Postgres would tag it: the statement's first word, past comments and
// parentheses, and for a WITH the first of its statement's words outside the common table expressions.
const STATEMENT_WORDS = new Set(["SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "TABLE"]);
const tagOf = (word: string) => (word === "VALUES" || word === "TABLE" ? "SELECT" : word);

export function commandOf(query: string) {
  const tokens = query.matchAll(/--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'|"(?:[^"]|"")*"|[()]|[A-Za-z_]\w*/g);
  let depth = 0;
  // The depth of the WITH (1 in `(with … select …)`), once read; its statement is at that depth.
  let withDepth: number | undefined;
  let previous = "";
  for (const [token] of tokens) {
    if (token.startsWith("--") || token.startsWith("/*")) continue;
    if (token === "(") {
      // Right after a common table expression's closing parenthesis: the statement itself, parenthesised (a SELECT).
      if (withDepth !== undefined && depth === withDepth && previous === ")") return "SELECT";
      depth++;
    } else if (token === ")") depth--;
    else if (/^[A-Za-z_]/.test(token)) {
      const word = token.toUpperCase();
      if (withDepth === undefined) {
        if (word !== "WITH") return tagOf(word);
        withDepth = depth;
      } else if (depth <= withDepth && STATEMENT_WORDS.has(word)) return tagOf(word);
    }
    previous = token;
  }
  return "";
}

export function openPostgres(connectionString: string, options: { max?: number } = {}): SqlBackend {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 10,
    // A server that takes the connection but never answers fails in 10 s instead of hanging whoever waits.
    connectionTimeoutMillis: 10_000,
    options: "-c TimeZone=UTC",
  });
  // An idle client dropped by the server must not crash the process.
  pool.on("error", () => {});
  const rawTypes = { getTypeParser: () => identity } as unknown as pg.CustomTypesConfig;
  const run = async (client: pg.Pool | pg.PoolClient, { query, params }: Query): Promise<QueryResult> => {
    const result = await client.query({ text: query, values: params, rowMode: "array", types: rawTypes });
    return {
      command: result.command,
      rowCount: result.rowCount ?? 0,
      rows: result.rows,
      fields: result.fields.map((f) => ({ ...f })),
    };
  };
  return {
    kind: "postgres",
    query: (query) => run(pool, query),
    async transaction(queries, options) {
      const client = await pool.connect();
      try {
        const modes = transactionModes(options);
        await client.query(modes ? `begin ${modes}` : "begin");
        const results: QueryResult[] = [];
        for (const query of queries) results.push(await run(client, query));
        await client.query("commit");
        return results;
      } catch (error) {
        await client.query("rollback").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/** A Neon URL is reached by the driver directly; any other Postgres through the local endpoint. */
export function isNeonUrl(url: string) {
  try {
    const { hostname } = new URL(url);
    return hostname.endsWith(".neon.tech") || hostname.endsWith(".neon.build");
  } catch {
    return false;
  }
}
