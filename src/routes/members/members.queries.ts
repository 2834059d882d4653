import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { deliveriesColumn, outboxCtes, queryWithEvents, resourceRows, updateRows } from "../../db/events";
import { callerIsManager, callerIsMember, callerRole, memberCte } from "../../db/membership";
import { changedFields, queryOne, withConstraintErrors } from "../../db/query";
import { afterName, containsPattern, isoUtcText, nameOrder } from "../../db/sql-fragments";
import { failedPrecondition, versionMatches } from "../../db/versions";
import type { FailedPrecondition, IfMatch } from "../../lib/conditional";
import { ApiError } from "../../lib/errors";
import type { Caller } from "../../lib/verify-token";
import { changedEntryRows, entryRows } from "../time-entries/entry-json";
import type { AddMemberBody, ListMembersQuery, Member, Role, UpdateMemberBody } from "./members.schemas";

// Every function here is one SQL statement: the caller's membership, the role rules and the write share it.
// The rule that an organization keeps an active owner is the database's (organization_members_keep_an_owner).

/** A membership `m` as the API shows it: the person as this organization knows them. */
const memberJson = (m: string) =>
  sql.raw(`json_build_object(
    'id', ${m}.user_id, 'role', ${m}.role, 'status', ${m}.status,
    'joined_at', ${isoUtcText(`${m}.joined_at`)}, 'removed_at', ${isoUtcText(`${m}.removed_at`)},
    'version', ${m}.version,
    'user', json_build_object('id', ${m}.user_id, 'email', ${m}.email, 'full_name', ${m}.full_name, 'avatar_url', ${m}.avatar_url)
  )`);

/** The membership in `source` (a CTE of one organization_members row) as the API shows it, for webhook events. */
const memberOf = (source: string) => sql`(select ${memberJson("x")} from ${sql.raw(source)} x)`;

/** Members sort by name, or by e-mail address where a member has none; the cursor holds this and the id. */
const sortName = (m: string) => sql.raw(`coalesce(${m}.full_name, ${m}.email)`);
export const sortNameOf = (member: Member) => member.user.full_name ?? member.user.email;

export const lastOwner = () =>
  new ApiError("LAST_OWNER", "The organization must keep at least one active owner; make someone else owner first");

const lastOwnerErrors = { organization_members_last_owner: lastOwner };

/**
 * The role the target `t` holds: none once removed, so that an admin asking to change or remove a removed former
 * owner hears 409 MEMBER_REMOVED, as for any removed member, and may reinstate them (POST) as anyone else.
 */
const heldRole = sql`case when t.status = 'active' then t.role end`;

/** Only owners and admins manage members, and only an owner touches an owner or makes one. */
const mayManage = (targetRole: SQL, newRole: SQL) =>
  sql`(${callerIsManager} and ((${targetRole}) is distinct from 'owner' and (${newRole}) is distinct from 'owner'
    or ${callerRole} = 'owner'))`;

export type MemberFilter = Omit<ListMembersQuery, "cursor" | "limit"> & {
  limit: number;
  after?: { name: string; id: string };
};

export async function listMembers(db: Db, caller: Caller, filter: MemberFilter) {
  const conditions: SQL[] = [sql`m.organization_id = ${caller.organizationId}::uuid`, callerIsMember];
  if (filter.status !== "all") conditions.push(sql`m.status = ${filter.status}`);
  if (filter.role) conditions.push(sql`m.role = ${filter.role}`);
  if (filter.q) {
    const pattern = containsPattern(filter.q);
    conditions.push(sql`(m.full_name ilike ${pattern} or m.email ilike ${pattern})`);
  }
  if (filter.after) {
    conditions.push(afterName(sortName("m"), sql`m.user_id`, filter.after));
  }
  return queryOne<{ role: Role | null; members: Member[] }>(
    db,
    sql`with ${memberCte(caller)},
    page as (
      select m.*, ${sortName("m")} as sort_name
      from organization_members m
      where ${sql.join(conditions, sql` and `)}
      order by ${nameOrder(sortName("m"), sql`m.user_id`)} limit ${filter.limit + 1}
    )
    select ${callerRole} as role,
      coalesce(
        (select json_agg(${memberJson("p")} order by ${nameOrder(sql`p.sort_name`, sql`p.user_id`)}) from page p),
        '[]'::json
      ) as members`,
  );
}

export async function getMember(db: Db, caller: Caller, userId: string) {
  return queryOne<{ role: Role | null; member: Member | null }>(
    db,
    sql`with ${memberCte(caller)}
    select ${callerRole} as role,
      (select ${memberJson("m")} from organization_members m
       where m.organization_id = ${caller.organizationId}::uuid and m.user_id = ${userId}::uuid and ${callerIsMember}
      ) as member`,
  );
}

/**
 * Adds the person with this e-mail address (compared case-insensitively): a new user record for an address nobody
 * has, a new membership for an existing user, or the reinstatement of a removed member with their history. The
 * membership holds what this organization shows of them: the address as given, the name and the avatar, which a
 * reinstatement keeps unless the body gives new ones.
 */
