import { errorForLog } from "../../db/errors";
import { isManager } from "../../db/membership";
import { ApiError } from "../../lib/errors";
import type { AppRouteHandler } from "../../lib/types";
import { entryFilterOf, requireFilterAllowed } from "./entry-filter";
import { type ExportCursor, type ExportPage, exportPage } from "./export.queries";
import type { ExportRoute } from "./export.routes";
import { csvHeader, type ExportFormat } from "./export.schemas";

/**
 * Entries per SQL request at most. The one operation that may cost more than one round trip: one per
 * page, so pages are large; Postgres writes each page's CSV or NDJSON itself, and PAGES_AHEAD pages are
 * asked for at once while the Worker sends the one before them (see `pagedStream`).
 */
export const EXPORT_PAGE_SIZE = 2000;
/**
 * Text per page at most: a page ends early rather than pass it, on an upper bound of each entry's line
 * taken before the lines are written (export.queries.ts). 2,000 typical entries are 0.5 MB of CSV or
 * 1.5 MB of NDJSON (bounded at 2.5 MB), but a description may hold 3,000 characters; and an SQL-over-HTTP
 * answer may carry 10 MB, which 3 MB of text stays within even if JSON escaping doubled every character.
 */
export const EXPORT_PAGE_BYTES = 3_000_000;

const formats = {
  csv: { contentType: "text/csv; charset=utf-8", extension: "csv", head: csvHeader },
  json: { contentType: "application/x-ndjson", extension: "ndjson", head: "" },
} as const satisfies Record<ExportFormat, unknown>;

export const exportEntries: AppRouteHandler<ExportRoute> = async (c) => {
  const { format, ...query } = c.req.valid("query");
  const caller = c.get("caller");
  const db = c.get("db");
  let filter = entryFilterOf(caller, query);
  /** Whether the caller reads the whole organization (owner, admin), as the first page found. */
  let visibility: boolean | undefined;

  /** One page (one statement, membership included) of `range`. */
  const pageOf = async (range: PageRange) => {
    const page = await exportPage(db, caller, filter, format, {
      cursor: range.cursor,
      until: range.until,
      ahead: range.ahead ? PAGES_AHEAD - 1 : 0,
      limits: { entries: EXPORT_PAGE_SIZE, bytes: EXPORT_PAGE_BYTES },
    });
    // Checked on every page: a caller removed from the organization mid-export gets an error, not an end.
    requireFilterAllowed(page.role, caller, filter);
    // Which entries a page reads follows the caller's role when it is read: one whose role changes between owner or
    // admin and member would get a file of two visibilities (or a short one that looks complete).
    // With `user_id` the rows are that member's either way (a member may name only themselves).
    if (!filter.userId && visibility !== undefined && page.role && isManager(page.role) !== visibility) {
      throw new ApiError("FORBIDDEN", "Your role in the organization changed during the export: export again");
    }
    return page;
  };

  // The first page before the answer starts: a refused or invalid request is an ordinary JSON error.
  const first = await pageOf({ ahead: true });
  visibility = first.role ? isManager(first.role) : undefined;
  // The pages that follow read the dates' range between the instants the first resolved: estimated from the
  // statistics, it is read from the index in order, page by page (see `dateRangeBounds`).
  filter = { ...filter, resolvedRange: { start: first.range_start, end: first.range_end } };
  const { contentType, extension, head } = formats[format];
  const body = pagedStream(head, first, pageOf, {
    onError: (error) =>
      console.error(
        JSON.stringify({
          level: "error",
          request_id: c.get("requestId"),
          method: c.req.method,
          path: new URL(c.req.url).pathname,
          message: "export failed mid-stream; the response ends with an error",
          ...errorForLog(error),
        }),
      ),
  });
  const today = new Date().toISOString().slice(0, 10);
  return c.body(body, 200, {
    "Content-Type": contentType,
    "Content-Disposition": `attachment; filename="time-entries-${today}.${extension}"`,
    "Cache-Control": "no-store",
  });
};

/**
 * Pages asked for and not yet sent, at most: read at once while the one before them is written, so an export
 * waits for one round trip per PAGES_AHEAD pages. Four of the six connections a Worker's request may hold open
 * at once; six measured faster at a distance (bench/RESULTS.md) but would hold seven pages (up to 3 MB of text
 * each) in memory for a slow client instead of five.
 */
export const PAGES_AHEAD = 4;

