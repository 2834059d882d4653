import { SignJWT } from "jose";

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
