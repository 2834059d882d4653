import app from "./app";
import { createDb } from "./db/client";
import { purgeExpired } from "./housekeeping";
import { readConfig } from "./lib/config";
import type { Bindings } from "./lib/types";

export default {
  fetch: app.fetch,
  /** wrangler.toml's cron: housekeeping that no request should wait for. */
  async scheduled(_controller, env, ctx) {
    const { databaseUrl, sqlHttpEndpoint } = readConfig(env);
    ctx.waitUntil(purgeExpired(createDb(databaseUrl, sqlHttpEndpoint)));
  },
} satisfies ExportedHandler<Bindings>;
