import type { Context } from "hono";
import { type CursorList, encodeCursor } from "./cursor";
import { jsonResponse } from "./json-text";

/**
 * A page from up to `limit + 1` rows fetched in order: the extra row only says
 * that another page follows, and the cursor is the sort key of the page's last row.
 */
function toPage<T>(list: CursorList, rows: T[], limit: number, sortKey: (row: T) => readonly unknown[], url: string) {
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  const next = rows.length > limit && last ? encodeCursor(list, sortKey(last), url) : null;
  return { data, meta: { count: data.length, next_cursor: next } };
}

/** A list's answer, `{data, meta}`, from the rows `toPage` takes. */
export const pageAnswer = <T>(
  c: Context,
  list: CursorList,
  rows: T[],
  limit: number,
  sortKey: (row: T) => readonly unknown[],
) => jsonResponse(c, toPage(list, rows, limit, sortKey, c.req.url), 200);
