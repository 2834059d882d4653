// `npm run test:postgres [-- vitest args]`: the suite again on a real PostgreSQL
// server when TEST_DATABASE_URL is set (each test file in a database of its own,
// see postgres.ts). CI must set it; elsewhere the run is skipped with a note.
import { spawnSync } from "node:child_process";

if (!process.env.TEST_DATABASE_URL?.trim()) {
  if (process.env.CI) {
    console.error("CI must run the suite on PostgreSQL too: set TEST_DATABASE_URL (.ci/run does)");
    process.exit(1);
  }
  console.log("TEST_DATABASE_URL is unset: the suite ran on PGlite only");
  process.exit(0);
}
console.log(`The suite on PostgreSQL (${new URL(process.env.TEST_DATABASE_URL).host})`);
const { status } = spawnSync("vitest", ["run", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, TEST_BACKEND: "postgres" },
  shell: false,
});
process.exit(status ?? 1);
