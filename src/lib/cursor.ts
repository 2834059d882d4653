import { z } from "@hono/zod-openapi";
import { ApiError } from "./errors";

// A keyset cursor is the sort key of the last item of a page, as base64url JSON, tagged with the list that issued
// it: lists sorted on keys of the same shape (a name and an id, an instant and an id) would otherwise take each
// other's cursors and answer a page from a meaningless position. It carries no authority: every page is still
// scoped to the caller's organization.

/** The lists that issue cursors; the sync feed's ordering (`changes`) is a list apart from the entries' own. */
export type CursorList =
  | "time-entries"
  | "changes"
  | "projects"
  | "customers"
  | "members"
  | "invoices"
  | "webhooks"
  | "deliveries";

export function encodeCursor(list: CursorList, key: readonly unknown[]): string {
  const bytes = new TextEncoder().encode(JSON.stringify([list, ...key]));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function decodeCursor<T extends z.ZodType>(cursor: string, list: CursorList, key: T): z.infer<T> {
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
    const parsed = z.tuple([z.literal(list)], z.unknown()).safeParse(JSON.parse(text));
    const sortKey = parsed.success ? key.safeParse(parsed.data.slice(1)) : undefined;
    if (sortKey?.success) return sortKey.data;
  } catch {
    // Falls through to the same answer as a well-formed but foreign cursor.
  }
  throw new ApiError("INVALID_CURSOR", "The cursor is malformed or was not issued by this API");
}
