import { requireManager, requireMember } from "../../db/membership";
import { preconditionsOf } from "../../lib/conditional";
import { resourceAnswer } from "../../lib/crud-responses";
import { preconditionFailed } from "../../lib/errors";
import type { AppRouteHandler } from "../../lib/types";
import { getOrganization, updateOrganization } from "./organizations.queries";
import type { GetCurrentRoute, PatchCurrentRoute } from "./organizations.routes";

export const getCurrent: AppRouteHandler<GetCurrentRoute> = async (c) => {
  const result = await getOrganization(c.get("db"), c.get("caller"));
  requireMember(result.role);
  if (!result.organization) throw new Error("a member's organization is missing");
  return resourceAnswer(c, result.organization, 200);
};

export const patchCurrent: AppRouteHandler<PatchCurrentRoute> = async (c) => {
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const result = await updateOrganization(c.get("db"), c.get("caller"), c.req.valid("json"), ifMatch);
  requireManager(result.role, "change the organization");
  if (result.precondition_failed) throw preconditionFailed("organization", result.precondition_failed);
  if (!result.organization) throw new Error("the update matched no row although every check passed");
  return resourceAnswer(c, result.organization, 200);
};
