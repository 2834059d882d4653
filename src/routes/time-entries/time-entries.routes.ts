import { createRoute, z } from "@hono/zod-openapi";
import { etagHeader, IfMatchHeaders, ifMatchRule, noChangeRule, optionalEtagHeader } from "../../lib/conditional";
import { errorResponses, errorResponsesWith, manyIdsExamples } from "../../lib/error-responses";
import { authErrors, bodyErrors, jsonContent as json, jsonBody, noBodyErrors, scoped } from "../../lib/openapi-helpers";
import { IdParams } from "../../lib/schemas";
import { SummaryEnvelope, SummaryQuery } from "./summary.schemas";
import {
  BulkDeleteTimeEntriesBody,
  BulkUpdatedTimeEntries,
  BulkUpdateTimeEntriesBody,
} from "./time-entries.bulk-schemas";
import {
  CreateTimeEntryBody,
  CurrentTimeEntryEnvelope,
  ListTimeEntriesQuery,
  StopTimeEntryBody,
  TimeEntryEnvelope,
  TimeEntryPage,
  UpdateTimeEntryBody,
} from "./time-entries.schemas";

const tags = ["Time entries"];
const read = scoped("entries:read");
const write = scoped("entries:write");

const locationHeader = z.object({
  Location: z.string().openapi({
    description: "URL of the new entry.",
    example: "/v1/time-entries/4a3d7f3e-2a51-4f5e-9a8b-5b7e2c1d0f42",
  }),
  ...etagHeader.shape,
});

export const list = createRoute({
  operationId: "listTimeEntries",
  method: "get",
  path: "/v1/time-entries",
  tags,
  summary: "List time entries",
  description:
    "Newest start_time first (ties by id), with keyset pagination: pass `meta.next_cursor` as `cursor` for the next page. With `updated_since` it is a sync listing instead: entries changed after that instant, oldest change first, with `include_deleted=true` deleted entries as tombstones `{id, version, deleted_at}`, and with `include_departures=true` entries that left the listing (moved to another project or member, edited out of its filters, or, without `include_deleted`, deleted) as departures `{id, version, left_at}`; a cursor of one ordering is 400 `INVALID_CURSOR` in the other. Dates read in the organization's time zone (no `timezone`) stay in the zone of the first page on every page that follows, even if the organization changes its own meanwhile. owner and admin see the whole organization; a member sees only their own entries. Needs scope `entries:read` for OAuth tokens.",
  ...read,
  request: { query: ListTimeEntriesQuery },
  responses: {
    200: json(TimeEntryPage, "A page of time entries."),
    ...errorResponses("VALIDATION_ERROR", "INVALID_CURSOR", ...authErrors),
  },
});

export const summary = createRoute({
  operationId: "summarizeTimeEntries",
  method: "get",
  path: "/v1/time-entries/summary",
  tags,
  summary: "Summarize time entries",
  description:
    "Totals of the entries the list's filters select (same visibility: owner and admin see the whole organization, a member only their own; a member asking for another `user_id` gets 403), optionally grouped by one or two of project, customer, user, day, week and month. For each group: entry count, total and billable seconds and billable amounts per currency (hours × the project's hourly_rate, exact numeric rounded on each group's total to the currency's ISO 4217 minor unit: 2 decimals for most, none for JPY, 3 for KWD). A running entry counts up to now; with `rounding`, each entry's duration is rounded before summing. `start_date` and `end_date` are required (at most 366 days). Needs scope `entries:read` for OAuth tokens.",
  ...read,
  request: { query: SummaryQuery },
  responses: {
    200: json(SummaryEnvelope, "The totals, by group and overall."),
    ...errorResponses("VALIDATION_ERROR", ...authErrors),
  },
});

export const create = createRoute({
  operationId: "createTimeEntry",
  method: "post",
  path: "/v1/time-entries",
  tags,
  summary: "Create a time entry or start a timer",
  description:
    "Records time for the caller, or (owner and admin) for the member given as `user_id`. Without `end_time` the entry is a running timer; a user has at most one running timer per organization (409 `TIMER_ALREADY_RUNNING`), unless `stop_running: true` stops the running one at the new start_time in the same statement (409 `PROJECT_INACTIVE` if that one is on a project made inactive since and the new start_time is more than a minute past now). When the organization has `prevent_overlaps` on, an entry overlapping another entry of the same user is 409 `OVERLAP` (entries that only touch do not overlap; a running timer reaches into the future). An inactive project takes no new time: an entry on it is 409 `PROJECT_INACTIVE`. Needs scope `entries:write` for OAuth tokens.",
  ...write,
  request: { body: jsonBody(CreateTimeEntryBody, "The entry to create.") },
  responses: {
    201: {
      ...json(TimeEntryEnvelope, "The created entry."),
      headers: locationHeader,
    },
    ...errorResponses("TIMER_ALREADY_RUNNING", "OVERLAP", "PROJECT_INACTIVE", ...bodyErrors, ...authErrors),
  },
});

