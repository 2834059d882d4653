import type { Hook } from "@hono/zod-openapi";
import type { z } from "zod";
import { ApiError } from "./errors";

export const UNKNOWN_FIELD = "Unknown field";

/** Turns zod issues into `details`: each field (dotted path) → its messages. */
export function fieldMessages(error: z.ZodError, target: string) {
  // No prototype: a field named `toString` or `__proto__` is a field like any other.
  const details: Record<string, string[]> = Object.create(null);
  const add = (field: string, message: string) => {
    const messages = details[field] ?? [];
    details[field] = messages;
    if (!messages.includes(message)) messages.push(message);
  };
  for (const issue of error.issues) {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) add(path ? `${path}.${key}` : key, UNKNOWN_FIELD);
    } else {
      add(path || target, issue.message);
    }
  }
  return details;
}

const targetNames: Record<string, string> = { json: "body", param: "path", query: "query", header: "header" };

// Shared by every route: a failed validation is one VALIDATION_ERROR envelope.
// biome-ignore lint/suspicious/noExplicitAny: the hook is generic over every route's env and schemas.
export const validationHook: Hook<any, any, any, any> = (result, c) => {
  if (!result.success) {
    const target = targetNames[result.target] ?? result.target;
    const details = fieldMessages(result.error, target);
    // No query parameter takes a list: a repeated one gets told so, not that its array is not a number (an unknown
    // one stays unknown: given once, it would be refused all the same).
    if (result.target === "query") {
      for (const [name, values] of Object.entries(c.req.queries())) {
        if (values.length > 1 && name in details && !details[name]?.includes(UNKNOWN_FIELD)) {
          details[name] = ["Must be given once"];
        }
      }
    }
    throw new ApiError("VALIDATION_ERROR", `Invalid request ${target}`, details);
  }
};
