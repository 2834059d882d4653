import type { z } from "@hono/zod-openapi";
import { requireScope } from "../middleware/auth";
import type { ErrorCode } from "./errors";

/** Guards an operation with an OAuth scope and documents it as the operation's security requirement. */
export const scoped = (scope: string) => ({
  middleware: requireScope(scope),
  security: [{ bearerAuth: [scope] }],
});

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

export const jsonBody = <T extends z.ZodType>(schema: T, description: string) => ({
  ...jsonContent(schema, description),
  required: true,
});

/** Errors every authenticated operation can answer with. */
export const authErrors = [
  "UNAUTHORIZED",
  "FORBIDDEN",
  "INSUFFICIENT_SCOPE",
  "RATE_LIMITED",
  "INTERNAL_ERROR",
  "SERVICE_UNAVAILABLE",
] as const satisfies ErrorCode[];

/**
 * Operations that take no body still refuse one over 64 KiB (the limit holds for every /v1 request, before routing)
 * and a compressed one (415), as those that take one do.
 */
export const noBodyErrors = ["PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"] as const satisfies ErrorCode[];

/** Errors of every operation that takes a JSON body. */
export const bodyErrors = [
  "VALIDATION_ERROR",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
] as const satisfies ErrorCode[];
