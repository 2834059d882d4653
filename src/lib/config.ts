import { ApiError } from "./errors";
import type { Bindings } from "./types";
import type { TokenConfig } from "./verify-token";

export type RateLimitPolicy = { requests: number; periodSeconds: number };

export type WebhookSettings = {
  /** Development only (WEBHOOK_ALLOW_LOOPBACK): subscriptions may name http://127.0.0.1:PORT. */
  allowLoopback: boolean;
  /** How long a receiver has to answer (WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** The first retry's delay (WEBHOOK_RETRY_BASE_SECONDS); each next one is four times longer. */
  retryBaseSeconds: number;
  /** Dead-lettered events in a row after which a subscription is disabled (WEBHOOK_DISABLE_AFTER_FAILURES). */
  disableAfterFailures: number;
};

export type Config = TokenConfig & {
  databaseUrl: string;
  sqlHttpEndpoint: string | undefined;
  /** What the RATE_LIMITER binding enforces per caller (src/middleware/rate-limit.ts); the binding itself decides. */
  rateLimit: RateLimitPolicy;
  webhooks: WebhookSettings;
};

/** The defaults match `[[ratelimits]]` in wrangler.toml. */
export const DEFAULT_RATE_LIMIT: RateLimitPolicy = { requests: 600, periodSeconds: 60 };

/** The defaults match wrangler.toml's [vars]. */
export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  allowLoopback: false,
  timeoutMs: 10_000,
  retryBaseSeconds: 30,
  disableAfterFailures: 5,
};

export const MIN_SECRET_BYTES = 32; // RFC 7518 §3.2: an HS256 key is at least 256 bits.

/** What the crons and the queue consumer need. */
export type BackgroundConfig = Pick<Config, "databaseUrl" | "sqlHttpEndpoint" | "webhooks">;

type Interpretation = { problems: string[]; backgroundProblems: string[]; config: Config };

const interpretations = new WeakMap<Bindings, Interpretation>();

/** The environment object's settings, read once: the checks below are then a look at its lists of problems. */
function interpretedOnce(env: Bindings): Interpretation {
  let interpretation = interpretations.get(env);
  if (!interpretation) {
    interpretation = interpret(env);
    interpretations.set(env, interpretation);
  }
  return interpretation;
}

/** Reads and checks the Worker's configuration once per environment object. */
export const readConfig = (env: Bindings): Config => checked(interpretedOnce(env), "problems");

/**
 * The configuration of the crons and the queue consumer, checked for what they use only: a broken token or rate-limit
 * setting fails every API request, and must not also hold back webhook deliveries and housekeeping.
 */
export const readBackgroundConfig = (env: Bindings): BackgroundConfig =>
  checked(interpretedOnce(env), "backgroundProblems");

/** What is wrong with the Worker's configuration, in words an operator can act on; empty when it is sound. */
export function configurationProblems(env: Bindings): string[] {
  return interpretedOnce(env).problems;
}

function checked(interpretation: Interpretation, which: "problems" | "backgroundProblems"): Config {
  const problems = interpretation[which];
  if (problems.length > 0) {
    // Operators read this in the logs; callers only learn that it is our fault.
    console.error(JSON.stringify({ level: "error", message: "invalid configuration", problems }));
    throw new ApiError("INTERNAL_ERROR", "The service is misconfigured");
  }
  return interpretation.config;
}

function interpret(env: Bindings): Interpretation {
  const backgroundProblems: string[] = [];
  const databaseUrl = env.DATABASE_URL?.trim() ?? "";
  if (!databaseUrl) backgroundProblems.push("DATABASE_URL is not set");
  // Malformed, the driver fails every query as if the database were down: a 503 forever, and no reason in the logs.
  else if (!isPostgresUrl(databaseUrl)) {
    backgroundProblems.push("DATABASE_URL must be a postgres:// or postgresql:// URL");
  }
  const webhooks = webhookSettings(env, backgroundProblems);
  const problems = [...backgroundProblems];
  const sessionSecret = env.SESSION_JWT_SECRET ?? "";
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
  // Fetched in clear text, the keys that decide who is signed in could be swapped on the way; a local issuer is fine.
  else if (jwksUrl && !isHttpsOrLoopback(new URL(jwksUrl))) {
    problems.push("OAUTH_JWKS_URL must be an https:// URL (http:// only for 127.0.0.1, localhost or [::1])");
  }
  const requests = positiveInteger(env.RATE_LIMIT_REQUESTS, DEFAULT_RATE_LIMIT.requests);
  const periodSeconds = positiveInteger(env.RATE_LIMIT_PERIOD_SECONDS, DEFAULT_RATE_LIMIT.periodSeconds);
  if (requests === undefined) problems.push("RATE_LIMIT_REQUESTS must be a positive whole number");
  // The Workers Rate Limiting binding counts over 10 or 60 seconds only.
  if (periodSeconds !== 10 && periodSeconds !== 60) problems.push("RATE_LIMIT_PERIOD_SECONDS must be 10 or 60");
  // Dropped quietly, a mistyped origin would leave its site with failed preflights and no reason anywhere.
  if (corsEntries(env).some((entry) => originOf(entry) === undefined)) {
    problems.push("CORS_ALLOWED_ORIGINS must list origins, http(s)://host[:port] each, comma separated, no wildcard");
  }
  const config: Config = {
    databaseUrl,
    sessionSecret,
    oauth: oauthSettings === 3 ? { issuer, audience, jwksUrl } : null,
    sqlHttpEndpoint: env.SQL_HTTP_ENDPOINT?.trim() || undefined,
    rateLimit: { requests: requests ?? DEFAULT_RATE_LIMIT.requests, periodSeconds: periodSeconds ?? 60 },
    webhooks,
  };
  return { problems, backgroundProblems, config };
}

