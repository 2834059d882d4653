// `npm start`: the real Worker under `wrangler dev`, on a database that needs no
// install (embedded PGlite in .data/ unless DATABASE_URL says otherwise), with
// the demo organization seeded and ready tokens printed.
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { configurationProblems } from "../src/lib/config";
import type { Bindings } from "../src/lib/types";
import { ALL_SCOPES } from "../src/routes/me/me.routes";
import { scheduleCrons, wranglerCrons } from "./crons";
import { openDevDatabase } from "./database";
import { migrate } from "./migrate";
import { type OAuthIssuer, startOAuthIssuer } from "./oauth-issuer";
import { nextFreePort, portIsFree } from "./port";
import { demo, seedDemo } from "./seed";
import { latencyFromEnv } from "./sql-http-endpoint";
import { stopWhenOrphaned, superviseWorker } from "./supervise-worker";
import { devSessionSecret, signSessionToken } from "./tokens";
import { projectVars, settingOf, workerVarsArgs } from "./worker-vars";

const root = fileURLToPath(new URL("..", import.meta.url));
const dataDir = join(root, ".data");

/**
 * What to undo on Ctrl-C, or when start-up fails half way (a wrangler left running would hold the port for the next
 * try): wrangler first, then what it used.
 */
const cleanups: (() => Promise<unknown> | unknown)[] = [];
const cleanUp = async () => {
  for (const cleanup of cleanups) await Promise.resolve(cleanup()).catch(() => {});
};

function portOf(text = "8787") {
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new Error(`PORT must be a whole number from 1 to 65535, not "${text}"`);
  return port;
}

