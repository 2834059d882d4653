import { z } from "@hono/zod-openapi";
import { Version } from "../../lib/conditional";
import { Id, Name, TimeZoneName, UtcTimestamp, WeekStart } from "../../lib/schemas";

const preventOverlapsDescription =
  "When true, a member's time entries may not overlap (409 `OVERLAP`); entries that only touch (one ends 13:00, the next starts 13:00) are fine. Turning it on keeps the overlaps that already exist and checks every new write: creating an entry, or moving an existing one.";

const weekStartDescription =
  "The day a week starts on: the default `week_start` of the summary, whose `week` groups run from that day for seven days. `monday` (ISO 8601) unless changed.";

const timezoneDescription =
  "IANA time zone name (not `CET`, `EET`, `MET` or `WET`, which Postgres reads as fixed offsets without summer time, nor a three-letter id such as `IST` or `PST` that is no IANA name and another offset to Postgres: name a city): the default `timezone` of the time entry list, summary and export when a request omits it. Kept in IANA's spelling: `europe/berlin` is stored and answered as `Europe/Berlin`, and a link as itself: `us/pacific` as `US/Pacific`.";

export const Organization = z
  .object({
    id: Id.openapi({ example: "0b9c1a52-7c1e-4a8e-9d0b-3f2f6f1c1a01" }),
    name: z.string().nullable().openapi({ example: "Analytical Engines Ltd" }),
    timezone: z.string().openapi({ description: timezoneDescription, example: "Europe/Berlin" }),
    prevent_overlaps: z.boolean().openapi({ description: preventOverlapsDescription, example: false }),
    week_start: WeekStart.openapi({ description: weekStartDescription, example: "monday" }),
    limits: z
      .object({
        webhook_subscriptions: z.number().int().openapi({
          description:
            "How many webhook subscriptions, active or disabled, the organization may keep (20 unless raised on request); one more is 409 `WEBHOOK_LIMIT_REACHED`.",
          example: 20,
        }),
      })
      .openapi({
        description:
          "What the organization may keep, as the API enforces it. Read-only: set by the operator (a PATCH naming it is 400); a change of it is a change of the organization (new `version` and `updated_at`).",
      }),
    created_at: UtcTimestamp,
    updated_at: UtcTimestamp,
    version: Version,
  })
  .openapi("Organization");

export type Organization = z.infer<typeof Organization>;

export const OrganizationEnvelope = z.object({ data: Organization }).openapi("OrganizationResponse");

export const UpdateOrganizationBody = z
  .object({
    name: Name.nullable()
      .optional()
      .openapi({ description: "The organization's name; `null` clears it.", example: "Analytical Engines Ltd" }),
    timezone: TimeZoneName.optional().openapi({ description: timezoneDescription, example: "Europe/Berlin" }),
    prevent_overlaps: z
      .boolean({ message: "Must be true or false" })
      .optional()
      .openapi({ description: preventOverlapsDescription, example: true }),
    week_start: WeekStart.optional().openapi({ description: weekStartDescription, example: "sunday" }),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, { message: "Provide at least one field to change" })
  .openapi("UpdateOrganization", { minProperties: 1, example: { timezone: "Europe/Berlin", prevent_overlaps: true } });

export type UpdateOrganizationBody = z.infer<typeof UpdateOrganizationBody>;
