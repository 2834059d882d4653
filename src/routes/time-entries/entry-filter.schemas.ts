import { z } from "@hono/zod-openapi";
import { CalendarDate, Id, QueryBoolean, Text, TimeZoneName } from "../../lib/schemas";
import { exampleIds } from "./example-ids";

const MAX_RANGE_DAYS = 366;
const daysBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 86_400_000;

/**
 * The query fields that select time entries, shared by every operation that reads a set of them
 * (the list, the summary): spread into a `z.object`, then check it with `checkEntryFilter`.
 */
export const entryFilterFields = {
  start_date: CalendarDate.optional().openapi({
    description: "Only entries whose start_time falls on or after this calendar date in `timezone`.",
    example: "2026-11-01",
  }),
  end_date: CalendarDate.optional().openapi({
    description: "Only entries whose start_time falls on or before this calendar date in `timezone` (inclusive).",
    example: "2026-11-30",
  }),
  timezone: TimeZoneName.optional().openapi({
    description:
      "IANA time zone in which `start_date` and `end_date` (and a summary's days, weeks and months) are calendar days; daylight saving time is taken into account (so `CET`, `EET`, `MET` and `WET`, which Postgres reads as fixed offsets, are 400, as are three-letter ids that are no IANA names, such as `IST` or `PST`: name a city). Default: the organization's `timezone` (`GET /v1/organizations/current`), itself `UTC` unless changed.",
    example: "Europe/Berlin",
  }),
  q: Text(200).optional().openapi({
    description: "Case-insensitive substring of the description; `%` and `_` match themselves.",
    example: "planning",
  }),
  project_id: Id.optional().openapi({ description: "Only entries of this project.", example: exampleIds.project }),
  customer_id: Id.optional().openapi({
    description: "Only entries of projects of this customer.",
    example: exampleIds.customer,
  }),
  billable: QueryBoolean.optional().openapi({
    description: "`true` for billable entries only, `false` for non-billable ones only.",
    example: "true",
  }),
  invoiced: QueryBoolean.optional().openapi({
    description: "`true` for entries attached to an invoice only, `false` for entries not invoiced yet only.",
    example: "false",
  }),
  invoice_id: Id.optional().openapi({
    description:
      "Only entries attached to this invoice: its lines (an invoice of another organization, or none, selects nothing).",
    example: exampleIds.invoice,
  }),
  user_id: z
    .string()
    .max(36, { message: 'Must be "me" or a user id (UUID)' })
    .refine((value) => value === "me" || Id.safeParse(value).success, { message: 'Must be "me" or a user id (UUID)' })
    .optional()
    .openapi({
      description:
        "`me` for the caller's own entries, a user id for that user's, or omit for every entry the caller may see (owner and admin: the whole organization; member: their own). A member asking for someone else gets 403.",
      pattern: "^(me|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$",
      example: "me",
    }),
};

type DateRange = { start_date?: string | undefined; end_date?: string | undefined };

/** The checks across fields of `entryFilterFields`: an ordered range of at most 366 days. */
export const checkEntryFilter = <T extends DateRange>(query: T, ctx: z.RefinementCtx) => {
  if (!query.start_date || !query.end_date) return;
  if (query.start_date > query.end_date) {
    ctx.addIssue({ code: "custom", message: "Must not be before start_date", path: ["end_date"] });
  } else if (daysBetween(query.start_date, query.end_date) >= MAX_RANGE_DAYS) {
    // A bounded range keeps every query cheap; page through years in steps.
    ctx.addIssue({
      code: "custom",
      message: `The range from start_date to end_date must cover at most ${MAX_RANGE_DAYS} days, both included`,
      path: ["end_date"],
    });
  }
};

export type EntryFilterQuery = z.infer<z.ZodObject<typeof entryFilterFields>>;
