import { z } from "@hono/zod-openapi";
import { Version } from "../../lib/conditional";
import {
  atLeastOneField,
  CalendarDate,
  Cursor,
  Id,
  Limit,
  PageMeta,
  QueryBoolean,
  Text,
  Timestamp,
  TimeZoneName,
  UtcTimestamp,
} from "../../lib/schemas";

export const exampleIds = {
  entry: "4a3d7f3e-2a51-4f5e-9a8b-5b7e2c1d0f42",
  organization: "0b9c1a52-7c1e-4a8e-9d0b-3f2f6f1c1a01",
  user: "5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9",
  project: "9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4",
  customer: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
  invoice: "7b6a5948-3726-4150-8f9e-0d1c2b3a4958",
};

const EntryUser = z
  .object({
    id: Id.openapi({ example: exampleIds.user }),
    full_name: z.string().nullable().openapi({ example: "Ada Lovelace" }),
    email: z.string().openapi({ example: "ada@example.com" }),
    avatar_url: z.string().nullable().openapi({ example: null }),
  })
  .openapi("TimeEntryUser", { description: "The entry's user as the organization knows them (their membership)." });

const EntryProject = z
  .object({
    id: Id.openapi({ example: exampleIds.project }),
    name: z.string().openapi({ example: "Website relaunch" }),
    customer_id: Id.nullable().openapi({ example: exampleIds.customer }),
    hourly_rate: z.number().nullable().openapi({ description: "Rate per hour in `currency`.", example: 120 }),
    currency: z.string().nullable().openapi({ description: "ISO 4217 code.", example: "EUR" }),
    customer: z
      .object({
        id: Id.openapi({ example: exampleIds.customer }),
        name: z.string().openapi({ example: "Acme GmbH" }),
      })
      .nullable(),
  })
  .openapi("TimeEntryProject");

const EntryInvoice = z
  .object({
    id: Id.openapi({ example: exampleIds.invoice }),
    number: z.string().openapi({ example: "INV-2026-0042" }),
    status: z.enum(["draft", "sent", "paid", "overdue", "void"]).openapi({ example: "draft" }),
    date: z.string().openapi({ example: "2026-11-30" }),
    due_date: z.string().nullable().openapi({ example: "2026-12-30" }),
  })
  .openapi("TimeEntryInvoice");

export const TimeEntry = z
  .object({
    id: Id.openapi({ example: exampleIds.entry }),
    organization_id: Id.openapi({ example: exampleIds.organization }),
    user_id: Id.openapi({ example: exampleIds.user }),
    project_id: Id.nullable().openapi({ example: exampleIds.project }),
    start_time: UtcTimestamp.openapi({ example: "2026-11-28T09:00:00.000Z" }),
    end_time: UtcTimestamp.nullable().openapi({
      description: "Null while the timer is running.",
      example: "2026-11-28T10:30:00.000Z",
    }),
    duration: z.number().int().nullable().openapi({
      description:
        "Whole seconds from start to end, a fraction of a second dropped (10:00:00.000 to 10:15:00.999 is 900); summaries round this. Null while running.",
      example: 5400,
    }),
    description: z.string().openapi({ example: "Sprint planning" }),
    billable: z.boolean().openapi({ example: true }),
    invoice_id: Id.nullable().openapi({
      description: "Set when the entry is invoiced; an invoiced entry is locked.",
      example: null,
    }),
    created_at: UtcTimestamp,
    updated_at: UtcTimestamp,
    version: Version,
    user: EntryUser,
    project: EntryProject.nullable(),
    invoice: EntryInvoice.nullable(),
  })
  .openapi("TimeEntry");

export type TimeEntry = z.infer<typeof TimeEntry>;

export const TimeEntryEnvelope = z.object({ data: TimeEntry }).openapi("TimeEntryResponse");

export const Tombstone = z
  .object({
    id: Id.openapi({ example: exampleIds.entry }),
    deleted_at: UtcTimestamp.openapi({
      description: "When the entry was deleted.",
      example: "2026-11-28T12:00:00.000Z",
    }),
  })
  .openapi("TimeEntryTombstone", {
    description:
      "A deleted entry, only in a sync listing (`updated_since` with `include_deleted=true`); kept 30 days after deletion.",
  });

export type Tombstone = z.infer<typeof Tombstone>;

