// `npm run token -- <user-id> <organization-id> [expires-in]`: a session token
// signed with the local secret (SESSION_JWT_SECRET, from the environment or .dev.vars, or .data/session-secret).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MIN_SECRET_BYTES } from "../src/lib/config";
import { devSessionSecret, signSessionToken } from "./tokens";
import { localSetting } from "./worker-vars";

const usage = "usage: npm run token -- <user-id> <organization-id> [expires-in: 90s, 30m, 2h, 7d]";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const args = process.argv.slice(2);
if (args.length === 1 && ["-h", "--help", "help"].includes(args[0] ?? "")) {
  console.log(`${usage}\nPrints a session token for that member, signed with the secret npm start uses.`);
  process.exit(0);
}
const [userId = "", organizationId = "", expiresIn = "24h"] = args;
const problems = [
  args.length < 2 || args.length > 3 ? `expected 2 or 3 arguments, got ${args.length}` : undefined,
  userId && !UUID.test(userId) ? `the user id is not a UUID: "${userId}"` : undefined,
  organizationId && !UUID.test(organizationId) ? `the organization id is not a UUID: "${organizationId}"` : undefined,
  // What jose reads as a lifetime from now; a negative one would make a token that is already expired.
  /^[1-9][0-9]*\s?(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)$/i.test(
    expiresIn,
  )
    ? undefined
    : `expires-in must be a positive lifetime such as 90s, 30m, 2h or 7d, not "${expiresIn}"`,
].filter(Boolean);
if (problems.length > 0) {
  console.error(`${problems.join("\n")}\n${usage}`);
  process.exit(2);
}
try {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const secret = devSessionSecret(join(root, ".data"), await localSetting(root, "SESSION_JWT_SECRET"));
  // What the Worker refuses, so would every request with a token signed by it (a 500).
  if (new TextEncoder().encode(secret).length < MIN_SECRET_BYTES) {
    throw new Error(`SESSION_JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes, as the Worker requires`);
  }
  console.log(await signSessionToken(secret, { userId, organizationId }, expiresIn));
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
