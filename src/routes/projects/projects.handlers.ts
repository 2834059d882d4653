import { z } from "@hono/zod-openapi";
import { requireManager, requireMember } from "../../db/membership";
import { preconditionsOf } from "../../lib/conditional";
import { resourceAnswer } from "../../lib/crud-responses";
import { decodeCursor } from "../../lib/cursor";
import { notFound, preconditionFailed } from "../../lib/errors";
import { pageAnswer } from "../../lib/pagination";
import { Id, storableText } from "../../lib/schemas";
import type { AppRouteHandler } from "../../lib/types";
import { invalidRequest } from "../../lib/validation";
import {
  createProject,
  deleteProject,
  getProject,
  listProjects,
  projectInUse,
  unknownCustomer,
  updateProject,
} from "./projects.queries";
import type { CreateRoute, GetOneRoute, ListRoute, PatchRoute, RemoveRoute } from "./projects.routes";

const ProjectCursor = z.tuple([z.string().superRefine(storableText), Id]);

/** Decimals of a JSON number's text once trailing zeros are dropped (`19.990` 2, `1234e-2` 2, `1.5e1` 0). */
function decimalsOf(source: string) {
  const [, whole = "", fraction = "", exponent = "0"] = /^-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(source) ?? [];
  const digits = `${whole}${fraction}`;
  const trailingZeros = digits.length - digits.replace(/0+$/, "").length;
  return Math.max(0, fraction.length - Number(exponent) - trailingZeros);
}

/**
 * `hourly_rate` as the client wrote it has at most 2 decimals: the schema sees the number JSON.parse made of it, and
 * `19.999999999999999` is the float 20 by then. The body is read again from Hono's cache, with each value's source.
 */
function requireRateAsWritten(bytes: ArrayBuffer) {
  let source: string | undefined;
  JSON.parse(new TextDecoder().decode(bytes), function (key, value, context?: { source?: string }) {
    if (key === "hourly_rate" && this !== null && typeof value === "number") source = context?.source;
    return value;
  });
  if (source !== undefined && decimalsOf(source) > 2) {
    throw invalidRequest("body", { hourly_rate: ["Must have at most 2 decimals"] });
  }
}
const projectNotFound = () => notFound("Project");

export const list: AppRouteHandler<ListRoute> = async (c) => {
  const query = c.req.valid("query");
  const cursor = query.cursor ? decodeCursor(query.cursor, "projects", ProjectCursor, c.req.url) : undefined;
  const page = await listProjects(c.get("db"), c.get("caller"), {
    limit: query.limit,
    q: query.q,
    active: query.active,
    customerId: query.customer_id,
    after: cursor && { name: cursor[0], id: cursor[1] },
  });
  requireMember(page.role);
  return pageAnswer(c, "projects", page.projects, query.limit, (project) => [project.name, project.id]);
};

export const create: AppRouteHandler<CreateRoute> = async (c) => {
  requireRateAsWritten(await c.req.arrayBuffer());
  const result = await createProject(c.get("db"), c.get("caller"), c.req.valid("json"));
  requireManager(result.role, "create projects");
  if (!result.customer_found) throw unknownCustomer();
  if (!result.project) throw new Error("the insert returned no row although every check passed");
  return resourceAnswer(c, result.project, 201, `/v1/projects/${result.project.id}`);
};

export const getOne: AppRouteHandler<GetOneRoute> = async (c) => {
  const result = await getProject(c.get("db"), c.get("caller"), c.req.valid("param").id);
  requireMember(result.role);
  if (!result.project) throw projectNotFound();
  return resourceAnswer(c, result.project, 200);
};

export const patch: AppRouteHandler<PatchRoute> = async (c) => {
  const { id } = c.req.valid("param");
  const ifMatch = preconditionsOf(c.req.valid("header"));
  requireRateAsWritten(await c.req.arrayBuffer());
  const result = await updateProject(c.get("db"), c.get("caller"), id, c.req.valid("json"), ifMatch);
  requireManager(result.role, "change projects");
  if (!result.found) throw projectNotFound();
  if (result.precondition_failed) throw preconditionFailed("project", result.precondition_failed);
  if (!result.customer_found) throw unknownCustomer();
  if (!result.project) throw new Error("the update matched no row although every check passed");
  return resourceAnswer(c, result.project, 200);
};

export const remove: AppRouteHandler<RemoveRoute> = async (c) => {
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const result = await deleteProject(c.get("db"), c.get("caller"), c.req.valid("param").id, ifMatch);
  requireManager(result.role, "delete projects");
  if (!result.found) throw projectNotFound();
  if (result.precondition_failed) throw preconditionFailed("project", result.precondition_failed);
  if (result.in_use) throw projectInUse();
  return c.body(null, 204);
};
