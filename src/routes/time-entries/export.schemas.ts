import { z } from "@hono/zod-openapi";
import { csvRecord, neutralizeFormula } from "../../lib/csv";
import { checkEntryFilter, entryFilterFields } from "./entry-filter.schemas";
import type { TimeEntry } from "./time-entries.schemas";

/** The list's filters (every one of them, whatever the list takes), without its paging, plus the format. */
export const ExportTimeEntriesQuery = z
  .object({
    format: z.enum(["csv", "json"], { message: "Must be csv or json" }).openapi({
      description:
        "`csv`: `text/csv`, a header row then one row per entry (RFC 4180). `json`: `application/x-ndjson`, one entry per line in the list's shape.",
      example: "csv",
    }),
    ...entryFilterFields,
  })
  .strict()
  .superRefine(checkEntryFilter);

export type ExportFormat = z.infer<typeof ExportTimeEntriesQuery>["format"];

type Column = {
  name: string;
  value: (entry: TimeEntry) => string | null | undefined;
  /** Text that people type (descriptions, names): neutralised against formula injection. */
  typed?: true;
};

const text = (value: (entry: TimeEntry) => string | null | undefined): Pick<Column, "value" | "typed"> => ({
  value,
  typed: true,
});

/**
 * The CSV columns, in order. Empty cells are nulls (a running entry's end_time and duration, an entry
 * without project, customer or invoice). Only the `typed` columns can start with `=`, `+`, `-` or `@`
 * from someone's input; every other column is written by the API itself (UUIDs, UTC timestamps, whole
 * seconds, true/false, a rate of at least 0, an ISO 4217 code) and is left exactly as it is.
 */
export const csvColumns: readonly Column[] = [
  { name: "id", value: (e) => e.id },
  { name: "start_time", value: (e) => e.start_time },
  { name: "end_time", value: (e) => e.end_time },
  { name: "duration", value: (e) => e.duration?.toString() },
  { name: "description", ...text((e) => e.description) },
  { name: "billable", value: (e) => String(e.billable) },
  { name: "user_id", value: (e) => e.user_id },
  { name: "user_email", ...text((e) => e.user.email) },
  { name: "user_full_name", ...text((e) => e.user.full_name) },
  { name: "project_id", value: (e) => e.project_id },
  { name: "project_name", ...text((e) => e.project?.name) },
  { name: "customer_id", value: (e) => e.project?.customer_id },
  { name: "customer_name", ...text((e) => e.project?.customer?.name) },
  // numeric(12,2) read as a JSON number: toFixed(2) writes back the stored decimal exactly.
  { name: "hourly_rate", value: (e) => e.project?.hourly_rate?.toFixed(2) },
  { name: "currency", value: (e) => e.project?.currency },
  { name: "invoice_id", value: (e) => e.invoice_id },
  { name: "invoice_number", ...text((e) => e.invoice?.number) },
];

export const csvHeader = csvRecord(csvColumns.map((column) => column.name));

export function csvRow(entry: TimeEntry): string {
  return csvRecord(
    csvColumns.map(({ value, typed }) => {
      const cell = value(entry) ?? "";
      return typed ? neutralizeFormula(cell) : cell;
    }),
  );
}

export const ndjsonLine = (entry: TimeEntry) => `${JSON.stringify(entry)}\n`;

const exampleEntry: TimeEntry = {
  id: "4a3d7f3e-2a51-4f5e-9a8b-5b7e2c1d0f42",
  organization_id: "0b9c1a52-7c1e-4a8e-9d0b-3f2f6f1c1a01",
  user_id: "5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
  project_id: "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4",
  start_time: "2026-11-28T09:00:00.000Z",
  end_time: "2026-11-28T10:30:00.000Z",
  duration: 5400,
  description: "Sprint planning, backlog",
  billable: true,
  invoice_id: null,
  created_at: "2026-11-28T10:31:02.120Z",
  updated_at: "2026-11-28T10:31:02.120Z",
  version: 1,
  user: {
    id: "5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
    full_name: "Ada Lovelace",
    email: "ada@example.com",
    avatar_url: null,
  },
  project: {
    id: "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4",
    name: "Website relaunch",
    customer_id: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    hourly_rate: 120,
    currency: "EUR",
    customer: { id: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f", name: "Acme GmbH" },
  },
  invoice: null,
};
const exampleTimer: TimeEntry = {
  ...exampleEntry,
  id: "7d0f6f0e-1c55-4c8e-9a53-6c6f2a0c9b11",
  project_id: null,
  start_time: "2026-11-28T11:00:00.000Z",
  end_time: null,
  duration: null,
  description: '=HYPERLINK("http://evil.example")',
  billable: false,
  project: null,
};

/** What an export of a running timer and a stopped entry looks like, newest first. */
export const csvExample = csvHeader + csvRow(exampleTimer) + csvRow(exampleEntry);
export const ndjsonExample = ndjsonLine(exampleTimer) + ndjsonLine(exampleEntry);
