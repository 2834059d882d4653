import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from "jose";
import { ApiError } from "./errors";

export type Caller = {
  userId: string;
  organizationId: string;
  tokenType: "session" | "oauth";
  /** The OAuth scopes granted; `null` for session tokens, which carry the user's full rights. */
  scopes: string[] | null;
  clientId: string | null;
};

export type TokenConfig = {
  sessionSecret: string;
  oauth: { issuer: string; audience: string; jwksUrl: string } | null;
};

const CLOCK_TOLERANCE_SECONDS = 30;
const SESSION_ALGORITHMS = ["HS256"];
const OAUTH_ALGORITHMS = ["RS256", "ES256"];
const JWKS_TIMEOUT_MS = 3000;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// Checking a signature costs more than the rest of a small request (about 0.3 ms for HS256 in workerd), and an
// isolate sees the same token many times; so a verified token's caller is kept per isolate, until the token expires
// but never longer than MAX_AGE: ten minutes for session tokens (a new secret is a new deployment, hence new
// isolates), 30 s for access tokens, the key set's refetch cooldown, so that a key the issuer withdraws stops
// working as promptly as without this cache. Failures are never kept.
const VERIFIED_TOKENS = 1000;
const MAX_AGE_MS = { session: 10 * 60_000, oauth: 30_000 } as const;
const verifiedTokens = new Map<string, { caller: Caller; until: number }>();

/** Verifies a bearer token and returns who is calling, or throws a 401 (503 when the key set is unreachable). */
export async function verifyToken(token: string, config: TokenConfig): Promise<Caller> {
  // The configuration is part of the key: a token is only as good as the secret or issuer that verified it.
  const key = [config.sessionSecret, config.oauth?.issuer, config.oauth?.audience, config.oauth?.jwksUrl, token].join(
    "\n",
  );
  const known = verifiedTokens.get(key);
  if (known && Date.now() < known.until) return known.caller;
  verifiedTokens.delete(key);
  const { caller, exp } = await verifyUncached(token, config);
  const until = Math.min((exp + CLOCK_TOLERANCE_SECONDS) * 1000, Date.now() + MAX_AGE_MS[caller.tokenType]);
  if (verifiedTokens.size >= VERIFIED_TOKENS) verifiedTokens.delete(verifiedTokens.keys().next().value as string);
  verifiedTokens.set(key, { caller, until });
  return caller;
}

type Verified = { caller: Caller; exp: number };

/**
 * A JWS in compact serialization: three base64url parts, which RFC 7515 §2 writes without padding (the signature
 * empty when unsigned, refused later by its alg).
 */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * Whether a base64url part is written as encoding would write it: the unused low bits of its last character are zero
 * (RFC 4648 §3.5), so that no two spellings decode to the same bytes.
 */
function isCanonicalBase64url(part: string) {
  const spare = { 2: 0b1111, 3: 0b11 }[(part.length % 4) as 2 | 3];
  if (spare === undefined) return part.length % 4 === 0;
  const last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".indexOf(part.at(-1) as string);
  return (last & spare) === 0;
}

