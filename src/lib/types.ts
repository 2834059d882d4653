import type { OpenAPIHono, RouteConfig, RouteHandler } from "@hono/zod-openapi";
import type { Db } from "../db/client";
import type { Caller } from "./verify-token";

/** What the Worker receives from wrangler.toml `[vars]` and secrets. */
export type Bindings = {
  DATABASE_URL?: string;
  SESSION_JWT_SECRET?: string;
  OAUTH_ISSUER?: string;
  OAUTH_AUDIENCE?: string;
  OAUTH_JWKS_URL?: string;
  /** Origins allowed to call the API from a browser, comma separated (`https://app.example.com`); empty: none. */
  CORS_ALLOWED_ORIGINS?: string;
  /** The Workers Rate Limiting binding (`[[ratelimits]]`), one counter per organization; absent: no limiting. */
  RATE_LIMITER?: RateLimit;
  /** What RATE_LIMITER's `simple` settings are, announced in `RateLimit-Policy`: requests per period. */
  RATE_LIMIT_REQUESTS?: string;
  /** RATE_LIMITER's period in seconds (10 or 60), announced in `RateLimit-Policy` and `Retry-After`. */
  RATE_LIMIT_PERIOD_SECONDS?: string;
  /** Development and tests only: a local Neon SQL-over-HTTP endpoint to use instead of Neon. */
  SQL_HTTP_ENDPOINT?: string;
};

export type AppEnv = {
  Bindings: Bindings;
  Variables: { db: Db; caller: Caller; requestId: string };
};

export type AppOpenAPI = OpenAPIHono<AppEnv>;
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