export const getOne = createRoute({
  operationId: "getTimeEntry",
  method: "get",
  path: "/v1/time-entries/{id}",
  tags,
  summary: "Get a time entry",
  description:
    "Another organization's entry, or (for a member) another member's entry, is 404 like an id that does not exist. Needs scope `entries:read` for OAuth tokens.",
  ...read,
  request: { params: IdParams },
  responses: {
    200: { ...json(TimeEntryEnvelope, "The entry."), headers: etagHeader },
    ...errorResponses("VALIDATION_ERROR", "NOT_FOUND", ...authErrors),
  },
});

export const patch = createRoute({
  operationId: "updateTimeEntry",
  method: "patch",
  path: "/v1/time-entries/{id}",
  tags,
  summary: "Update a time entry",
  description: `Changes any subset of the create fields and bumps \`updated_at\`. owner and admin may move the entry to another member with \`user_id\`. With \`prevent_overlaps\` on, a change of times or user that makes the entry overlap another entry of that user is 409 \`OVERLAP\`. Setting \`end_time\` stops a running entry; setting it to null makes the entry run again under the one-timer rule. Moving the entry to an inactive project, or making an entry of one run again or longer (a stopped one's span longer; a running one's start earlier while it runs on, or its stop past the time it has run), is 409 \`PROJECT_INACTIVE\`; an entry already on one stays editable otherwise. The merged times must keep end_time after start_time. An invoiced entry is locked (409 \`ENTRY_LOCKED\`). ${noChangeRule} ${ifMatchRule} Needs scope \`entries:write\` for OAuth tokens.`,
  ...write,
  request: {
    params: IdParams,
    headers: IfMatchHeaders,
    body: jsonBody(UpdateTimeEntryBody, "The fields to change."),
  },
  responses: {
    200: { ...json(TimeEntryEnvelope, "The updated entry."), headers: etagHeader },
    ...errorResponses(
      "NOT_FOUND",
      "PRECONDITION_FAILED",
      "TIMER_ALREADY_RUNNING",
      "ENTRY_LOCKED",
      "OVERLAP",
      "PROJECT_INACTIVE",
      ...bodyErrors,
      ...authErrors,
    ),
  },
});

export const remove = createRoute({
  operationId: "deleteTimeEntry",
  method: "delete",
  path: "/v1/time-entries/{id}",
  tags,
  summary: "Delete a time entry",
  description: `Deletes the entry: it disappears from every endpoint at once, and stays only as a tombstone \`{id, version, deleted_at}\` for sync clients (\`GET /v1/time-entries?updated_since=…&include_deleted=true\`) until it is purged 30 days later. An invoiced entry is locked (409 \`ENTRY_LOCKED\`). ${ifMatchRule} Needs scope \`entries:write\` for OAuth tokens.`,
  ...write,
  request: { params: IdParams, headers: IfMatchHeaders },
  responses: {
    204: { description: "Deleted." },
    ...errorResponses(
      "VALIDATION_ERROR",
      "NOT_FOUND",
      "PRECONDITION_FAILED",
      "ENTRY_LOCKED",
      ...noBodyErrors,
      ...authErrors,
    ),
  },
});

export const current = createRoute({
  operationId: "getCurrentTimeEntry",
  method: "get",
  path: "/v1/time-entries/current",
  tags,
  summary: "Get the running timer",
  description:
    'The caller\'s running entry (no `end_time`), in the same shape as `GET /v1/time-entries/{id}`, or `{"data": null}` when no timer runs. Needs scope `entries:read` for OAuth tokens.',
  ...read,
  responses: {
    200: { ...json(CurrentTimeEntryEnvelope, "The running entry, or null."), headers: optionalEtagHeader },
    ...errorResponses("VALIDATION_ERROR", ...authErrors),
  },
});

