import type { Hook } from "@hono/zod-openapi";
import type { z } from "zod";
import { ApiError } from "./errors";

export const UNKNOWN_FIELD = "Unknown field";

/** What a value of zod's expected types is called in a message. */
const kinds: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  array: "an array",
  object: "an object",
};

/** The value at `path` of `input`, undefined where any step is missing. */
const valueAt = (input: unknown, path: PropertyKey[]) =>
  path.reduce<unknown>(
    (value, key) =>
      value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined,
    input,
  );

/**
 * An issue's message for a client: `Required` for a field that was not sent, whatever the schema's message for a
 * malformed value; `Must be a string` (and the like) instead of zod's own `Invalid input: expected string, received
 * null`; the schema's message otherwise.
 */
function messageOf(issue: z.core.$ZodIssue, input: unknown) {
  const missing = issue.path.length > 0 && valueAt(input, issue.path) === undefined;
  if (missing && ["invalid_type", "invalid_value", "invalid_format"].includes(issue.code)) return "Required";
  if (issue.code === "invalid_type" && issue.message.startsWith("Invalid input: expected")) {
    return `Must be ${kinds[issue.expected] ?? issue.expected}`;
  }
  // An enum without a message of its own names its values as the others do: "Must be up, down or nearest".
  if (issue.code === "invalid_value" && issue.message.startsWith("Invalid option:")) {
    const values = issue.values.map(String);
    return `Must be ${values.length > 1 ? `${values.slice(0, -1).join(", ")} or ${values.at(-1)}` : values[0]}`;
  }
  return issue.message;
}

/** Turns zod issues into `details`: each field (dotted path) → its messages. */
export function fieldMessages(error: z.ZodError, target: string, input?: unknown) {
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
      add(path || target, messageOf(issue, input));
    }
  }
  return details;
}

const targetNames: Record<string, string> = { json: "body", param: "path", query: "query", header: "header" };

/** A request the validators refused, naming the part (`body`, `path`, `query`, `header`) and each field's messages. */
export const invalidRequest = (target: string, details: Record<string, string[]>) =>
  new ApiError("VALIDATION_ERROR", `Invalid request ${target}`, details);

// Shared by every route: a failed validation is one VALIDATION_ERROR envelope.
// biome-ignore lint/suspicious/noExplicitAny: the hook is generic over every route's env and schemas.
export const validationHook: Hook<any, any, any, any> = (result, c) => {
  if (!result.success) {
    const target = targetNames[result.target] ?? result.target;
    // `data` is the input as the validator took it (the body, the query), which a failed parse does not replace.
    const details = fieldMessages(result.error, target, (result as { data?: unknown }).data);
    // No query parameter takes a list: a repeated one gets told so, not that its array is not a number (an unknown
    // one stays unknown: given once, it would be refused all the same).
    if (result.target === "query") {
      for (const [name, values] of Object.entries(c.req.queries())) {
        if (values.length > 1 && name in details && !details[name]?.includes(UNKNOWN_FIELD)) {
          details[name] = ["Must be given once"];
        }
      }
    }
    throw invalidRequest(target, details);
  }
};
