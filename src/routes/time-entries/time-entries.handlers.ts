import { z } from "@hono/zod-openapi";
import { isManager, type Role, requireMember } from "../../db/membership";
import { decodeCursor } from "../../lib/cursor";
import { ApiError, invalidField, notFound } from "../../lib/errors";
import { toPage } from "../../lib/pagination";
import { Id, UtcTimestamp } from "../../lib/schemas";
import type { AppRouteHandler } from "../../lib/types";
import type { Caller } from "../../lib/verify-token";
import {
  createTimeEntry,
  deleteTimeEntry,
  entryFilterOf,
  getCurrentTimeEntry,
  getTimeEntry,
  listTimeEntries,
  requireFilterAllowed,
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
  const after = cursor ? decodeCursor(cursor, EntryCursor) : undefined;
  const filter = entryFilterOf(caller, query);

  const page = await listTimeEntries(c.get("db"), caller, filter, {
    cursor: after && { startTime: after[0], id: after[1] },
    limit,
  });
  requireFilterAllowed(page.role, caller, filter);
  return c.json(
    toPage(page.entries, limit, (entry) => [entry.start_time, entry.id]),
    200,
  );
};

export const create: AppRouteHandler<CreateRoute> = async (c) => {
  const body = c.req.valid("json");
  const result = await createTimeEntry(c.get("db"), c.get("caller"), body);
  requireMayActFor(requireMember(result.role), c.get("caller"), body.user_id);
  if (!result.subject_found) throw unknownMember();
  if (!result.project_found) throw unknownProject();
  if (!result.entry) throw timerAlreadyRunning(result.running_entry_id);
  c.header("Location", `/v1/time-entries/${result.entry.id}`);
  return c.json({ data: result.entry }, 201);
};

export const getOne: AppRouteHandler<GetOneRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const result = await getTimeEntry(c.get("db"), c.get("caller"), id);
  requireMember(result.role);
  if (!result.entry) throw entryNotFound();
  return c.json({ data: result.entry }, 200);
};

export const patch: AppRouteHandler<PatchRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const changes = c.req.valid("json");
  const result = await updateTimeEntry(c.get("db"), c.get("caller"), id, changes);
  requireMayActFor(requireMember(result.role), c.get("caller"), changes.user_id);
  if (!result.found) throw entryNotFound();
  if (result.locked) throw entryLocked();
  if (!result.subject_found) throw unknownMember();
  if (!result.project_found) throw unknownProject();
  if (!result.times_valid) throw invalidField("end_time", "Must be after start_time");
  if (result.running_entry_id) throw timerAlreadyRunning(result.running_entry_id);
  if (!result.entry) throw new Error("the update matched no row although every check passed");
  return c.json({ data: result.entry }, 200);
};

export const remove: AppRouteHandler<RemoveRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const result = await deleteTimeEntry(c.get("db"), c.get("caller"), id);
  requireMember(result.role);
  if (!result.found) throw entryNotFound();
  if (!result.deleted) throw entryLocked();
  return c.body(null, 204);
};

export const current: AppRouteHandler<CurrentRoute> = async (c) => {
  const result = await getCurrentTimeEntry(c.get("db"), c.get("caller"));
  requireMember(result.role);
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
  return c.json({ data: result.entry }, 200);
};

export const restart: AppRouteHandler<RestartRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const result = await restartTimeEntry(c.get("db"), c.get("caller"), id);
  requireMember(result.role);
  if (!result.found) throw entryNotFound();
  if (!result.entry) throw timerAlreadyRunning(result.running_entry_id);
  c.header("Location", `/v1/time-entries/${result.entry.id}`);
  return c.json({ data: result.entry }, 201);
};
