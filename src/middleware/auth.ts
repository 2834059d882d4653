import { createMiddleware } from "hono/factory";
import { readConfig } from "../lib/config";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../lib/types";
import { REALM, verifyToken } from "../lib/verify-token";

/** Verifies the bearer token and puts the caller on the context (RFC 6750). */
export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const authorization = c.req.header("Authorization") ?? "";
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
  // A Bearer credential that is not one token (two, a tab, stray characters) is an invalid token; no credential, or
  // another scheme, is a challenge without an error code (RFC 6750 §3.1).
  if (!match?.[1] && /^Bearer[ \t]+\S/i.test(authorization)) {
    const message = "The Authorization header is malformed: send Bearer, one space and the token";
    throw new ApiError("UNAUTHORIZED", message, undefined, {
      "WWW-Authenticate": `Bearer realm="${REALM}", error="invalid_token", error_description="${message}"`,
    });
  }
  if (!match?.[1]) {
    throw new ApiError("UNAUTHORIZED", "A bearer token is required: Authorization: Bearer <token>", undefined, {
      "WWW-Authenticate": `Bearer realm="${REALM}"`,
    });
  }
  c.set("caller", await verifyToken(match[1], readConfig(c.env)));
  await next();
});

/** 403 for a token whose scopes do not include `scope`, one or more space separated (RFC 6750 §3.1). */
export const insufficientScope = (scope: string, message = `This operation needs the ${scope} scope`) =>
  new ApiError(
    "INSUFFICIENT_SCOPE",
    message,
    { required_scope: scope },
    { "WWW-Authenticate": `Bearer realm="${REALM}", error="insufficient_scope", scope="${scope}"` },
  );

/** OAuth access tokens must carry `scope`; session tokens act with the user's full rights. */
export const requireScope = (scope: string) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const { scopes } = c.get("caller");
    if (scopes && !scopes.includes(scope)) throw insufficientScope(scope);
    await next();
  });
