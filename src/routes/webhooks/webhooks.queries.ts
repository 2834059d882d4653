import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { callerIsManager, callerRole, memberCte, type Role } from "../../db/membership";
import { changedFields, queryOne } from "../../db/query";
import { jsonObject } from "../../db/sql-fragments";
import { failedPrecondition, versionMatches } from "../../db/versions";
import type { FailedPrecondition, IfMatch } from "../../lib/conditional";
import type { Caller } from "../../lib/verify-token";
import { eventsAllowedTo } from "../../webhooks/event-types";
import type { CreateWebhookBody, UpdateWebhookBody, Webhook, WebhookWithSecret } from "./webhooks.schemas";

// Webhook subscriptions are for owners and admins only, reading included: every statement gates on the caller's
// role, and members get 403 from the handler.

/**
 * A subscription of `alias` as the API answers it; with `secret` only where it is shown (create, rotate). `events` are
 * the types it is delivered, without the NULL elements a subscription written in SQL may hold (in an array literal the
 * bare word NULL is one, and no check refuses it): a NULL matches no event, and the contract's list is of strings.
 */
export const webhookJson = (alias: string, withSecret = false) =>
  sql.raw(
    jsonObject(
      alias,
      [
        "id",
        "url",
        ["events", `array_remove(${alias}.events, null)`],
        "description",
        "active",
        "status",
        "version",
        ...(withSecret ? ["secret"] : []),
      ],
      ["created_at", "updated_at"],
    ),
  );

/** How long a rotated-out secret keeps signing, so receivers can switch without losing a message. */
const PREVIOUS_SECRET_HOURS = 24;

/** An organization's subscription, locked, for the caller if they are owner or admin: the CTE `target`. */
export const targetWebhook = (caller: Caller, id: string) =>
  sql`target as (
    select * from webhook_subscriptions w
    where w.organization_id = ${caller.organizationId}::uuid and w.id = ${id}::uuid and ${callerIsManager}
    for update
  )`;

export async function listWebhooks(
  db: Db,
  caller: Caller,
  page: { limit: number; after?: { createdAt: string; id: string } },
) {
  const conditions: SQL[] = [sql`w.organization_id = ${caller.organizationId}::uuid`, callerIsManager];
  if (page.after) {
    conditions.push(sql`(w.created_at, w.id) > (${page.after.createdAt}::timestamptz, ${page.after.id}::uuid)`);
  }
  return queryOne<{ role: Role | null; webhooks: Webhook[] }>(
    db,
    sql`with ${memberCte(caller)},
    page as (
      select * from webhook_subscriptions w where ${sql.join(conditions, sql` and `)}
      order by w.created_at, w.id limit ${page.limit + 1}
    )
    select ${callerRole} as role,
      coalesce((select json_agg(${webhookJson("w")} order by w.created_at, w.id) from page w), '[]'::json) as webhooks`,
  );
}

export async function getWebhook(db: Db, caller: Caller, id: string) {
  return queryOne<{ role: Role | null; webhook: Webhook | null }>(
    db,
    sql`with ${memberCte(caller)}
    select ${callerRole} as role,
      (select ${webhookJson("w")} from webhook_subscriptions w
       where w.organization_id = ${caller.organizationId}::uuid and w.id = ${id}::uuid and ${callerIsManager}) as webhook`,
  );
}

/** Event types as a text[] from JSON: the values are validated, but a parameter is still the safe way. */
const eventsArray = (events: string[]) => sql`array(select json_array_elements_text(${JSON.stringify(events)}::json))`;

export async function createWebhook(db: Db, caller: Caller, body: CreateWebhookBody, secret: string) {
  const active = body.active ?? true;
  return queryOne<{ role: Role | null; webhook: WebhookWithSecret | null }>(
    db,
    sql`with ${memberCte(caller)},
    inserted as (
      insert into webhook_subscriptions (organization_id, url, events, description, active, status, secret)
      select ${caller.organizationId}::uuid, ${body.url}, ${eventsArray(body.events)}, ${body.description ?? null},
        ${active}::boolean, ${active ? "healthy" : "disabled"}, ${secret}
      where ${callerIsManager}
      returning *
    )
    select ${callerRole} as role, (select ${webhookJson("w", true)} from inserted w) as webhook`,
  );
}

type WriteResult = {
  role: Role | null;
  found: boolean;
  precondition_failed: FailedPrecondition | null;
  webhook: Webhook | null;
};

type UpdateResult = WriteResult & {
  /** The subscription's URL, which a delivery found refused: it is not enabled again without a new one. */
  refused_url: string | null;
  /** The events the subscription would have, when the caller's token may not receive them all. */
  events_beyond_scopes: string[] | null;
};

