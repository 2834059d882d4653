import { sql } from "drizzle-orm";
import { ApiError } from "../lib/errors";
import type { Caller } from "../lib/verify-token";

export type Role = "owner" | "admin" | "member";

/**
 * The caller's active membership, as a CTE named `member`. Every statement starts
 * with it so that authorization costs no extra round trip and a removed member
 * loses access on their very next request.
 */
export const memberCte = (caller: Caller) =>
  sql`member as (
    select organization_id, role from organization_members
    where organization_id = ${caller.organizationId}::uuid and user_id = ${caller.userId}::uuid and status = 'active'
  )`;

export const callerRole = sql`(select role from member)`;
export const callerIsManager = sql`(select role from member) in ('owner', 'admin')`;
export const callerIsMember = sql`exists (select 1 from member)`;

/** owner and admin see every row of their organization; a member only their own. */
export const visibleTo = (caller: Caller, alias: string) =>
  sql`(${callerIsManager} or (${sql.raw(alias)}.user_id = ${caller.userId}::uuid and ${callerIsMember}))`;

/** A statement's `role` column is null when the caller is not a member of the token's organization. */
export function requireMember(role: Role | null): Role {
  if (!role) throw notAMember();
  return role;
}

export const notAMember = () => new ApiError("FORBIDDEN", "You are not a member of this organization");

export const isManager = (role: Role) => role === "owner" || role === "admin";

/** Writes to customers, projects and invoices are for owners and admins. */
export function requireManager(role: Role | null, action: string): Role {
  const known = requireMember(role);
  if (!isManager(known)) throw new ApiError("FORBIDDEN", `Only owners and admins can ${action}`);
  return known;
}
