import { z } from "@hono/zod-openapi";
import { isManager, type Role, requireMember } from "../../db/membership";
import { entityTag, preconditionsOf } from "../../lib/conditional";
import { type CursorList, decodeCursor, encodeCursor } from "../../lib/cursor";
import { ApiError, invalidField, notFound, preconditionFailed } from "../../lib/errors";
import { jsonObjectText, jsonResponse, jsonText, jsonTextResponse } from "../../lib/json-text";
import { Id, UtcTimestamp } from "../../lib/schemas";
import type { AppRouteHandler } from "../../lib/types";
import type { Caller } from "../../lib/verify-token";
import { entryFilterOf, requireFilterAllowed } from "./entry-filter";
import { summarizeTimeEntries } from "./summary.queries";
import { bulkDeleteTimeEntries, bulkUpdateTimeEntries } from "./time-entries.bulk-queries";
import { timerAlreadyRunning } from "./time-entries.errors";
import {
  type EntryPage,
  getCurrentTimeEntry,
  getTimeEntry,
  listChanges,
  listTimeEntries,
} from "./time-entries.queries";
import type {
  BulkPatchRoute,
  BulkRemoveRoute,
  CreateRoute,
  CurrentRoute,
  GetOneRoute,
  ListRoute,
  PatchRoute,
  RemoveRoute,
  RestartRoute,
  StopRoute,
  SummaryRoute,
} from "./time-entries.routes";
import { createTimeEntry, deleteTimeEntry, updateTimeEntry } from "./time-entries.writes";
import { restartTimeEntry, stopTimeEntry } from "./timers.queries";

/**
 * The sort key of a page's last entry, and the organization's time zone when the request's dates were read in it
 * (no `timezone` given): the pages that follow read them in the same zone, even after the organization changed its
 * own, rather than go on with another range. Cursors issued before they carried it have none.
 */
const EntryCursor = z.union([z.tuple([UtcTimestamp, Id]), z.tuple([UtcTimestamp, Id, z.string().min(1).max(64)])]);

const entryNotFound = () => notFound("Time entry");
const entryLocked = () =>
  new ApiError("ENTRY_LOCKED", "The time entry is attached to an invoice and cannot be changed");
const unknownProject = () => invalidField("project_id", "No such project in this organization");
const unknownMember = () => invalidField("user_id", "No such member in this organization");

/** Only owner and admin record or move time for someone else. */
function requireMayActFor(role: Role, caller: Caller, userId: string | undefined) {
  if (userId && userId.toLowerCase() !== caller.userId && !isManager(role)) {
    throw new ApiError("FORBIDDEN", "Only owners and admins can record time for another member");
  }
}

export const list: AppRouteHandler<ListRoute> = async (c) => {
  const { cursor, limit, ...query } = c.req.valid("query");
  const caller = c.get("caller");
  const cursorList: CursorList = query.updated_since ? "changes" : "time-entries";
  const after = cursor ? decodeCursor(cursor, cursorList, EntryCursor, c.req.url) : undefined;
  const datesInImpliedZone = query.timezone === undefined && Boolean(query.start_date || query.end_date);
  // The organization's zone, as it was when the first page was read (any name Postgres took for it, so not checked
  // as a request's `timezone` is); one Postgres does not know is a cursor it did not issue.
  const pinnedZone = datesInImpliedZone ? after?.[2] : undefined;
  const filter = { ...entryFilterOf(caller, query), ...(pinnedZone && { timezone: pinnedZone }) };
  const read = async <T>(page: Promise<T>) => {
    try {
      return await page;
    } catch (error) {
      if (!pinnedZone || !(error instanceof ApiError) || error.code !== "VALIDATION_ERROR") throw error;
      throw new ApiError("INVALID_CURSOR", "The cursor is malformed or was not issued by this API");
    }
  };

  // The entries go out as the JSON text Postgres wrote: a page of 100 would cost more to parse and serialize
  // again than all the rest of the request's own work.
  const respond = <T>(page: EntryPage<T>) => {
    requireFilterAllowed(page.role, caller, filter);
    const zone = datesInImpliedZone ? page.timezone : null;
    const key = page.next && [page.next.time, page.next.id, ...(zone ? [zone] : [])];
    const meta = { count: page.count, next_cursor: key ? encodeCursor(cursorList, key, c.req.url) : null };
    return jsonTextResponse(c, jsonObjectText({ data: page.entries, meta: jsonText(meta) }), 200);
  };

  if (query.updated_since) {
    const page = await read(
      listChanges(c.get("db"), caller, filter, {
        updatedSince: query.updated_since,
        cursor: after && { updatedAt: after[0], id: after[1] },
        limit,
        includeDeleted: query.include_deleted ?? false,
        includeDepartures: query.include_departures ?? false,
      }),
    );
    return respond(page);
  }

  const page = await read(
    listTimeEntries(c.get("db"), caller, filter, {
      cursor: after && { startTime: after[0], id: after[1] },
      limit,
    }),
  );
  return respond(page);
};

export const summary: AppRouteHandler<SummaryRoute> = async (c) => {
  const { group_by, rounding, rounding_minutes, week_start, ...query } = c.req.valid("query");
  const caller = c.get("caller");
  const filter = entryFilterOf(caller, query);
  const result = await summarizeTimeEntries(c.get("db"), caller, filter, {
    groupBy: group_by ?? [],
    rounding: rounding && rounding_minutes !== undefined ? { mode: rounding, minutes: rounding_minutes } : undefined,
    weekStart: week_start,
  });
  requireFilterAllowed(result.role, caller, filter);
  // As Postgres wrote it (compact): a year by user and week is thousands of groups to parse and serialize again.
  return jsonTextResponse(c, jsonObjectText({ data: result.summary }), 200);
};

