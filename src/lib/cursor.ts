import { z } from "@hono/zod-openapi";
import { ApiError } from "./errors";
import { CURSOR_MAX_LENGTH, Timestamp } from "./schemas";

// A keyset cursor is the sort key of the last item of a page, as base64url JSON, tagged with the list that issued
// it: lists sorted on keys of the same shape (a name and an id, an instant and an id) would otherwise take each
// other's cursors and answer a page from a meaningless position. It also carries a digest of the filters of the
// request that issued it, so that a cursor sent with other filters is refused rather than answered with a page of
// the new filters from the old position (a page that may look like the end). It carries no authority: every page
// is still scoped to the caller's organization.

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

/**
 * A digest of a list request's filters: its path (a subscription's deliveries are not another's) and its query string
 * but `cursor` and `limit` (a page may be of another size), in name order. Written differently, a filter is the same
 * one: an empty value is no filter (`q=`), case never tells two values apart (ids, dates, zone names, `q`, which
 * ignores it), and an instant is the same in any offset or number of zeros (`updated_since`). FNV-1a: it tells
 * filters apart, it is no secret. `as written` is the digest cursors carried before instants were made canonical
 * (December 2026): a cursor issued by the previous version, in the hands of a client paging over a deploy, is still
 * taken. Cursors do not expire, so it stays until a release may refuse cursors older than it.
 */
function filtersOf(url: string, spelling: "canonical" | "as written" = "canonical"): string {
  const { pathname, searchParams } = new URL(url);
  const params = [...searchParams]
    .filter(([name, value]) => name !== "cursor" && name !== "limit" && value !== "")
    .map(
      ([name, value]) =>
        [name, name === "q" || spelling === "as written" ? value.toLowerCase() : canonicalValue(value)] as const,
    )
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1));
  let hash = 0x811c9dc5;
  for (const char of JSON.stringify([pathname, params]))
    hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/**
 * An instant in UTC with its fraction as written but for trailing zeros (Postgres keeps microseconds, a Date only
 * milliseconds); any other value in lower case.
 */
function canonicalValue(value: string): string {
  const instant = Timestamp.safeParse(value).success && /^(.{19})(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(value);
  if (!instant) return value.toLowerCase();
  const [, seconds, fraction = "", offset] = instant;
  const utc = new Date(`${seconds}${offset}`.toUpperCase()).toISOString().slice(0, 19);
  const digits = fraction.replace(/0+$/, "");
  return `${utc}${digits ? `.${digits}` : ""}z`.toLowerCase();
}

const FiltersTag = z.object({ f: z.string() }).strict();

/** A cursor for the row whose sort key is `key`, in the list the request at `url` asked for (with its filters). */
export function encodeCursor(list: CursorList, key: readonly unknown[], url?: string): string {
  const filters = url === undefined ? undefined : filtersOf(url);
  const bytes = new TextEncoder().encode(JSON.stringify([list, ...key, ...(filters ? [{ f: filters }] : [])]));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The sort key in `cursor`, issued by `list` for the filters of the request at `url`, or 400 INVALID_CURSOR. */
export function decodeCursor<T extends z.ZodType>(cursor: string, list: CursorList, key: T, url: string): z.infer<T> {
  const filters = [filtersOf(url), filtersOf(url, "as written")];
  let otherFilters = false;
  try {
    if (cursor.length > CURSOR_MAX_LENGTH) throw new Error("longer than any cursor issued");
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(
      Uint8Array.from(binary, (c) => c.charCodeAt(0)),
    );
    const parsed = z.tuple([z.literal(list)], z.unknown()).safeParse(JSON.parse(text));
    const items = parsed.success ? parsed.data.slice(1) : [];
    // Cursors issued before they carried their filters have none, and are taken as they were.
    const tag = FiltersTag.safeParse(items.at(-1));
    if (tag.success) items.pop();
    otherFilters = tag.success && !filters.includes(tag.data.f);
    const sortKey = parsed.success && !otherFilters ? key.safeParse(items) : undefined;
    if (sortKey?.success) return sortKey.data;
  } catch {
    // Falls through to the same answer as a well-formed but foreign cursor.
  }
  if (otherFilters) {
    throw new ApiError(
      "INVALID_CURSOR",
      "The cursor was issued for other filters; send the same filters as the page it came from, or start again without a cursor",
    );
  }
  throw new ApiError("INVALID_CURSOR", "The cursor is malformed or was not issued by this API");
}
