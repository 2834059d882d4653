import { ApiError } from "./errors";
import type { Bindings } from "./types";
import type { TokenConfig } from "./verify-token";

export type RateLimitPolicy = { requests: number; periodSeconds: number };

export type Config = TokenConfig & {
  databaseUrl: string;
  sqlHttpEndpoint: string | undefined;
  /** What the RATE_LIMITER binding enforces per organization; the binding itself decides. */
  rateLimit: RateLimitPolicy;
};

/** The defaults match `[[ratelimits]]` in wrangler.toml. */
export const DEFAULT_RATE_LIMIT: RateLimitPolicy = { requests: 600, periodSeconds: 60 };

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
  const requests = positiveInteger(env.RATE_LIMIT_REQUESTS, DEFAULT_RATE_LIMIT.requests);
  const periodSeconds = positiveInteger(env.RATE_LIMIT_PERIOD_SECONDS, DEFAULT_RATE_LIMIT.periodSeconds);
  if (requests === undefined) problems.push("RATE_LIMIT_REQUESTS must be a positive whole number");
  // The Workers Rate Limiting binding counts over 10 or 60 seconds only.
  if (periodSeconds !== 10 && periodSeconds !== 60) problems.push("RATE_LIMIT_PERIOD_SECONDS must be 10 or 60");
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
    rateLimit: { requests: requests ?? DEFAULT_RATE_LIMIT.requests, periodSeconds: periodSeconds ?? 60 },
  };
}

function positiveInteger(value: string | undefined, fallback: number) {
  if (value === undefined || value.trim() === "") return fallback;
  return /^[1-9]\d{0,8}$/.test(value.trim()) ? Number(value) : undefined;
}

const corsOrigins = new WeakMap<Bindings, ReadonlySet<string>>();

/**
 * The browser origins allowed by CORS_ALLOWED_ORIGINS (comma separated, exact
 * `scheme://host[:port]`). Read apart from the rest so that preflights never
 * depend on the secrets.
 */
export function allowedOrigins(env: Bindings | undefined): ReadonlySet<string> {
  if (!env) return new Set();
  let origins = corsOrigins.get(env);
  if (!origins) {
    origins = new Set(
      (env.CORS_ALLOWED_ORIGINS ?? "")
        .split(",")
        .map((origin) => origin.trim().replace(/\/+$/, ""))
        .filter((origin) => origin !== "" && origin !== "*" && URL.canParse(origin))
        .map((origin) => new URL(origin).origin),
    );
    corsOrigins.set(env, origins);
  }
  return origins;
}