/** The host names of this machine, as a URL's `hostname` writes them: where a local issuer or endpoint runs. */
export const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "localhost", "[::1]"];

const isHttpsOrLoopback = (url: URL) =>
  url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.includes(url.hostname));

function webhookSettings(env: Bindings, problems: string[]): WebhookSettings {
  const defaults = DEFAULT_WEBHOOK_SETTINGS;
  const timeoutMs = positiveInteger(env.WEBHOOK_TIMEOUT_MS, defaults.timeoutMs);
  // 0 retries at once: what tests of the retry path want.
  const retryBaseSeconds = wholeNumber(env.WEBHOOK_RETRY_BASE_SECONDS, defaults.retryBaseSeconds);
  const disableAfterFailures = positiveInteger(env.WEBHOOK_DISABLE_AFTER_FAILURES, defaults.disableAfterFailures);
  const allowLoopback = env.WEBHOOK_ALLOW_LOOPBACK?.trim() ?? "";
  if (timeoutMs === undefined) problems.push("WEBHOOK_TIMEOUT_MS must be a positive whole number");
  if (retryBaseSeconds === undefined) problems.push("WEBHOOK_RETRY_BASE_SECONDS must be a whole number");
  if (disableAfterFailures === undefined)
    problems.push("WEBHOOK_DISABLE_AFTER_FAILURES must be a positive whole number");
  if (!["", "true", "false"].includes(allowLoopback)) problems.push("WEBHOOK_ALLOW_LOOPBACK must be true or false");
  return {
    allowLoopback: allowLoopback === "true",
    timeoutMs: timeoutMs ?? defaults.timeoutMs,
    retryBaseSeconds: retryBaseSeconds ?? defaults.retryBaseSeconds,
    disableAfterFailures: disableAfterFailures ?? defaults.disableAfterFailures,
  };
}

/** A postgres:// or postgresql:// URL, the only kind the driver (and `npm run db:migrate`) takes. */
export function isPostgresUrl(value: string) {
  return URL.canParse(value) && ["postgres:", "postgresql:"].includes(new URL(value).protocol);
}

function positiveInteger(value: string | undefined, fallback: number) {
  if (value === undefined || value.trim() === "") return fallback;
  return /^[1-9]\d{0,8}$/.test(value.trim()) ? Number(value) : undefined;
}

function wholeNumber(value: string | undefined, fallback: number) {
  return value?.trim() === "0" ? 0 : positiveInteger(value, fallback);
}

const corsOrigins = new WeakMap<Bindings, ReadonlySet<string>>();

const corsEntries = (env: Bindings) =>
  (env.CORS_ALLOWED_ORIGINS ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");

/** The origin an entry of CORS_ALLOWED_ORIGINS names (a trailing `/` allowed), or undefined if it names none. */
function originOf(entry: string): string | undefined {
  const text = entry.replace(/\/+$/, "");
  if (!URL.canParse(text)) return undefined;
  const url = new URL(text);
  const bare = url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
  // A wildcard (`*`, `https://*.example.com`) would be taken for a name, and match nothing: origins compare exactly.
  const exact = !text.includes("*") && !text.endsWith("?");
  return (url.protocol === "https:" || url.protocol === "http:") && bare && exact ? url.origin : undefined;
}

/**
 * The browser origins allowed by CORS_ALLOWED_ORIGINS (comma separated, exact `http(s)://host[:port]`). Read apart
 * from the rest so that preflights never depend on the secrets; an entry that is no origin makes the configuration
 * invalid (`interpret`), and is left out here.
 */
export function allowedOrigins(env: Bindings | undefined): ReadonlySet<string> {
  if (!env) return new Set();
  let origins = corsOrigins.get(env);
  if (!origins) {
    origins = new Set(corsEntries(env).flatMap((entry) => originOf(entry) ?? []));
    corsOrigins.set(env, origins);
  }
  return origins;
}
