import { z } from "@hono/zod-openapi";
import { isManager, requireMember } from "../../db/membership";
import { entityTag } from "../../lib/conditional";
import { decodeCursor } from "../../lib/cursor";
import { ApiError, invalidField, notFound, preconditionFailed } from "../../lib/errors";
import { toPage } from "../../lib/pagination";
import { Id, UtcTimestamp } from "../../lib/schemas";
import type { AppRouteHandler } from "../../lib/types";
import {
  createTimeEntry,
  deleteTimeEntry,
  getCurrentTimeEntry,
  getTimeEntry,
  listTimeEntries,
  restartTimeEntry,
  stopTimeEntry,
  timerAlreadyRunning,
  updateTimeEntry,
} from "./time-entries.queries";
import type {
  CreateRoute,
  CurrentRoute,
  GetOneRoute,
  ListRoute,
  PatchRoute,
  RemoveRoute,
  RestartRoute,
  StopRoute,
} from "./time-entries.routes";

const EntryCursor = z.tuple([UtcTimestamp, Id]);

const entryNotFound = () => notFound("Time entry");
const entryChanged = () => preconditionFailed("time entry");
const entryLocked = () =>
  new ApiError("ENTRY_LOCKED", "The time entry is attached to an invoice and cannot be changed");
const unknownProject = () => invalidField("project_id", "No such project in this organization");

export const list: AppRouteHandler<ListRoute> = async (c) => {
  const query = c.req.valid("query");
  const caller = c.get("caller");
  const cursor = query.cursor ? decodeCursor(query.cursor, EntryCursor) : undefined;
  const userId = query.user_id === "me" ? caller.userId : query.user_id?.toLowerCase();

  const page = await listTimeEntries(c.get("db"), caller, {
    cursor: cursor && { startTime: cursor[0], id: cursor[1] },
    limit: query.limit,
    startDate: query.start_date,
    endDate: query.end_date,
    q: query.q,
    projectId: query.project_id,
    userId,
  });
  const role = requireMember(page.role);
  if (userId && userId !== caller.userId && !isManager(role)) {
    throw new ApiError("FORBIDDEN", "Members can only list their own time entries");
  }
  return c.json(
    toPage(page.entries, query.limit, (entry) => [entry.start_time, entry.id]),
    200,
  );
};

export const create: AppRouteHandler<CreateRoute> = async (c) => {
  const result = await createTimeEntry(c.get("db"), c.get("caller"), c.req.valid("json"));
  requireMember(result.role);
  if (!result.project_found) throw unknownProject();
  if (!result.entry) throw timerAlreadyRunning(result.running_entry_id);
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
  const ifMatch = c.req.valid("header")["If-Match"];
  const result = await updateTimeEntry(c.get("db"), c.get("caller"), id, c.req.valid("json"), ifMatch);
  requireMember(result.role);
  if (!result.found) throw entryNotFound();
  if (result.precondition_failed) throw entryChanged();
  if (result.locked) throw entryLocked();
  if (!result.project_found) throw unknownProject();
  if (!result.times_valid) throw invalidField("end_time", "Must be after start_time");
  if (result.running_entry_id) throw timerAlreadyRunning(result.running_entry_id);
  if (!result.entry) throw new Error("the update matched no row although every check passed");
  c.header("ETag", entityTag(result.entry.version));
  return c.json({ data: result.entry }, 200);
};

export const remove: AppRouteHandler<RemoveRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const result = await deleteTimeEntry(c.get("db"), c.get("caller"), id, c.req.valid("header")["If-Match"]);
  requireMember(result.role);
  if (!result.found) throw entryNotFound();
  if (result.precondition_failed) throw entryChanged();
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
  const result = await stopTimeEntry(c.get("db"), c.get("caller"), id, c.req.valid("json") ?? {});
  requireMember(result.role);
  if (!result.found) throw entryNotFound();
  if (result.locked) throw entryLocked();
  if (!result.running) throw new ApiError("TIMER_NOT_RUNNING", "The time entry has already been stopped");
  if (!result.times_valid) throw invalidField("end_time", "Must be after start_time");
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