async function main() {
  // From the first moment: a SIGTERM (or npm's death) while the database opens, migrates and seeds would otherwise
  // leave this process running on, orphaned, to start wrangler and serve.
  let stopping = false;
  const stop = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    await cleanUp();
    process.exit(exitCode);
  };
  // 128 + the signal's number, as a shell reports a process a signal ended.
  process.on("SIGINT", () => stop(130));
  process.on("SIGTERM", () => stop(143));
  stopWhenOrphaned(() => stop(0));
  // Checked first: wrangler refuses an older one only after the database has been opened, migrated and seeded.
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    throw new Error(`npm start needs Node.js 22.12 or newer (wrangler's minimum); this is ${process.version}`);
  }
  const project = await projectVars(root);
  const setting = (name: string) => settingOf(project.devVars, name);
  // Only you may enter it: the embedded database's files (signing secrets among them) are made readable by anyone.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const port = portOf(setting("PORT"));
  if (!(await portIsFree(port))) {
    const free = await nextFreePort(port);
    throw new Error(
      `Port ${port} on 127.0.0.1 is already in use (another npm start?). Stop that server, or start on another port${free ? `: PORT=${free} npm start` : ""}`,
    );
  }
  const secret = devSessionSecret(dataDir, setting("SESSION_JWT_SECRET"));
  // Without a configured issuer, a local one signs demo OAuth access tokens.
  const configured = {
    issuer: setting("OAUTH_ISSUER"),
    audience: setting("OAUTH_AUDIENCE"),
    jwksUrl: setting("OAUTH_JWKS_URL"),
  };
  // What the Worker would refuse on every request (a 500 after "ready"), refused here with the reasons instead,
  // before anything is opened or started.
  const problems = configurationProblems({
    ...project.worker,
    DATABASE_URL: "postgresql://set/below",
    SESSION_JWT_SECRET: secret,
    OAUTH_ISSUER: configured.issuer,
    OAUTH_AUDIENCE: configured.audience,
    OAUTH_JWKS_URL: configured.jwksUrl,
    WEBHOOK_ALLOW_LOOPBACK: setting("WEBHOOK_ALLOW_LOOPBACK") ?? "true",
  } as Bindings);
  if (problems.length > 0) throw new Error(`The Worker's configuration is invalid:\n  ${problems.join("\n  ")}`);
  const latencyMs = latencyFromEnv(setting("SQL_HTTP_LATENCY_MS"));
  const database = await openDevDatabase({
    databaseUrl: setting("DATABASE_URL"),
    dataDir: join(dataDir, "pglite"),
    latencyMs,
  });
  cleanups.push(() => database.close());
  const applied = await migrate(database.databaseUrl, database.sqlHttpEndpoint);
  const seeded = await seedDemo(database.databaseUrl, database.sqlHttpEndpoint);

  const localIssuer: OAuthIssuer | undefined =
    configured.issuer || configured.audience || configured.jwksUrl ? undefined : await startOAuthIssuer();
  const oauth = localIssuer ?? configured;
  if (localIssuer) cleanups.push(() => localIssuer.close());

  const vars: Record<string, string | undefined> = {
    DATABASE_URL: database.databaseUrl,
    SQL_HTTP_ENDPOINT: database.sqlHttpEndpoint,
    SESSION_JWT_SECRET: secret,
    OAUTH_ISSUER: oauth.issuer,
    OAUTH_AUDIENCE: oauth.audience,
    OAUTH_JWKS_URL: oauth.jwksUrl,
    // Lets a subscription name http://127.0.0.1:PORT, so `npm run webhooks:listen` can receive events.
    WEBHOOK_ALLOW_LOOPBACK: setting("WEBHOOK_ALLOW_LOOPBACK") ?? "true",
  };
  const base = `http://127.0.0.1:${port}`;
  const worker = superviseWorker({
    // The arguments anew at each start: a .dev.vars deleted meanwhile named there keeps wrangler from starting.
    spawnWorker: () =>
      spawn(
        join(root, "node_modules", ".bin", "wrangler"),
        [
          "dev",
          "--port",
          String(port),
          "--ip",
          "127.0.0.1",
          "--show-interactive-dev-session=false",
          ...workerVarsArgs(root, dataDir, vars),
        ],
        {
          cwd: root,
          stdio: ["ignore", "inherit", "inherit"],
          env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
        },
      ),
    healthUrl: `${base}/healthz`,
    watchPaths: [join(root, "src"), join(root, "wrangler.toml")],
  });
  cleanups.unshift(() => worker.stop());

  await worker.ready;
  const crons = wranglerCrons(readFileSync(join(root, "wrangler.toml"), "utf8"));
  scheduleCrons(base, crons, worker.serving);

  const lines = [
    "",
    "Time Entries API is ready",
    `  API       ${base}/v1/time-entries`,
    `  Docs      ${base}/docs`,
    `  OpenAPI   ${base}/openapi.json`,
    `  Database  ${database.description}${applied ? ` (${applied} migration(s) applied)` : ""}${seeded ? ", demo data seeded" : ""}`,
    `  Crons     ${crons.map((cron) => `"${cron}"`).join(", ")} (UTC), fired on schedule by npm start at ${base}/cdn-cgi/local/scheduled (wrangler's note that it does not fire them is about wrangler alone)`,
    "",
    "Session tokens for the demo organization (valid 24 hours):",
  ];
  const tokens: string[] = [];
  for (const user of demo.users) {
    const token = await signSessionToken(secret, { userId: user.id, organizationId: demo.organizationId });
    tokens.push(token);
    lines.push(`  ${user.name} <${user.email}>, ${user.role}:`, `    ${token}`);
  }
  if (localIssuer) {
    const [owner] = demo.users;
    const token = await localIssuer.sign({
      userId: owner.id,
      organizationId: demo.organizationId,
      scope: ALL_SCOPES.join(" "),
    });
    lines.push(
      "",
      `OAuth access token (local issuer ${localIssuer.issuer}, scope "${ALL_SCOPES.join(" ")}", valid 1 hour):`,
      `    ${token}`,
    );
  }
  lines.push(
    "",
    "Try it: paste this line into a shell (the README's examples use these names), then run the curl below.",
    `  export API=${base} TOKEN=${tokens[0]} MEMBER_TOKEN=${tokens[1]} ADMIN_TOKEN=${tokens[2]}`,
    `  curl -H "Authorization: Bearer $TOKEN" "$API/v1/time-entries"`,
    "",
  );
  console.log(lines.join("\n"));
}

main().catch(async (error) => {
  console.error(error instanceof Error ? error.message : error);
  await cleanUp();
  process.exit(1);
});
