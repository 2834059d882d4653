import { createMiddleware } from "hono/factory";
import { createDb } from "../db/client";
import { readConfig } from "../lib/config";
import type { AppEnv } from "../lib/types";

/** A database client per request: the Worker holds no connection between requests. */
export const database = createMiddleware<AppEnv>(async (c, next) => {
  const { databaseUrl, sqlHttpEndpoint } = readConfig(c.env);
  c.set("db", createDb(databaseUrl, sqlHttpEndpoint));
  await next();
});