export const TimeEntryPage = z
  .object({
    data: z.array(z.union([TimeEntry, Tombstone])).openapi({
      description:
        "Time entries; in a sync listing with `include_deleted=true`, deleted entries appear among them as tombstones `{id, deleted_at}`.",
    }),
    meta: PageMeta,
  })
  .openapi("TimeEntryList");

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
  user_id: z
    .string()
    .max(36, { message: 'Must be "me" or a user id (UUID)' })
    .refine((value) => value === "me" || Id.safeParse(value).success, { message: 'Must be "me" or a user id (UUID)' })
    .optional()
    .openapi({
      description:
        "`me` for the caller's own entries, a user id for that user's, or omit for every entry the caller may see (owner and admin: the whole organization; member: their own). A member asking for someone else gets 403.",
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

export const ListTimeEntriesQuery = z
  .object({
    cursor: Cursor.optional(),
    limit: Limit,
    ...entryFilterFields,
    updated_since: Timestamp.optional().openapi({
      description:
        "Sync: only entries changed (created, updated or deleted) after this instant, oldest change first by (`updated_at`, `id`) instead of newest start_time first. Page with `cursor` as usual; when `next_cursor` is null, keep the greatest `updated_at` (or a tombstone's `deleted_at`) seen as the next `updated_since`: nothing can come in behind it, since the feed holds back what committed after the start of a write still running.",
      example: "2026-11-28T12:00:00Z",
    }),
    include_deleted: QueryBoolean.optional().openapi({
      description:
        "With `updated_since` only: include entries deleted since then as tombstones `{id, deleted_at}` (kept 30 days). Other filters but `user_id` do not apply to tombstones.",
      example: "true",
    }),
  })
  .strict()
  .superRefine(checkEntryFilter)
  .refine((q) => q.include_deleted === undefined || q.updated_since !== undefined, {
    message: "Only with updated_since",
    path: ["include_deleted"],
  });

export const description = Text(3000).openapi({
  description: "What was done; may be empty, at most 3000 characters.",
  example: "Sprint planning",
});
export const projectId = Id.nullable().openapi({
  description: "A project of the caller's organization, or null for none.",
  example: exampleIds.project,
});
export const billable = z.boolean().openapi({ example: true });
const userId = Id.openapi({
  description:
    "On behalf of another member: owner and admin may record or move time for any member of the organization (a user who is not a member is 400); a member may only give their own id (403 `FORBIDDEN` otherwise). Defaults to the caller on create.",
  example: exampleIds.user,
});
const endTime = Timestamp.nullable().openapi({
  description: "Null or omitted starts a running timer. Must be after start_time.",
  example: "2026-11-28T10:30:00Z",
});

const endsAfterStart = (body: { start_time?: string; end_time?: string | null }) =>
  !body.start_time || !body.end_time || Date.parse(body.end_time) > Date.parse(body.start_time);
const endsAfterStartError = { message: "Must be after start_time", path: ["end_time"] };

export const CreateTimeEntryBody = z
  .object({
    user_id: userId.optional(),
    project_id: projectId.optional(),
    start_time: Timestamp,
    end_time: endTime.optional(),
    description,
    billable: billable.optional().openapi({
      description: "Defaults to true when the project has an hourly rate, else false.",
    }),
    stop_running: z.boolean().optional().openapi({
      description:
        "With a running timer (no `end_time`): stop the running timer of this entry's user (the caller, or the member given as `user_id`) at this entry's start_time, in the same statement, instead of answering 409 `TIMER_ALREADY_RUNNING`. Still 409 if that timer started at or after this start_time. Ignored for an entry with an `end_time`.",
      example: true,
    }),
  })
  .strict()
  .refine(endsAfterStart, endsAfterStartError)
  .openapi("CreateTimeEntry", {
    example: {
      project_id: exampleIds.project,
      start_time: "2026-11-28T09:00:00+01:00",
      end_time: "2026-11-28T10:30:00+01:00",
      description: "Sprint planning",
    },
  });

export const UpdateTimeEntryBody = z
  .object({
    user_id: userId.optional(),
    project_id: projectId.optional(),
    start_time: Timestamp.optional(),
    end_time: endTime.optional().openapi({
      description: "Set to stop a running entry; set to null to make it run again (one running timer per user).",
    }),
    description: description.optional(),
    billable: billable.optional(),
  })
  .strict()
  .refine(atLeastOneField, { message: "Provide at least one field to change" })
  .refine(endsAfterStart, endsAfterStartError)
  .openapi("UpdateTimeEntry", { minProperties: 1, example: { end_time: "2026-11-28T11:00:00Z" } });

export type CreateTimeEntryBody = z.infer<typeof CreateTimeEntryBody>;
export type UpdateTimeEntryBody = z.infer<typeof UpdateTimeEntryBody>;

/** The caller's running entry, or null when no timer runs. */
export const CurrentTimeEntryEnvelope = z
  .object({
    data: z.union([TimeEntry, z.null()]).openapi({ description: "The running entry; null when no timer runs." }),
  })
  .openapi("CurrentTimeEntryResponse");

export const StopTimeEntryBody = z
  .object({
    end_time: Timestamp.optional().openapi({
      description: "When the timer stopped; defaults to now. Must be after the entry's start_time.",
      example: "2026-11-28T10:30:00Z",
    }),
  })
  .strict()
  .openapi("StopTimeEntry", { example: { end_time: "2026-11-28T10:30:00Z" } });

export type StopTimeEntryBody = z.infer<typeof StopTimeEntryBody>;