const columnTypes = { url: "text", events: "text[]", description: "text", active: "boolean" } as const;

/**
 * Whether `events` (of the `target` subscription `t`) hold one whose data the caller's token may not read: a token
 * may keep a subscription, or hold its signing secret, only to what it could read itself (missingEventScopes).
 */
function beyondScopesOf(caller: Caller, events: SQL) {
  const allowed = eventsAllowedTo(caller.scopes);
  return allowed ? sql`not (${events} <@ ${eventsArray(allowed)})` : sql`false`;
}

export async function updateWebhook(db: Db, caller: Caller, id: string, changes: UpdateWebhookBody, ifMatch?: IfMatch) {
  const fields = changedFields({ ...changes, events: changes.events && eventsArray(changes.events) }, columnTypes);
  const assignments: SQL[] = [sql`updated_at = now()`, ...fields.assignments];
  // A URL in the body was checked by the rules as it came.
  if (changes.url !== undefined) assignments.push(sql`refused_url = null`);
  const reEnablesRefusedUrl =
    changes.active === true && changes.url === undefined ? sql`t.refused_url is not null` : sql`false`;
  if (changes.active !== undefined) {
    // Re-enabling starts afresh: healthy, no failures counted. Disabling is `disabled`.
    const active = fields.value("active");
    assignments.push(
      sql`status = case when not ${active} then 'disabled' when t.active then t.status else 'healthy' end`,
      sql`consecutive_failures = case when ${active} and not t.active then 0 else t.consecutive_failures end`,
    );
  }
  const resultingEvents = changes.events ? eventsArray(changes.events) : sql`t.events`;
  const beyondScopes = beyondScopesOf(caller, resultingEvents);
  const ok = sql`${versionMatches("t.version", ifMatch)} and not ${reEnablesRefusedUrl} and not ${beyondScopes}`;
  return queryOne<UpdateResult>(
    db,
    sql`with ${memberCte(caller)},
    ${targetWebhook(caller, id)},
    updated as (
      update webhook_subscriptions w set ${sql.join(assignments, sql`, `)}
      from target t where w.id = t.id and ${ok} and ${fields.differs("t")}
      returning w.*
    ),
    ${fields.answered(ok)}
    select ${callerRole} as role, exists (select 1 from target) as found,
      ${failedPrecondition("target", ifMatch)} as precondition_failed,
      (select t.url from target t where ${reEnablesRefusedUrl}) as refused_url,
      (select ${resultingEvents} from target t where ${beyondScopes}) as events_beyond_scopes,
      (select ${webhookJson("w")} from answered w) as webhook`,
  );
}

/** Deletes a subscription with its deliveries log; events already on the queue for it are dropped. */
export async function deleteWebhook(db: Db, caller: Caller, id: string, ifMatch?: IfMatch) {
  return queryOne<Omit<WriteResult, "webhook">>(
    db,
    sql`with ${memberCte(caller)},
    ${targetWebhook(caller, id)},
    deleted as (
      delete from webhook_subscriptions w using target t where w.id = t.id and ${versionMatches("t.version", ifMatch)}
      returning w.id
    )
    select ${callerRole} as role, exists (select 1 from target) as found,
      ${failedPrecondition("target", ifMatch)} as precondition_failed`,
  );
}

/**
 * A new secret; the current one becomes the previous and keeps signing for 24 hours (a previous one still in its
 * 24 hours stops now: at most two secrets sign at once).
 */
export async function rotateWebhookSecret(db: Db, caller: Caller, id: string, secret: string, ifMatch?: IfMatch) {
  const beyondScopes = beyondScopesOf(caller, sql`t.events`);
  return queryOne<{
    role: Role | null;
    found: boolean;
    precondition_failed: FailedPrecondition | null;
    webhook: WebhookWithSecret | null;
    events_beyond_scopes: string[] | null;
  }>(
    db,
    sql`with ${memberCte(caller)},
    ${targetWebhook(caller, id)},
    updated as (
      update webhook_subscriptions w set secret = ${secret}, previous_secret = t.secret,
        previous_secret_expires_at = now() + make_interval(hours => ${PREVIOUS_SECRET_HOURS}), updated_at = now()
      from target t where w.id = t.id and ${versionMatches("t.version", ifMatch)} and not ${beyondScopes}
      returning w.*
    )
    select ${callerRole} as role, exists (select 1 from target) as found,
      ${failedPrecondition("target", ifMatch)} as precondition_failed,
      (select t.events from target t where ${beyondScopes}) as events_beyond_scopes,
      (select ${webhookJson("w", true)} from updated w) as webhook`,
  );
}
