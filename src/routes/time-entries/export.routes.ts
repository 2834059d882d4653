import { createRoute, z } from "@hono/zod-openapi";
import { errorResponses } from "../../lib/error-responses";
import { authErrors, scoped } from "../../lib/openapi-helpers";
import { EXPORT_PAGE_BYTES, EXPORT_PAGE_SIZE, PAGES_AHEAD } from "./export.handlers";
import { csvColumns, csvExample, ExportTimeEntriesQuery, ndjsonExample } from "./export.schemas";

const columns = csvColumns.map((column) => `\`${column.name}\``).join(", ");
const typedColumns = csvColumns
  .filter((column) => column.typed)
  .map((column) => `\`${column.name}\``)
  .join(", ");

export const exportEntries = createRoute({
  operationId: "exportTimeEntries",
  method: "get",
  path: "/v1/time-entries/export",
  tags: ["Time entries"],
  summary: "Export time entries as CSV or NDJSON",
  description: [
    "Every entry the list's filters select (all of them, not a page), newest start_time first (ties by id), with the list's visibility: owner and admin see the whole organization, a member only their own (a member asking for another `user_id` gets 403). Needs scope `entries:read` for OAuth tokens.",
    "",
    `**Streamed.** The answer is sent as it is read from the database, in pages of ${EXPORT_PAGE_SIZE.toLocaleString("en")} entries (fewer when they would pass ${EXPORT_PAGE_BYTES / 1_000_000} MB of text) per SQL request, each written as CSV or NDJSON by the database itself; a page also tells where the ${PAGES_AHEAD - 1} pages after it end, so ${PAGES_AHEAD} pages are requested at once while the client reads the one before them (the export waits for one database round trip per ${PAGES_AHEAD} pages, not per page), and never more than ${PAGES_AHEAD} ahead: an export of any size costs the server ${PAGES_AHEAD + 1} pages of memory at most, and a client that stops reading stops the queries. This is the one operation that costs more than one database round trip: one per page (an empty export costs one). The first page is read before the answer starts, so authentication, membership and validation errors are ordinary JSON errors. Pages are separate statements, not one snapshot: an entry created, changed or deleted during a long export may be missing or, if its start_time moved, appear twice. The date range is resolved once, by the first page: the instants \`start_date\` and \`end_date\` fall at in the time zone stay those of the whole export, even if the organization's time zone changes meanwhile.`,
    "",
    "**Failing mid-stream.** If the database fails after the answer has started, the 200 cannot become an error and HTTP/1.1 has no trailer a client would read, so the transfer is aborted: the chunked body never gets its final chunk (HTTP/2: the stream is reset). Clients report this: curl exits with 18 (`transfer closed with outstanding read data remaining`) or, over HTTP/2, 92; `fetch` rejects while reading the body. The same happens to a caller removed from the organization during the export, or whose role changes between owner or admin and member during it. Treat such an export as failed and start it again, never as a short file.",
    "",
    `**CSV** (\`format=csv\`, \`text/csv; charset=utf-8\`, UTF-8 without byte order mark): RFC 4180, a header row, CRLF line ends; a field containing a comma, double quote, CR or LF (and also a semicolon or tab, for spreadsheets set to those separators) is enclosed in double quotes with its double quotes doubled. Columns: ${columns}. Empty cells are nulls: a running entry's \`end_time\` and \`duration\`, an entry without project, customer or invoice. \`duration\` is whole seconds, \`billable\` is \`true\` or \`false\`, \`hourly_rate\` is the project's rate with 2 decimals. Against spreadsheet formula injection (OWASP CSV Injection), text that people type (${typedColumns}) starting with \`=\`, \`+\`, \`-\`, \`@\`, tab or carriage return gets a leading single quote (\`=1+1\` is written \`'=1+1\`); the other columns are written by the API (UUIDs, timestamps, numbers) and never changed.`,
    "",
    "**NDJSON** (`format=json`, `application/x-ndjson`): one entry per line, each exactly as `GET /v1/time-entries` gives it (`TimeEntry`), every line ended by LF; no entries, no lines.",
  ].join("\n"),
  ...scoped("entries:read"),
  request: { query: ExportTimeEntriesQuery },
  responses: {
    200: {
      description: "The entries, streamed. `Content-Disposition` names the file after today's UTC date.",
      headers: z.object({
        "Content-Disposition": z.string().openapi({
          description: "`attachment`, with the file name `time-entries-YYYY-MM-DD.csv` or `.ndjson` (UTC date).",
          example: 'attachment; filename="time-entries-2026-11-28.csv"',
        }),
        "Cache-Control": z.string().openapi({ description: "Never cached.", example: "no-store" }),
      }),
      content: {
        "text/csv": {
          schema: z.string().openapi({ description: `RFC 4180 CSV with a header row: ${columns}.` }),
          example: csvExample,
        },
        "application/x-ndjson": {
          schema: z.string().openapi({
            description:
              "Newline-delimited JSON: one `TimeEntry` (see `#/components/schemas/TimeEntry`) per line, each ended by LF.",
          }),
          example: ndjsonExample,
          // What each line is, for tools that read JSON Schema (OpenAPI 3.2 calls this `itemSchema`).
          "x-item-schema": { $ref: "#/components/schemas/TimeEntry" },
        },
      },
    },
    ...errorResponses("VALIDATION_ERROR", ...authErrors),
  },
});

export type ExportRoute = typeof exportEntries;
