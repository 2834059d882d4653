// The built Worker (dist/, from `npm run build` in the global setup) running in
// workerd through wrangler's test harness, with wrangler.toml's own bindings,
// vars and static assets. Only the secrets and the local services are ours:
// the SQL-over-HTTP endpoint over PGlite and the OAuth issuer of test/support.
import { dirname } from "node:path";
import { inject } from "vitest";
import { createTestHarness, type TestHarness, unstable_readConfig } from "wrangler";
import { ROOT } from "../support/build-worker";
import { checkedCall, type Harness, startHarness } from "../support/harness";

process.env.WRANGLER_SEND_METRICS = "false";
// Offline, wrangler would try (and fail, noisily) to fetch the Request.cf placeholder.
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";

/** Starts the built Worker with these bindings on top of wrangler.toml's, and gives its URL. */
export async function startWorker(bindings: { vars?: Record<string, string>; secrets?: Record<string, string> } = {}) {
  const server: TestHarness = createTestHarness({
    root: ROOT,
    workers: [{ configPath: "./wrangler.toml", prebuiltWorkerDir: dirname(inject("workerScript")), ...bindings }],
  });
  const { url } = await server.listen();
  return { server, url };
}

/** The cron triggers wrangler.toml declares. */
export const cronTriggers = () => unstable_readConfig({ config: `${ROOT}/wrangler.toml` }).triggers.crons ?? [];

/**
 * The usual test harness (database, issuer, factories' needs), with `call` going to the Worker in workerd; `vars`
 * override wrangler.toml's.
 */
export async function startWorkerdHarness(vars: Record<string, string> = {}) {
  const h: Harness = await startHarness();
  const { SQL_HTTP_ENDPOINT, OAUTH_ISSUER, OAUTH_AUDIENCE, OAUTH_JWKS_URL } = h.env;
  const { server, url } = await startWorker({
    vars: { SQL_HTTP_ENDPOINT, OAUTH_ISSUER, OAUTH_AUDIENCE, OAUTH_JWKS_URL, ...vars } as Record<string, string>,
    secrets: { DATABASE_URL: h.env.DATABASE_URL, SESSION_JWT_SECRET: h.env.SESSION_JWT_SECRET } as Record<
      string,
      string
    >,
  });
  return {
    ...h,
    url,
    worker: server.getWorker(),
    logs: () => server.getLogs(),
    // The production bundle's answers are held to the document it serves itself, as the in-process app's are.
    call: checkedCall((path, init) => fetch(new URL(path, url), init)),
    async close() {
      await server.close();
      await h.close();
    },
  } satisfies Harness & Record<string, unknown>;
}

export type WorkerdHarness = Awaited<ReturnType<typeof startWorkerdHarness>>;
