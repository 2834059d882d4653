import type { Context } from "hono";
import { entityTag } from "./conditional";
import type { AppEnv } from "./types";

/**
 * The answer carrying one resource, as every resource gives it: `{data}` with the resource's `ETag`, and its
 * `Location` when it was just created.
 */
export function resourceAnswer<T extends { version: number }, S extends 200 | 201>(
  c: Context<AppEnv>,
  resource: T,
  status: S,
  location?: string,
) {
  if (location) c.header("Location", location);
  c.header("ETag", entityTag(resource.version));
  return c.json({ data: resource }, status);
}
