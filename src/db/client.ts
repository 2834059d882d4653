import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";

export type Db = ReturnType<typeof createDb>;

/**
 * A Drizzle client over Neon's SQL-over-HTTP: every statement (or batch) is one
 * HTTP request. `sqlHttpEndpoint` points the driver at a local endpoint in
 * development and tests; it is unset in production.
 */
export function createDb(databaseUrl: string, sqlHttpEndpoint?: string) {
  // neonConfig is process-wide; one isolate only ever serves one environment.
  if (sqlHttpEndpoint) neonConfig.fetchEndpoint = sqlHttpEndpoint;
  // A batch's statements each take their own snapshot (queryOneAfter), whatever the database's default isolation.
  return drizzle({ client: neon(databaseUrl, { isolationLevel: "ReadCommitted" }) });
}
