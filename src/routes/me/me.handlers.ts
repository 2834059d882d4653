import { sql } from "drizzle-orm";
import { requireMember } from "../../db/membership";
import { queryOne } from "../../db/query";
import type { WeekDay } from "../../db/week-days";
import type { AppRouteHandler } from "../../lib/types";
import { ALL_SCOPES, type GetMeRoute } from "./me.routes";

export const getMe: AppRouteHandler<GetMeRoute> = async (c) => {
  const caller = c.get("caller");
  const row = await queryOne<{
    role: "owner" | "admin" | "member" | null;
    user: { id: string; full_name: string | null; email: string; avatar_url: string | null };
    organization: { id: string; name: string | null; timezone: string; week_start: WeekDay; prevent_overlaps: boolean };
  }>(
    c.get("db"),
    sql`select m.role,
      json_build_object('id', m.user_id, 'full_name', m.full_name, 'email', m.email, 'avatar_url', m.avatar_url) as user,
      json_build_object('id', o.id, 'name', o.name, 'timezone', o.timezone, 'week_start', o.week_start,
        'prevent_overlaps', o.prevent_overlaps) as organization
    from organization_members m
    join organizations o on o.id = m.organization_id
    where m.organization_id = ${caller.organizationId}::uuid and m.user_id = ${caller.userId}::uuid
      and m.status = 'active'`,
  );
  const role = requireMember(row?.role ?? null);
  return c.json(
    {
      data: {
        user: row.user,
        organization: row.organization,
        role,
        scopes: caller.scopes ? ALL_SCOPES.filter((scope) => caller.scopes?.includes(scope)) : [...ALL_SCOPES],
        token_type: caller.tokenType,
        client_id: caller.clientId,
      },
    },
    200,
  );
};
