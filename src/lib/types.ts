import type { OpenAPIHono, RouteConfig, RouteHandler } from "@hono/zod-openapi";
import type { Db } from "../db/client";
import type { DeliveryMessage } from "../webhooks/queues";
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
  /** The Workers Rate Limiting binding (`[[ratelimits]]`), one counter per caller (rateLimitKey); absent: no limiting. */
  RATE_LIMITER?: RateLimit;
  /** What RATE_LIMITER's `simple` settings are, announced in `RateLimit-Policy`: requests per period. */
  RATE_LIMIT_REQUESTS?: string;
  /** RATE_LIMITER's period in seconds (10 or 60), announced in `RateLimit-Policy` and `Retry-After`. */
  RATE_LIMIT_PERIOD_SECONDS?: string;
  /** Development and tests only: a local Neon SQL-over-HTTP endpoint to use instead of Neon. */
  SQL_HTTP_ENDPOINT?: string;
  /** The Queue of webhook deliveries (`[[queues.producers]]`); absent (Node tests): the cron's sweep enqueues them. */
  WEBHOOK_DELIVERIES?: Queue<DeliveryMessage>;
  /** Development only: `true` lets subscriptions name http://127.0.0.1:PORT (`npm start` sets it). */
  WEBHOOK_ALLOW_LOOPBACK?: string;
  /** How long a receiver has to answer, in milliseconds (default 10000). */
  WEBHOOK_TIMEOUT_MS?: string;
  /** The first retry's delay in seconds (default 30); each next one is four times longer, at most 12 hours. */
  WEBHOOK_RETRY_BASE_SECONDS?: string;
  /** Dead-lettered events in a row after which a subscription is disabled (default 5). */
  WEBHOOK_DISABLE_AFTER_FAILURES?: string;
};

export type AppEnv = {
  Bindings: Bindings;
  Variables: { db: Db; caller: Caller; requestId: string };
};

export type AppOpenAPI = OpenAPIHono<AppEnv>;
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
