import { z } from "@hono/zod-openapi";
import { CalendarDate, CurrencyAmount, WeekStart } from "../../lib/schemas";
import { checkEntryFilter, entryFilterFields } from "./entry-filter.schemas";
import { exampleIds } from "./example-ids";

export const DIMENSIONS = ["project", "customer", "user", "day", "week", "month"] as const;
export type Dimension = (typeof DIMENSIONS)[number];

const dimension = `(${DIMENSIONS.join("|")})`;
const groupByMessage = { message: `Must be one or two of ${DIMENSIONS.join(", ")}, comma separated, e.g. project,day` };

const GroupBy = z
  .string()
  .max(20, groupByMessage)
  .regex(new RegExp(`^${dimension}(,${dimension})?$`), groupByMessage)
  .refine((value) => new Set(value.split(",")).size === value.split(",").length, {
    message: "Must not name the same dimension twice",
  })
  .transform((value) => value.split(",") as [Dimension] | [Dimension, Dimension])
  .openapi({
    description:
      "One or two dimensions, comma separated: `project`, `customer`, `user`, `day`, `week` (seven days from `week_start`: ISO weeks from Monday unless changed) or `month`; days, weeks and months are calendar periods in `timezone`, and an entry counts in the period its `start_time` falls in (one over midnight on its start day). With two, each group holds its subgroups by the second. Omit for the totals alone.",
    example: "project,day",
  });

const roundingMinutesMessage = { message: "Must be a whole number of minutes from 1 to 60" };

const RoundingMinutes = z
  .preprocess(
    (value) => (typeof value === "string" && /^[0-9]{1,2}$/.test(value) ? Number(value) : value),
    z
      .number(roundingMinutesMessage)
      .int(roundingMinutesMessage)
      .min(1, roundingMinutesMessage)
      .max(60, roundingMinutesMessage),
  )
  .openapi({
    type: "integer",
    minimum: 1,
    maximum: 60,
    description: "The rounding step in minutes, 1–60; required with `rounding`, and only with it.",
    example: 15,
  });

export const SummaryQuery = z
  .object({
    ...entryFilterFields,
    start_date: CalendarDate.openapi({
      description:
        "First calendar day (in `timezone`) of the summary: entries whose start_time falls on or after it. Required: a summary covers at most 366 days.",
      example: "2026-11-01",
    }),
    end_date: CalendarDate.openapi({
      description: "Last calendar day (in `timezone`, inclusive) of the summary. Required.",
      example: "2026-11-30",
    }),
    group_by: GroupBy.optional(),
    rounding: z.enum(["up", "down", "nearest"]).optional().openapi({
      description:
        "Rounds each entry's duration to a multiple of `rounding_minutes` (up, down, or to the nearest, halves up) before anything is summed; stored times do not change.",
      example: "up",
    }),
    rounding_minutes: RoundingMinutes.optional(),
    week_start: WeekStart.optional().openapi({
      description:
        "The day the `week` groups start on, `monday` to `sunday`; only with a `group_by` that names `week` (elsewhere it would change nothing, so it is refused rather than ignored). Default: the organization's `week_start` (`GET /v1/organizations/current`), itself `monday` (ISO 8601) unless changed.",
      example: "sunday",
    }),
  })
  .strict()
  .superRefine(checkEntryFilter)
  .superRefine((query, ctx) => {
    if (query.rounding && query.rounding_minutes === undefined) {
      ctx.addIssue({ code: "custom", message: "Required with rounding", path: ["rounding_minutes"] });
    }
    if (!query.rounding && query.rounding_minutes !== undefined) {
      ctx.addIssue({ code: "custom", message: "Only allowed with rounding", path: ["rounding_minutes"] });
    }
    if (query.week_start !== undefined && !query.group_by?.includes("week")) {
      ctx.addIssue({ code: "custom", message: "Only allowed with a group_by that names week", path: ["week_start"] });
    }
  });

export type SummaryQuery = z.infer<typeof SummaryQuery>;

const totals = {
  entry_count: z.number().int().openapi({ description: "Entries in the group.", example: 12 }),
  total_seconds: z.number().int().openapi({
    description:
      "Their duration in seconds (each rounded first when `rounding` is given; a running entry counts up to now).",
    example: 27000,
  }),
  billable_seconds: z.number().int().openapi({ description: "The duration of the billable ones.", example: 21600 }),
  amounts: z.array(CurrencyAmount).openapi({
    description:
      "Billable amount per currency, ordered by currency; empty when nothing is rated. Each level is rounded from its own exact sum (half away from zero), so groups' amounts can differ from their parent's by up to half a minor unit per group.",
  }),
};

const groupFields = {
  key: z.string().nullable().openapi({
    description:
      "The project, customer or user id; for `day` the date (`2026-11-02`), for `week` the date of its first day (its Monday unless `week_start` says otherwise), for `month` `2026-11`. Null for the entries without a project (or customer).",
    example: exampleIds.project,
  }),
  label: z.string().openapi({
    description:
      "The project or customer name, the user's full name (else email), the date, the week (the ISO week `2026-W45` when weeks start on Monday, else its first and last day as an ISO 8601 interval, `2026-11-01/2026-11-07`) or the month; `No project` / `No customer` for key null.",
    example: "Website relaunch",
  }),
};

const SummarySubgroup = z.object({ ...groupFields, ...totals }).openapi("TimeEntrySummarySubgroup");

const SummaryGroup = z
  .object({
    ...groupFields,
    ...totals,
    groups: z.array(SummarySubgroup).optional().openapi({
      description: "With two `group_by` dimensions: this group's entries by the second one.",
    }),
  })
  .openapi("TimeEntrySummaryGroup");

export const SummaryTotals = z.object(totals).openapi("TimeEntrySummaryTotals");

export const Summary = z
  .object({
    groups: z.array(SummaryGroup).openapi({
      description:
        "By the first `group_by` dimension, ordered by label (names A to Z whatever the case, as the lists; periods chronologically), then key, key null last; empty without `group_by`.",
    }),
    totals: SummaryTotals,
  })
  .openapi("TimeEntrySummary");

export type Summary = z.infer<typeof Summary>;

export const SummaryEnvelope = z.object({ data: Summary }).openapi("TimeEntrySummaryResponse", {
  example: {
    data: {
      groups: [
        {
          key: exampleIds.project,
          label: "Website relaunch",
          entry_count: 3,
          total_seconds: 14400,
          billable_seconds: 14400,
          amounts: [{ currency: "EUR", amount: "480.00" }],
          groups: [
            {
              key: "2026-11-02",
              label: "2026-11-02",
              entry_count: 2,
              total_seconds: 9000,
              billable_seconds: 9000,
              amounts: [{ currency: "EUR", amount: "300.00" }],
            },
            {
              key: "2026-11-03",
              label: "2026-11-03",
              entry_count: 1,
              total_seconds: 5400,
              billable_seconds: 5400,
              amounts: [{ currency: "EUR", amount: "180.00" }],
            },
          ],
        },
        {
          key: null,
          label: "No project",
          entry_count: 1,
          total_seconds: 1800,
          billable_seconds: 0,
          amounts: [],
          groups: [
            {
              key: "2026-11-02",
              label: "2026-11-02",
              entry_count: 1,
              total_seconds: 1800,
              billable_seconds: 0,
              amounts: [],
            },
          ],
        },
      ],
      totals: {
        entry_count: 4,
        total_seconds: 16200,
        billable_seconds: 14400,
        amounts: [{ currency: "EUR", amount: "480.00" }],
      },
    },
  },
});
