// A local OAuth2 authorization server's key side: it publishes a JWKS and signs
// RFC 9068 access tokens, so OAuth clients can be tried (and tested) offline.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

type Alg = "ES256" | "RS256";
type SigningKey = { alg: Alg; kid: string; privateKey: CryptoKey; jwk: JWK };

/** How the JWKS endpoint answers: normally, or like a broken issuer. */
export type JwksMode = "ok" | "hang" | "garbage" | "error";

export type AccessTokenClaims = {
  userId: string;
  organizationId: string;
  scope?: string;
  clientId?: string;
};

export const DEV_AUDIENCE = "time-entries-api";

async function newKey(alg: Alg): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${alg.toLowerCase()}-${crypto.randomUUID()}`;
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

export async function startOAuthIssuer({ audience = DEV_AUDIENCE, port = 0 } = {}) {
  let keys = [await newKey("ES256"), await newKey("RS256")];
  let mode: JwksMode = "ok";
  let jwksRequests = 0;

  const server = createServer((req, res) => {
    if (req.url !== "/.well-known/jwks.json") {
      res.writeHead(404).end();
      return;
    }
    jwksRequests++;
    if (mode === "hang") return; // never answers; the verifier's timeout must fire
    if (mode === "error") {
      res.writeHead(500, { "content-type": "text/plain" }).end("internal error");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(mode === "garbage" ? "<html>not a key set" : JSON.stringify({ keys: keys.map((k) => k.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    audience,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    get jwksRequests() {
      return jwksRequests;
    },
    setMode(next: JwksMode) {
      mode = next;
    },
    /** Replaces every key: tokens signed before no longer verify once the verifier refetches. */
    async rotate() {
      keys = [await newKey("ES256"), await newKey("RS256")];
    },
    /** Signs an access token; `overrides` lets tests break one property at a time. */
    async sign(
      claims: AccessTokenClaims,
      overrides: {
        alg?: Alg;
        typ?: string;
        issuer?: string;
        audience?: string;
        expiresIn?: string | number;
        kid?: string;
      } = {},
    ) {
      const alg = overrides.alg ?? "ES256";
      const key = keys.find((k) => k.alg === alg) as SigningKey;
      const payload: Record<string, unknown> = {
        org_id: claims.organizationId,
        client_id: claims.clientId ?? "demo-client",
      };
      if (claims.scope !== undefined) payload.scope = claims.scope;
      return new SignJWT(payload)
        .setProtectedHeader({ alg, kid: overrides.kid ?? key.kid, typ: overrides.typ ?? "at+jwt" })
        .setIssuer(overrides.issuer ?? issuer)
        .setAudience(overrides.audience ?? audience)
        .setSubject(claims.userId)
        .setIssuedAt()
        .setJti(crypto.randomUUID())
        .setExpirationTime(overrides.expiresIn ?? "1h")
        .sign(key.privateKey);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type OAuthIssuer = Awaited<ReturnType<typeof startOAuthIssuer>>;
