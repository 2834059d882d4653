import { z } from "@hono/zod-openapi";
import { requireManager, requireMember } from "../../db/membership";
import { preconditionsOf } from "../../lib/conditional";
import { resourceAnswer } from "../../lib/crud-responses";
import { decodeCursor } from "../../lib/cursor";
import { ApiError, notFound, preconditionFailed } from "../../lib/errors";
import { pageAnswer } from "../../lib/pagination";
import { Id, storableText } from "../../lib/schemas";
import type { AppRouteHandler } from "../../lib/types";
import { addMember, getMember, listMembers, removeMember, sortNameOf, updateMember } from "./members.queries";
import type { CreateRoute, GetOneRoute, ListRoute, PatchRoute, RemoveRoute } from "./members.routes";

const MemberCursor = z.tuple([z.string().superRefine(storableText), Id]);
const memberNotFound = () => notFound("Member");
const memberRemoved = () =>
  new ApiError("MEMBER_REMOVED", "The member has been removed; reinstate them with POST /v1/members");
const ownersOnly = () =>
  new ApiError("FORBIDDEN", "Only an owner can change an owner or grant the owner role; admins manage the others");

export const list: AppRouteHandler<ListRoute> = async (c) => {
  const { cursor, ...query } = c.req.valid("query");
  const after = cursor ? decodeCursor(cursor, "members", MemberCursor, c.req.url) : undefined;
  const page = await listMembers(c.get("db"), c.get("caller"), {
    ...query,
    after: after && { name: after[0], id: after[1] },
  });
  requireMember(page.role);
  return pageAnswer(c, "members", page.members, query.limit, (member) => [sortNameOf(member), member.id]);
};

export const create: AppRouteHandler<CreateRoute> = async (c) => {
  const body = c.req.valid("json");
  const result = await addMember(c.get("db"), c.get("caller"), body);
  requireManager(result.role, "add members");
  // `allowed` is the statement's verdict, stored with a key; a replay answers for the role the caller has now.
  if (!result.allowed || (body.role === "owner" && result.role !== "owner")) throw ownersOnly();
  if (!result.member) {
    // The only membership the upsert leaves alone is an active one.
    throw new ApiError("ALREADY_MEMBER", `${body.email} is already a member of this organization`, {
      user_id: result.user_id,
    });
  }
  return resourceAnswer(c, result.member, 201, `/v1/members/${result.member.id}`);
};

export const getOne: AppRouteHandler<GetOneRoute> = async (c) => {
  const result = await getMember(c.get("db"), c.get("caller"), c.req.valid("param").userId);
  requireMember(result.role);
  if (!result.member) throw memberNotFound();
  return resourceAnswer(c, result.member, 200);
};

export const patch: AppRouteHandler<PatchRoute> = async (c) => {
  const { userId } = c.req.valid("param");
  const body = c.req.valid("json");
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const result = await updateMember(c.get("db"), c.get("caller"), userId, body, ifMatch);
  // A member is allowed their own profile only (the statement's rule), and hears so before a 404.
  if (requireMember(result.role) === "member" && !result.allowed) {
    throw new ApiError("FORBIDDEN", "Members can only change their own name and avatar");
  }
  if (!result.found) throw memberNotFound();
  // Who may change whom is the caller's rights (403), which come before a stale copy (412), as everywhere.
  if (!result.allowed) throw ownersOnly();
  if (result.precondition_failed) throw preconditionFailed("member", result.precondition_failed);
  if (result.removed) throw memberRemoved();
  if (!result.member) throw new Error("the update matched no row although every check passed");
  return resourceAnswer(c, result.member, 200);
};

export const remove: AppRouteHandler<RemoveRoute> = async (c) => {
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const result = await removeMember(c.get("db"), c.get("caller"), c.req.valid("param").userId, ifMatch);
  // A member may remove themselves only (the statement's rule), and hears so before a 404, as PATCH says it.
  if (requireMember(result.role) === "member" && !result.allowed) {
    throw new ApiError("FORBIDDEN", "Members can only remove themselves");
  }
  if (!result.found) throw memberNotFound();
  if (!result.allowed) throw ownersOnly();
  if (result.precondition_failed) throw preconditionFailed("member", result.precondition_failed);
  if (result.removed) throw memberRemoved();
  return c.body(null, 204);
};
