import type { AppRouteHandler } from "../../lib/types";
import { entryFilterOf, requireFilterAllowed } from "./entry-filter";
import type { ExportRoute } from "./export.routes";
import { csvHeader, csvRow, type ExportFormat, ndjsonLine } from "./export.schemas";
import { listTimeEntries } from "./time-entries.queries";
import type { TimeEntry } from "./time-entries.schemas";

/**
 * Entries per SQL request. The one operation that may cost more than one round trip: one per page.
 * At most 3,000 characters of description per entry, a page's JSON stays well under the few MB a
 * SQL-over-HTTP answer should carry, and a worker holds one page at a time.
 */
export const EXPORT_PAGE_SIZE = 500;

const formats = {
  csv: { contentType: "text/csv; charset=utf-8", extension: "csv", head: csvHeader, row: csvRow },
  json: { contentType: "application/x-ndjson", extension: "ndjson", head: "", row: ndjsonLine },
} as const satisfies Record<ExportFormat, unknown>;

export const exportEntries: AppRouteHandler<ExportRoute> = async (c) => {
  const { format, ...query } = c.req.valid("query");
  const caller = c.get("caller");
  const db = c.get("db");
  const filter = entryFilterOf(caller, query);

  /** One keyset page (one statement, membership included): up to EXPORT_PAGE_SIZE + 1 entries after `last`. */
  const pageAfter = async (last?: TimeEntry) => {
    const page = await listTimeEntries(db, caller, filter, {
      cursor: last && { startTime: last.start_time, id: last.id },
      limit: EXPORT_PAGE_SIZE,
    });
    // Checked on every page: a caller removed from the organization mid-export gets an error, not an end.
    requireFilterAllowed(page.role, caller, filter);
    return page.entries;
  };

  // The first page before the answer starts: a refused or invalid request is an ordinary JSON error.
  const first = await pageAfter();
  const { contentType, extension, head, row } = formats[format];
  const body = pagedStream(first, pageAfter, (entries, isFirst) => (isFirst ? head : "") + entries.map(row).join(""), {
    onError: (error) =>
      console.error(
        JSON.stringify({
          level: "error",
          request_id: c.get("requestId"),
          method: c.req.method,
          path: new URL(c.req.url).pathname,
          message: "export failed mid-stream; the response ends with an error",
          error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
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
 * A byte stream of keyset pages: `first` is already fetched; each further page is fetched only when
 * the reader asks for more (`highWaterMark: 0`: nothing is read ahead), so the worker holds one page
 * whatever the size of the export and a client that stops reading stops the queries. Pages hold up to
 * EXPORT_PAGE_SIZE + 1 entries; the extra one says that another page follows. A page that fails ends
 * the stream with an error, never with a quiet end: the client sees a broken transfer, not a short file.
 */
function pagedStream(
  first: TimeEntry[],
  pageAfter: (last: TimeEntry) => Promise<TimeEntry[]>,
  encode: (entries: TimeEntry[], isFirst: boolean) => string,
  { onError }: { onError: (error: unknown) => void },
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let fetched: TimeEntry[] | undefined = first;
  let last: TimeEntry | undefined;
  let isFirst = true;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          fetched ??= await pageAfter(last as TimeEntry);
        } catch (error) {
          onError(error);
          throw error;
        }
        const entries = fetched.slice(0, EXPORT_PAGE_SIZE);
        const more = fetched.length > EXPORT_PAGE_SIZE;
        const text = encode(entries, isFirst);
        isFirst = false;
        fetched = undefined;
        last = entries.at(-1);
        if (text) controller.enqueue(encoder.encode(text));
        if (!more) controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}