export const stop = createRoute({
  operationId: "stopTimeEntry",
  method: "post",
  path: "/v1/time-entries/{id}/stop",
  tags,
  summary: "Stop a running timer",
  description: `Sets \`end_time\` to now, or to \`end_time\` from the optional body (empty is none, whatever its Content-Type), which must be after the entry's start_time. An entry already stopped is 409 \`TIMER_NOT_RUNNING\`; an invoiced entry is locked (409 \`ENTRY_LOCKED\`). On an inactive project, a stop may not make the entry longer than the time it has run (a minute more for clocks ahead): 409 \`PROJECT_INACTIVE\`. A member can stop only their own entries; another member's entry is 404. A stop is a change of the entry (a new \`version\`). ${ifMatchRule} Needs scope \`entries:write\` for OAuth tokens.`,
  ...write,
  request: {
    params: IdParams,
    headers: IfMatchHeaders,
    body: { ...json(StopTimeEntryBody, "Optional: when the timer stopped."), required: false },
  },
  responses: {
    200: { ...json(TimeEntryEnvelope, "The stopped entry."), headers: etagHeader },
    ...errorResponses(
      "NOT_FOUND",
      "TIMER_NOT_RUNNING",
      "ENTRY_LOCKED",
      "OVERLAP",
      "PROJECT_INACTIVE",
      "PRECONDITION_FAILED",
      ...bodyErrors,
      ...authErrors,
    ),
  },
});

export const restart = createRoute({
  operationId: "restartTimeEntry",
  method: "post",
  path: "/v1/time-entries/{id}/restart",
  tags,
  summary: "Restart a timer from an entry",
  description:
    "Starts a new running entry for the caller now, copying the project, description and billable flag of the given entry (which stays as it is). A user has at most one running timer per organization (409 `TIMER_ALREADY_RUNNING`). A member can restart only their own entries; another member's entry is 404. An entry of a project that is now inactive is 409 `PROJECT_INACTIVE`. Needs scope `entries:write` for OAuth tokens.",
  ...write,
  request: { params: IdParams },
  responses: {
    201: { ...json(TimeEntryEnvelope, "The new running entry."), headers: locationHeader },
    ...errorResponses(
      "VALIDATION_ERROR",
      "NOT_FOUND",
      "TIMER_ALREADY_RUNNING",
      "OVERLAP",
      "PROJECT_INACTIVE",
      ...noBodyErrors,
      ...authErrors,
    ),
  },
});

const bulkRules =
  "All or nothing, in one statement: ids that are not a live entry the caller may change (another organization's, deleted, or, for a member, a colleague's) are 404 `NOT_FOUND` with `details.ids` listing exactly those ids, sorted; otherwise entries attached to an invoice are 409 `ENTRY_LOCKED` with `details.ids`, sorted. On any error nothing changes.";

export const bulkPatch = createRoute({
  operationId: "bulkUpdateTimeEntries",
  method: "patch",
  path: "/v1/time-entries",
  tags,
  summary: "Update many time entries",
  description: `Sets the same \`changes\` (project_id, billable, description) on 1 to 100 entries and bumps their \`updated_at\`; one that already has every given value is left as it is. \`billable\` changes only when given, also when the project changes. ${bulkRules} Then a \`changes.project_id\` that is not a project of the organization is 400 \`VALIDATION_ERROR\` naming \`changes.project_id\`, and an inactive one is 409 \`PROJECT_INACTIVE\` unless every entry is on it already. Answers the updated entries in the order of \`ids\`. Needs scope \`entries:write\` for OAuth tokens.`,
  ...write,
  request: { body: jsonBody(BulkUpdateTimeEntriesBody, "The entries and the changes to make to each.") },
  responses: {
    200: json(BulkUpdatedTimeEntries, "The updated entries, in the order of `ids`."),
    ...errorResponsesWith(
      manyIdsExamples,
      "NOT_FOUND",
      "ENTRY_LOCKED",
      "PROJECT_INACTIVE",
      ...bodyErrors,
      ...authErrors,
    ),
  },
});

export const bulkRemove = createRoute({
  operationId: "bulkDeleteTimeEntries",
  method: "delete",
  path: "/v1/time-entries",
  tags,
  summary: "Delete many time entries",
  description: `Deletes 1 to 100 entries exactly as \`DELETE /v1/time-entries/{id}\` deletes one (tombstones, projects let go). ${bulkRules} Needs scope \`entries:write\` for OAuth tokens.`,
  ...write,
  request: { body: jsonBody(BulkDeleteTimeEntriesBody, "The entries to delete.") },
  responses: {
    204: { description: "Deleted, all of them." },
    ...errorResponsesWith(manyIdsExamples, "NOT_FOUND", "ENTRY_LOCKED", ...bodyErrors, ...authErrors),
  },
});

export type BulkPatchRoute = typeof bulkPatch;
export type BulkRemoveRoute = typeof bulkRemove;
export type CurrentRoute = typeof current;
export type StopRoute = typeof stop;
export type RestartRoute = typeof restart;
export type ListRoute = typeof list;
export type SummaryRoute = typeof summary;
export type CreateRoute = typeof create;
export type GetOneRoute = typeof getOne;
export type PatchRoute = typeof patch;
export type RemoveRoute = typeof remove;
