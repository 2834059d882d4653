// `npm run token -- <user-id> <organization-id> [expires-in]`: a session token
// signed with the local secret (SESSION_JWT_SECRET or .data/session-secret).
import { fileURLToPath } from "node:url";
import { devSessionSecret, signSessionToken } from "./tokens";

const [userId, organizationId, expiresIn = "24h"] = process.argv.slice(2);
if (!userId || !organizationId) {
  console.error("usage: npm run token -- <user-id> <organization-id> [expires-in, e.g. 2h]");
  process.exit(2);
}
const secret = devSessionSecret(fileURLToPath(new URL("../.data", import.meta.url)));
console.log(await signSessionToken(secret, { userId, organizationId }, expiresIn));
