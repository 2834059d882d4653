import { z } from "@hono/zod-openapi";
import { Version } from "../../lib/conditional";
import {
  atLeastOneField,
  Cursor,
  Id,
  Limit,
  orNull,
  PageMeta,
  QueryBoolean,
  Text,
  Timestamp,
  UtcTimestamp,
} from "../../lib/schemas";

import { checkEntryFilter, entryFilterFields } from "./entry-filter.schemas";
import { exampleIds } from "./example-ids";

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
    customer: orNull(
      z.object({
        id: Id.openapi({ example: exampleIds.customer }),
        name: z.string().openapi({ example: "Acme GmbH" }),
      }),
    ),
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
    project: orNull(EntryProject),
    invoice: orNull(EntryInvoice),
  })
  .openapi("TimeEntry");

export type TimeEntry = z.infer<typeof TimeEntry>;

export const TimeEntryEnvelope = z.object({ data: TimeEntry }).openapi("TimeEntryResponse");

export const Tombstone = z
  .object({
    id: Id.openapi({ example: exampleIds.entry }),
    version: Version.openapi({
      description:
        "One more than the entry's last version, as in the `time_entry.deleted` event: anything of a lower version (a late event, a replayed create) is older than the deletion. A deleted entry never comes back.",
      example: 4,
    }),
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

export const Departure = z
  .object({
    id: Id.openapi({ example: exampleIds.entry }),
    version: Version.openapi({
      description:
        "The entry's version right after the change that took it out of this feed: anything about it of a lower version is older. A later version can bring it back (an entry moved back, say), as an entry of the feed.",
      example: 5,
    }),
    left_at: UtcTimestamp.openapi({
      description:
        "When the entry stopped belonging to this feed (the change's `updated_at`); a sync mark, like `updated_at`.",
      example: "2026-11-28T12:00:00.000Z",
    }),
  })
  .openapi("TimeEntryDeparture", {
    description:
      "An entry that no longer belongs to this feed, only in a sync listing with `include_departures=true`: it matched the listing's filters and was the caller's to see before a change (moved to another project or member, its description, day, billable or invoice changed) or its deletion, and now the listing shows it neither as an entry nor as a tombstone. Drop it from what you keep of this feed; it may come back later as an entry. Kept 30 days.",
  });

export type Departure = z.infer<typeof Departure>;

export const TimeEntryPage = z
  .object({
    data: z.array(z.union([TimeEntry, Tombstone, Departure])).openapi({
      description:
        "Time entries; in a sync listing with `include_deleted=true`, deleted entries appear among them as tombstones `{id, version, deleted_at}`, and with `include_departures=true` entries that left the listing as departures `{id, version, left_at}`.",
    }),
    meta: PageMeta,
  })
  .openapi("TimeEntryList");

export const ListTimeEntriesQuery = z
  .object({
    cursor: Cursor.optional(),
    limit: Limit,
    ...entryFilterFields,
    updated_since: Timestamp.optional().openapi({
      description:
        "Sync: only entries changed (created, updated or deleted) after this instant, oldest change first by (`updated_at`, `id`) instead of newest start_time first. Page with `cursor` as usual; when `next_cursor` is null, keep the greatest `updated_at` (or a tombstone's `deleted_at`, a departure's `left_at`) seen as the next `updated_since`: nothing can come in behind it, since the feed holds back what committed after the start of a write still running (but one running for over a minute: see the README). What the feed covers is the caller's as they are now: after a role change, start over.",
      example: "2026-11-28T12:00:00Z",
    }),
    include_deleted: QueryBoolean.optional().openapi({
      description:
        "With `updated_since` only: include entries deleted since then as tombstones `{id, version, deleted_at}` (kept 30 days). Other filters but `user_id` do not apply to tombstones.",
      example: "true",
    }),
    include_departures: QueryBoolean.optional().openapi({
      description:
        "With `updated_since` only: include entries that left this feed since then as departures `{id, version, left_at}` (kept 30 days): entries that matched its filters and were the caller's to see before a change, and that it does not list now. A member's feed so learns of their entries an owner or admin gave to someone else, a feed narrowed by `project_id`, dates, `q` or others of entries edited out of it, and a feed without `include_deleted` of deletions. Where the feed shows an entry's tombstone, the tombstone tells instead.",
      example: "true",
    }),
  })
  .strict()
  .superRefine(checkEntryFilter)
  .refine((q) => q.include_deleted === undefined || q.updated_since !== undefined, {
    message: "Only with updated_since",
    path: ["include_deleted"],
  })
  .refine((q) => q.include_departures === undefined || q.updated_since !== undefined, {
    message: "Only with updated_since",
    path: ["include_departures"],
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
