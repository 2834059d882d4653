import type { AppRouteHandler } from "../../lib/types";
import { entryFilterOf, requireFilterAllowed } from "./entry-filter";
import { type ExportPage, exportPage } from "./export.queries";
import type { ExportRoute } from "./export.routes";
import { csvHeader, type ExportFormat } from "./export.schemas";

/**
 * Entries per SQL request at most. The one operation that may cost more than one round trip: one per
 * page, so pages are large; Postgres writes each page's CSV or NDJSON itself, and the Worker holds at
 * most two pages (the one it sends and the one it reads ahead).
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
  const filter = entryFilterOf(caller, query);

  /** One keyset page (one statement, membership included) after the last entry of `previous`. */
  const pageAfter = async (previous?: ExportPage) => {
    const page = await exportPage(db, caller, filter, format, {
      cursor:
        previous?.last_start_time && previous.last_id
          ? { startTime: previous.last_start_time, id: previous.last_id }
          : undefined,
      limits: { entries: EXPORT_PAGE_SIZE, bytes: EXPORT_PAGE_BYTES },
    });
    // Checked on every page: a caller removed from the organization mid-export gets an error, not an end.
    requireFilterAllowed(page.role, caller, filter);
    return page;
  };

  // The first page before the answer starts: a refused or invalid request is an ordinary JSON error.
  const first = await pageAfter();
  const { contentType, extension, head } = formats[format];
  const body = pagedStream(head, first, pageAfter, {
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
 * A byte stream of keyset pages: `first` is already fetched. When the reader takes a page, the next one is
 * requested at once, so that Postgres writes it while this one travels to the client (one page read ahead,
 * never more: `highWaterMark: 0`), so the worker holds at most two pages whatever the export's size, and a
 * client that stops reading stops the queries after that one. A page that fails ends the stream with an
 * error, never with a quiet end: the client sees a broken transfer, not a short file.
 */
function pagedStream(
  head: string,
  first: ExportPage,
  pageAfter: (previous: ExportPage) => Promise<ExportPage>,
  { onError }: { onError: (error: unknown) => void },
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let next: Promise<ExportPage> | undefined = Promise.resolve(first);
  let prefix = head;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let page: ExportPage;
        try {
          page = await (next as Promise<ExportPage>);
        } catch (error) {
          onError(error);
          throw error;
        }
        next = page.more ? pageAfter(page) : undefined;
        // Settled later by the next pull; until then its failure must not count as unhandled.
        next?.catch(() => {});
        const text = prefix + page.text;
        prefix = "";
        if (text) controller.enqueue(encoder.encode(text));
        if (!page.more) controller.close();
      },
    },
    { highWaterMark: 0 },
  );
}