export async function addMember(db: Db, caller: Caller, body: AddMemberBody) {
  const role = sql`${body.role}::text`;
  // On reinstatement a field the body leaves out keeps its value; one it gives, null included, replaces it.
  const kept = (field: "full_name" | "avatar_url") =>
    sql.raw(`${field} = ${body[field] === undefined ? "organization_members" : "excluded"}.${field}`);
  return withConstraintErrors(
    () =>
      queryWithEvents<{ role: Role | null; allowed: boolean; user_id: string | null; member: Member | null }>(
        db,
        sql`with ${memberCte(caller)},
        allowed as (select where ${mayManage(sql`null::text`, role)}),
        existing_user as (select id from users where lower(email) = lower(${body.email})),
        -- A user created concurrently with the same address is taken as it is (the update is a no-op that returns it).
        new_user as (
          insert into users (email)
          select ${body.email} where exists (select from allowed) and not exists (select from existing_user)
          on conflict ((lower(email))) do update set email = users.email
          returning id
        ),
        subject as (select id from new_user union all select id from existing_user),
        joined as (
          insert into organization_members (organization_id, user_id, role, email, full_name, avatar_url)
          select ${caller.organizationId}::uuid, s.id, ${role}, ${body.email}, ${body.full_name ?? null}::text,
            ${body.avatar_url ?? null}::text
          from subject s where exists (select from allowed)
          on conflict (organization_id, user_id) do update
            set role = excluded.role, status = 'active', removed_at = null, joined_at = now(), email = excluded.email,
              ${kept("full_name")}, ${kept("avatar_url")}
            where organization_members.status = 'removed'
          returning *
        ),
        ${outboxCtes(caller.organizationId, [
          {
            type: "member.added",
            rows: resourceRows(sql`(select ${memberJson("j")} from joined j)`),
          },
        ])}
        select ${callerRole} as role, exists (select from allowed) as allowed, (select id from subject) as user_id,
          (select ${memberJson("j")} from joined j) as member, ${deliveriesColumn}`,
      ),
    lastOwnerErrors,
  );
}

type MemberWrite = {
  role: Role | null;
  found: boolean;
  precondition_failed: FailedPrecondition | null;
  allowed: boolean;
  removed: boolean;
};

/** The member `userId` of the caller's organization, locked so that the checks see it as the write will. */
const targetCte = (caller: Caller, userId: string) =>
  sql`target as (
    select m.* from organization_members m
    where m.organization_id = ${caller.organizationId}::uuid and m.user_id = ${userId}::uuid and ${callerIsMember}
    for update
  )`;

const targetVerdicts = (ifMatch: IfMatch | undefined) =>
  sql`exists (select from target) as found, ${failedPrecondition("target", ifMatch)} as precondition_failed,
    coalesce((select status = 'removed' from target), false) as removed`;

/**
 * Changes a member's role or profile. A role is for those who manage the member; a profile also for the member
 * themselves.
 */
export async function updateMember(db: Db, caller: Caller, userId: string, body: UpdateMemberBody, ifMatch?: IfMatch) {
  const fields = changedFields(body, { role: "text", full_name: "text", avatar_url: "text" });
  const self = userId.toLowerCase() === caller.userId.toLowerCase();
  const allowed = fields.has("role")
    ? mayManage(heldRole, fields.value("role"))
    : self
      ? sql`${callerIsMember}`
      : mayManage(heldRole, sql`null::text`);
  const ok = sql`t.status = 'active' and ${versionMatches("t.version", ifMatch)} and ${allowed}`;
  return withConstraintErrors(
    () =>
      queryWithEvents<MemberWrite & { member: Member | null }>(
        db,
        sql`with ${memberCte(caller)}, ${targetCte(caller, userId)},
        updated as (
          update organization_members m set ${sql.join(fields.assignments, sql`, `)}
          from target t
          where m.organization_id = t.organization_id and m.user_id = t.user_id and ${ok} and ${fields.differs("t")}
          returning m.*
        ),
        ${fields.answered(ok)},
        ${outboxCtes(caller.organizationId, [{ type: "member.updated", rows: updateRows(memberOf, "target", "updated") }])}
        select ${callerRole} as role, ${targetVerdicts(ifMatch)}, ${deliveriesColumn},
          coalesce((select ${allowed} from target t), false) as allowed,
          (select ${memberJson("x")} from answered x) as member`,
      ),
    lastOwnerErrors,
  );
}

/**
 * Offboarding: the membership becomes `removed` and the member's running timer, if any, stops at that moment (or a
 * second after its start, for one that starts later). Their user, entries and invoices stay as they are. A member may
 * remove themselves.
 */
export async function removeMember(db: Db, caller: Caller, userId: string, ifMatch?: IfMatch) {
  const self = userId.toLowerCase() === caller.userId.toLowerCase();
  const allowed = self ? sql`${callerIsMember}` : mayManage(heldRole, sql`null::text`);
  return withConstraintErrors(
    () =>
      queryWithEvents<MemberWrite & { stopped_entry_id: string | null }>(
        db,
        sql`with ${memberCte(caller)}, ${targetCte(caller, userId)},
        removed as (
          update organization_members m set status = 'removed', removed_at = now()
          from target t
          where m.organization_id = t.organization_id and m.user_id = t.user_id and t.status = 'active'
            and ${versionMatches("t.version", ifMatch)} and ${allowed}
          returning m.*
        ),
        -- In a statement of its own (drizzle/0010), whose fresh snapshot, taken once the membership is locked, also
        -- sees a timer started by a write that held the lock first; the overlap trigger leaves the stop alone.
        stopped_timers as (
          select t.before, t.after from removed r
          cross join lateral offboarding_stop_timers(r.organization_id, r.user_id) t
        ),
        stopped as (select (s.after).* from stopped_timers s),
        stopped_before as (select (s.before).* from stopped_timers s),
        ${outboxCtes(caller.organizationId, [
          { type: "member.removed", rows: resourceRows(memberOf("removed")) },
          { type: "time_entry.updated", rows: changedEntryRows("stopped_before", "stopped") },
          { type: "timer.stopped", rows: entryRows("stopped") },
        ])}
        select ${callerRole} as role, ${targetVerdicts(ifMatch)}, ${deliveriesColumn},
          coalesce((select ${allowed} from target t), false) as allowed,
          (select id from stopped) as stopped_entry_id`,
      ),
    lastOwnerErrors,
  );
}