async function verifyUncached(token: string, config: TokenConfig): Promise<Verified> {
  // jose's base64url decoder would take padding (or `+` and `/`) too, giving one token several spellings.
  if (!COMPACT_JWS.test(token) || !token.split(".").every(isCanonicalBase64url)) {
    throw invalidToken("The bearer token is not a JWT");
  }
  // Whatever the header holds: jose types it as a JOSE header, but it is the caller's JSON, not yet verified.
  let typ: unknown;
  try {
    typ = decodeProtectedHeader(token).typ;
  } catch {
    throw invalidToken("The bearer token is not a JWT");
  }
  // RFC 7515 §4.1.9: typ is a string; a number or an object is no token either path could accept.
  if (typ !== undefined && typeof typ !== "string") throw invalidToken("The token's typ header is not accepted");
  // RFC 9068 access tokens announce themselves with `typ: at+jwt` (RFC 8725 §3.11).
  const isAccessToken = typ?.toLowerCase().replace(/^application\//, "") === "at+jwt";
  return isAccessToken ? verifyAccessToken(token, config.oauth) : verifySessionToken(token, config.sessionSecret);
}

async function verifySessionToken(token: string, secret: string): Promise<Verified> {
  const key = await sessionKey(secret);
  const payload = await verifyOrExplain(() =>
    jwtVerify(token, key, {
      algorithms: SESSION_ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["exp", "sub", "org_id"],
    }),
  );
  return verified(payload, { tokenType: "session", scopes: null, clientId: null });
}

async function verifyAccessToken(token: string, oauth: TokenConfig["oauth"]): Promise<Verified> {
  if (!oauth) throw invalidToken("OAuth access tokens are not accepted by this deployment");
  const payload = await verifyOrExplain(() =>
    jwtVerifyAnyKey(token, keySet(oauth.jwksUrl), {
      algorithms: OAUTH_ALGORITHMS,
      issuer: oauth.issuer,
      audience: oauth.audience,
      typ: "at+jwt",
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      // RFC 9068 §2.2 requires iat and jti of every access token; jose checks that iat is a number.
      requiredClaims: ["exp", "iat", "jti", "sub", "org_id", "client_id"],
    }),
  );
  if (typeof payload.jti !== "string" || payload.jti === "") throw invalidToken("The jti claim must be a string");
  if (payload.scope !== undefined && typeof payload.scope !== "string") {
    throw invalidToken("The scope claim must be a space-separated string");
  }
  if (typeof payload.client_id !== "string" || payload.client_id === "") {
    throw invalidToken("The client_id claim must be a string");
  }
  const scopes = (payload.scope ?? "").split(" ").filter(Boolean);
  return verified(payload, { tokenType: "oauth", scopes, clientId: payload.client_id });
}

/**
 * `kid` is a hint (RFC 7515 §4.1.4): where several keys of the set fit the token (a kid two keys share, or none
 * and two keys of its algorithm), jose refuses it with JWKSMultipleMatchingKeys, which lists them; each is tried,
 * as jose documents, and the token verifies if one of them signed it.
 */
async function jwtVerifyAnyKey(token: string, getKey: JWTVerifyGetKey, options: JWTVerifyOptions) {
  try {
    return await jwtVerify(token, getKey, options);
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const key of error) {
      try {
        return await jwtVerify(token, key, options);
      } catch (keyError) {
        if (!(keyError instanceof errors.JWSSignatureVerificationFailed)) throw keyError;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

/** The caller is shared by every request that presents the same token: frozen so that none can change it. */
function verified(payload: JWTPayload, grant: Omit<Caller, "userId" | "organizationId">): Verified {
  // jose checks iat only against a maximum age; a token issued in the future is refused like one before its nbf.
  if (typeof payload.iat === "number" && payload.iat > Date.now() / 1000 + CLOCK_TOLERANCE_SECONDS) {
    throw invalidToken("The token is not valid yet");
  }
  if (grant.scopes) Object.freeze(grant.scopes);
  return { caller: Object.freeze({ ...identity(payload), ...grant }), exp: payload.exp as number };
}

function identity(payload: JWTPayload) {
  const { sub, org_id } = payload;
  if (typeof sub !== "string" || !uuidPattern.test(sub)) throw invalidToken("The sub claim must be a user id (UUID)");
  if (typeof org_id !== "string" || !uuidPattern.test(org_id)) {
    throw invalidToken("The org_id claim must be an organization id (UUID)");
  }
  return { userId: sub.toLowerCase(), organizationId: org_id.toLowerCase() };
}

async function verifyOrExplain(verify: () => Promise<{ payload: JWTPayload }>) {
  try {
    return (await verify()).payload;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw invalidToken(explain(error));
  }
}

function explain(error: unknown) {
  if (error instanceof errors.JWTExpired) return "The token has expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === "missing") return `The token lacks the required ${error.claim} claim`;
    if (error.reason === "invalid") return `The token's ${error.claim} claim is malformed`;
    if (error.claim === "nbf" || error.claim === "iat") return "The token is not valid yet";
    return `The token's ${error.claim} claim is not accepted`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "The token's signing algorithm is not accepted";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "The token's signature is invalid";
  if (error instanceof errors.JWKSNoMatchingKey) return "No key of the issuer matches the token";
  return "The token is invalid";
}

/** The protection space every challenge names (RFC 6750 §3), with or without an error. */
export const REALM = "time-entries-api";

function invalidToken(message: string) {
  return new ApiError("UNAUTHORIZED", message, undefined, {
    "WWW-Authenticate": `Bearer realm="${REALM}", error="invalid_token", error_description="${message.replaceAll('"', "'")}"`,
  });
}

// Imported once per isolate: given raw bytes, jose would import them as a CryptoKey on every request.
const sessionKeys = new Map<string, Promise<CryptoKey>>();
function sessionKey(secret: string) {
  let key = sessionKeys.get(secret);
  if (!key) {
    const bytes = new TextEncoder().encode(secret);
    key = crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    sessionKeys.set(secret, key);
  }
  return key;
}

// Per isolate: jose caches keys for 10 minutes and refetches on an unknown kid
// at most every 30 seconds.
const keySets = new Map<string, JWTVerifyGetKey>();
function keySet(jwksUrl: string): JWTVerifyGetKey {
  let getKey = keySets.get(jwksUrl);
  if (!getKey) {
    const remote = createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: JWKS_TIMEOUT_MS });
    getKey = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        if (isTokenProblem(error)) throw error;
        // The key set could not be fetched or read: the issuer's fault, not the caller's.
        throw new ApiError(
          "SERVICE_UNAVAILABLE",
          "The token issuer's key set is unavailable; retry shortly",
          undefined,
          {
            "Retry-After": "5",
          },
        );
      }
    };
    keySets.set(jwksUrl, getKey);
  }
  return getKey;
}

function isTokenProblem(error: unknown) {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JOSEAlgNotAllowed
  );
}