/**
 * Pages asked for and not yet sent, at most, once a page comes back cut short by EXPORT_PAGE_BYTES: pages of the
 * longest text, whose SQL answers escape it again, cost the Worker 6–10 MB of heap each while held (32–48 MB for
 * five; bench/RESULTS.md, "The export's memory under a capped heap"), so fewer are held for the rest of the export.
 */
export const PAGES_AHEAD_OF_LARGE_PAGES = 2;

/**
 * Which entries a page holds: after `cursor`, up to `until` included. A page asked `ahead` also tells where
 * the PAGES_AHEAD - 1 pages after it end, so that they and the one after them can be asked for at once.
 */
type PageRange = { cursor?: ExportCursor; until?: ExportCursor; ahead?: true };

const cursorOf = (startTime: string | null, id: string | null): ExportCursor | undefined =>
  startTime && id ? { startTime, id } : undefined;

/** The pages that follow `page` (of `range`), as far as it tells. */
function following(range: PageRange, page: ExportPage): PageRange[] {
  const last = cursorOf(page.last_start_time, page.last_id);
  if (!page.more || !last) return [];
  // A page cut short by EXPORT_PAGE_BYTES: the rest of its range.
  if (range.until) return [{ cursor: last, until: range.until }];
  const ends = page.ahead ?? [];
  if (ends.length === 0) return [{ cursor: last, ahead: true }];
  // Each of the next pages of EXPORT_PAGE_SIZE entries ends at one of `ends`: all asked for at once, with
  // the page after the last of them, which finds the ends of those that follow it.
  const next = ends.map((until, i) => ({ cursor: ends[i - 1] ?? last, until }));
  return page.ahead_more ? [...next, { cursor: ends.at(-1), ahead: true }] : next;
}

/**
 * A byte stream of keyset pages, in order: `first` is already fetched. A page that asked `ahead` tells where
 * the PAGES_AHEAD - 1 pages after it end, so those and the one after them are read at once (each ending where
 * the next starts) while the client takes the ones before: the export waits for one round trip per
 * PAGES_AHEAD pages, not per page. At most PAGES_AHEAD pages are asked for and unsent whatever the export's
 * size (`highWaterMark: 0`; PAGES_AHEAD_OF_LARGE_PAGES once a page comes back cut short by EXPORT_PAGE_BYTES),
 * and a client that stops reading stops the queries after those. A page that fails ends the stream with an
 * error, never with a quiet end: the client sees a broken transfer, not a short file.
 */
function pagedStream(
  head: string,
  first: ExportPage,
  pageOf: (range: PageRange) => Promise<ExportPage>,
  { onError }: { onError: (error: unknown) => void },
): ReadableStream<Uint8Array> {
  type Slot = { range: PageRange; page?: Promise<ExportPage> };
  const encoder = new TextEncoder();
  const firstRange: PageRange = { ahead: true };
  // The pages to send, in order; those with `page` are asked for. A page's successors are placed right
  // after it when it is read (before any pull resumes with it: its reaction is registered first).
  const slots: Slot[] = [
    { range: firstRange, page: Promise.resolve(first) },
    ...following(firstRange, first).map((range) => ({ range })),
  ];
  let stopped = false;
  let ahead = PAGES_AHEAD;
  const heed = (page: ExportPage) => {
    if (page.more && page.entries < EXPORT_PAGE_SIZE) ahead = PAGES_AHEAD_OF_LARGE_PAGES;
  };
  heed(first);
  // Counted, not taken from the head of `slots`: the rest of a page cut short is placed before pages already asked.
  const ask = () => {
    let asked = slots.filter((slot) => slot.page).length;
    for (const slot of slots) {
      if (asked >= ahead || stopped) break;
      if (slot.page) continue;
      asked++;
      slot.page = pageOf(slot.range);
      slot.page.then(
        (page) => {
          heed(page);
          slots.splice(slots.indexOf(slot) + 1, 0, ...following(slot.range, page).map((range) => ({ range })));
          ask();
        },
        // Settled by a pull, which ends the stream with it; until then it must not count as unhandled.
        () => {},
      );
    }
  };
  let prefix = head;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const slot = slots[0] as Slot;
        ask();
        let page: ExportPage;
        try {
          page = await (slot.page as Promise<ExportPage>);
        } catch (error) {
          stopped = true;
          onError(error);
          throw error;
        }
        slots.shift();
        ask();
        const text = prefix + page.text;
        prefix = "";
        if (text) controller.enqueue(encoder.encode(text));
        if (slots.length === 0) controller.close();
      },
      cancel() {
        stopped = true;
      },
    },
    { highWaterMark: 0 },
  );
}
