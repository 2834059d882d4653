// `npm run test:postgres [-- vitest args]`: the suite again on a real PostgreSQL
// server when TEST_DATABASE_URL is set (each test file in a database of its own,
// see postgres.ts). CI must set it; elsewhere the run is skipped with a note.
import { spawnSync } from "node:child_process";

if (!process.env.TEST_DATABASE_URL?.trim()) {
  if (process.env.CI) {
    console.error("CI must run the suite on PostgreSQL too: set TEST_DATABASE_URL (.ci/run does)");
    process.exit(1);
  }
  console.log("TEST_DATABASE_URL is unset: no pass on a PostgreSQL server (npm test's PGlite pass is the only one)");
  process.exit(0);
}
/**
 * Suites that never reach the database server, so a second pass would only repeat them: the document, the
 * bundle, the generated client, the /docs page in a browser, a parser, the local cron scheduler, and the rate
 * limit (counted before any SQL). They ran in the PGlite pass just before.
 */
const BACKEND_AGNOSTIC = [
  "test/budgets/bundle-size.test.ts",
  "test/client/generated-client.test.ts",
  "test/db/with-clause.test.ts",
  "test/dev-crons.test.ts",
  "test/openapi.test.ts",
  "test/security/rate-limit-workerd.test.ts",
  "test/workerd/docs.test.ts",
];
const args = process.argv.slice(2);
// Files named on the command line run whatever they are.
const excluded = args.some((arg) => !arg.startsWith("-")) ? [] : BACKEND_AGNOSTIC;
console.log(
  `The suite on PostgreSQL (${new URL(process.env.TEST_DATABASE_URL).host})` +
    (excluded.length ? `, but for ${excluded.length} suites that never reach it (run on PGlite above)` : ""),
);
const { status } = spawnSync("vitest", ["run", ...excluded.flatMap((file) => ["--exclude", file]), ...args], {
  stdio: "inherit",
  env: { ...process.env, TEST_BACKEND: "postgres" },
  shell: false,
});
process.exit(status ?? 1);
