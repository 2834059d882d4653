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
  /** Development and tests only: a local Neon SQL-over-HTTP endpoint to use instead of Neon. */
  SQL_HTTP_ENDPOINT?: string;
};

export type AppEnv = {
  Bindings: Bindings;
  Variables: { db: Db; caller: Caller; requestId: string };
};

export type AppOpenAPI = OpenAPIHono<AppEnv>;
export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