export const create: AppRouteHandler<CreateRoute> = async (c) => {
  const body = c.req.valid("json");
  const result = await createTimeEntry(c.get("db"), c.get("caller"), body);
  requireMayActFor(requireMember(result.role), c.get("caller"), body.user_id);
  if (!result.subject_found) throw unknownMember();
  if (!result.project_found) throw unknownProject();
  if (!result.entry) throw timerAlreadyRunning(result.running_entry_id, body.stop_running === true);
  c.header("Location", `/v1/time-entries/${result.entry.id}`);
  c.header("ETag", entityTag(result.entry.version));
  return c.json({ data: result.entry }, 201);
};

export const getOne: AppRouteHandler<GetOneRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const result = await getTimeEntry(c.get("db"), c.get("caller"), id);
  requireMember(result.role);
  if (!result.entry) throw entryNotFound();
  c.header("ETag", entityTag(result.entry.version));
  return c.json({ data: result.entry }, 200);
};

export const patch: AppRouteHandler<PatchRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const changes = c.req.valid("json");
  const result = await updateTimeEntry(c.get("db"), c.get("caller"), id, changes, ifMatch);
  requireMayActFor(requireMember(result.role), c.get("caller"), changes.user_id);
  if (!result.found) throw entryNotFound();
  if (result.precondition_failed) throw preconditionFailed("time entry", result.precondition_failed);
  if (result.locked) throw entryLocked();
  if (!result.subject_found) throw unknownMember();
  if (!result.project_found) throw unknownProject();
  if (!result.times_valid) throw invalidField("end_time", "Must be after start_time");
  if (result.running_entry_id) throw timerAlreadyRunning(result.running_entry_id);
  if (!result.entry) throw new Error("the update matched no row although every check passed");
  c.header("ETag", entityTag(result.entry.version));
  return c.json({ data: result.entry }, 200);
};

export const remove: AppRouteHandler<RemoveRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const result = await deleteTimeEntry(c.get("db"), c.get("caller"), id, ifMatch);
  requireMember(result.role);
  if (!result.found) throw entryNotFound();
  if (result.precondition_failed) throw preconditionFailed("time entry", result.precondition_failed);
  if (!result.deleted) throw entryLocked();
  return c.body(null, 204);
};

export const current: AppRouteHandler<CurrentRoute> = async (c) => {
  const result = await getCurrentTimeEntry(c.get("db"), c.get("caller"));
  requireMember(result.role);
  if (result.entry) c.header("ETag", entityTag(result.entry.version));
  return c.json({ data: result.entry }, 200);
};

export const stop: AppRouteHandler<StopRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const body = c.req.valid("json") ?? {};
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const result = await stopTimeEntry(c.get("db"), c.get("caller"), id, body, ifMatch);
  requireMember(result.role);
  if (!result.found) throw entryNotFound();
  if (result.precondition_failed) throw preconditionFailed("time entry", result.precondition_failed);
  if (result.locked) throw entryLocked();
  if (!result.running) throw new ApiError("TIMER_NOT_RUNNING", "The time entry has already been stopped");
  if (!result.times_valid) {
    // Without end_time, "now": a timer that starts in the future cannot stop now.
    throw invalidField(
      "end_time",
      body.end_time ? "Must be after start_time" : "Omitted means now, which is not after start_time: give an end_time",
    );
  }
  if (!result.entry) throw new Error("the stop matched no row although every check passed");
  c.header("ETag", entityTag(result.entry.version));
  return c.json({ data: result.entry }, 200);
};

export const restart: AppRouteHandler<RestartRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const result = await restartTimeEntry(c.get("db"), c.get("caller"), id);
  requireMember(result.role);
  if (!result.found) throw entryNotFound();
  if (!result.entry) throw timerAlreadyRunning(result.running_entry_id);
  c.header("Location", `/v1/time-entries/${result.entry.id}`);
  c.header("ETag", entityTag(result.entry.version));
  return c.json({ data: result.entry }, 201);
};

/** A bulk edit's verdicts, in the documented precedence: not found, then locked. */
function requireBulkAllowed(result: { missing: string[]; locked: string[] }) {
  if (result.missing.length > 0) {
    throw new ApiError("NOT_FOUND", "Some time entries were not found", { ids: result.missing });
  }
  if (result.locked.length > 0) {
    throw new ApiError("ENTRY_LOCKED", "Some time entries are attached to an invoice and cannot be changed", {
      ids: result.locked,
    });
  }
}

export const bulkPatch: AppRouteHandler<BulkPatchRoute> = async (c) => {
  const { ids, changes } = c.req.valid("json");
  const lowerIds = ids.map((id) => id.toLowerCase());
  const result = await bulkUpdateTimeEntries(c.get("db"), c.get("caller"), lowerIds, changes);
  requireMember(result.role);
  requireBulkAllowed(result);
  if (!result.project_found) throw invalidField("changes.project_id", "No such project in this organization");
  if (result.entries.length !== ids.length) throw new Error("the bulk update missed rows although every check passed");
  return jsonResponse(c, { data: result.entries, meta: { count: result.entries.length } }, 200);
};

export const bulkRemove: AppRouteHandler<BulkRemoveRoute> = async (c) => {
  const { ids } = c.req.valid("json");
  const result = await bulkDeleteTimeEntries(
    c.get("db"),
    c.get("caller"),
    ids.map((id) => id.toLowerCase()),
  );
  requireMember(result.role);
  requireBulkAllowed(result);
  if (result.deleted !== ids.length) throw new Error("the bulk delete missed rows although every check passed");
  return c.body(null, 204);
};
