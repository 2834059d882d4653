import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";
import { MIN_SECRET_BYTES } from "../src/lib/config";

/** The session secret in force locally: SESSION_JWT_SECRET, or one generated once and kept in `dataDir`. */
export function devSessionSecret(dataDir: string, configured: string | undefined) {
  if (configured) return configured;
  const file = join(dataDir, "session-secret");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(48).toString("base64url"), { mode: 0o600 });
  }
  const secret = readFileSync(file, "utf8").trim();
  if (new TextEncoder().encode(secret).length < MIN_SECRET_BYTES) {
    throw new Error(
      `${file} holds fewer than ${MIN_SECRET_BYTES} bytes: delete it, and a new secret is made (earlier tokens stop working)`,
    );
  }
  return secret;
}

/** A session token as the product's login would issue it (HS256, sub, org_id, iat, exp). */
export function signSessionToken(
  secret: string,
  claims: { userId: string; organizationId: string },
  expiresIn: string | number = "24h",
) {
  return new SignJWT({ org_id: claims.organizationId })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.userId)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
