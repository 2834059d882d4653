import { ApiError } from "./errors";
import type { Bindings } from "./types";
import type { TokenConfig } from "./verify-token";

export type Config = TokenConfig & { databaseUrl: string; sqlHttpEndpoint: string | undefined };

const MIN_SECRET_BYTES = 32; // RFC 7518 §3.2: an HS256 key is at least 256 bits.

const configs = new WeakMap<Bindings, Config>();

/** Reads and checks the Worker's configuration once per environment object. */
export function readConfig(env: Bindings): Config {
  let config = configs.get(env);
  if (!config) {
    config = parse(env);
    configs.set(env, config);
  }
  return config;
}

function parse(env: Bindings): Config {
  const problems: string[] = [];
  const databaseUrl = env.DATABASE_URL?.trim() ?? "";
  const sessionSecret = env.SESSION_JWT_SECRET ?? "";
  if (!databaseUrl) problems.push("DATABASE_URL is not set");
  if (new TextEncoder().encode(sessionSecret).length < MIN_SECRET_BYTES) {
    problems.push(`SESSION_JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  const issuer = env.OAUTH_ISSUER?.trim() ?? "";
  const audience = env.OAUTH_AUDIENCE?.trim() ?? "";
  const jwksUrl = env.OAUTH_JWKS_URL?.trim() ?? "";
  const oauthSettings = [issuer, audience, jwksUrl].filter(Boolean).length;
  if (oauthSettings > 0 && oauthSettings < 3) {
    problems.push("OAUTH_ISSUER, OAUTH_AUDIENCE and OAUTH_JWKS_URL must be set together");
  }
  if (jwksUrl && !URL.canParse(jwksUrl)) problems.push("OAUTH_JWKS_URL is not a URL");
  if (problems.length > 0) {
    // Operators read this in the logs; callers only learn that it is our fault.
    console.error(JSON.stringify({ level: "error", message: "invalid configuration", problems }));
    throw new ApiError("INTERNAL_ERROR", "The service is misconfigured");
  }
  return {
    databaseUrl,
    sessionSecret,
    oauth: oauthSettings === 3 ? { issuer, audience, jwksUrl } : null,
    sqlHttpEndpoint: env.SQL_HTTP_ENDPOINT?.trim() || undefined,
  };
}
