import { z } from "@hono/zod-openapi";
import { atLeastOneField, IdList } from "../../lib/schemas";
import { exampleIds } from "./example-ids";
import { billable, description, projectId, TimeEntry } from "./time-entries.schemas";

// Bulk edits: PATCH and DELETE on /v1/time-entries, many entries in one statement.

const bulkIds = IdList.openapi({
  description:
    "The entries, 1 to 100 distinct ids. Each must be a live entry of the caller's organization that the caller may change (a member: only their own).",
  example: [exampleIds.entry, "8c2b1e4d-6f3a-4b7c-9d8e-1f2a3b4c5d6e"],
});

export const BulkTimeEntryChanges = z
  .object({
    project_id: projectId.optional(),
    billable: billable.optional().openapi({
      description: "Unchanged unless given; a new `project_id` does not change it.",
    }),
    description: description.optional(),
  })
  .strict()
  .refine(atLeastOneField, { message: "Provide at least one field to change" })
  .openapi("BulkTimeEntryChanges", {
    minProperties: 1,
    description: "What to set on every entry; fields not given stay as they are on each entry.",
    example: { project_id: exampleIds.project, billable: true },
  });

export const BulkUpdateTimeEntriesBody = z
  .object({ ids: bulkIds, changes: BulkTimeEntryChanges })
  .strict()
  .openapi("BulkUpdateTimeEntries", {
    example: { ids: [exampleIds.entry], changes: { project_id: exampleIds.project, billable: true } },
  });

export const BulkDeleteTimeEntriesBody = z
  .object({ ids: bulkIds })
  .strict()
  .openapi("BulkDeleteTimeEntries", { example: { ids: [exampleIds.entry] } });

export const BulkUpdatedTimeEntries = z
  .object({
    data: z.array(TimeEntry).openapi({ description: "The updated entries, in the order of `ids`." }),
    meta: z.object({
      count: z.number().int().openapi({ description: "Number of entries updated: the number of `ids`.", example: 1 }),
    }),
  })
  .openapi("BulkUpdatedTimeEntries");

export type BulkTimeEntryChanges = z.infer<typeof BulkTimeEntryChanges>;
