import { z } from "@hono/zod-openapi";
import type { PostgresError } from "../../db/errors";
import { requireManager } from "../../db/membership";
import { withConstraintErrors } from "../../db/query";
import { entityTag, preconditionsOf } from "../../lib/conditional";
import { readConfig } from "../../lib/config";
import { decodeCursor } from "../../lib/cursor";
import { ApiError, invalidField, notFound, preconditionFailed } from "../../lib/errors";
import { pageAnswer } from "../../lib/pagination";
import { Id, UtcTimestamp } from "../../lib/schemas";
import type { AppRouteHandler, Bindings } from "../../lib/types";
import { insufficientScope } from "../../middleware/auth";
import { missingEventScopes } from "../../webhooks/event-types";
import { newSigningSecret } from "../../webhooks/signature";
import { refusedWebhookUrl } from "../../webhooks/url-policy";
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhooks,
  rotateWebhookSecret,
  updateWebhook,
} from "./webhooks.queries";
import type {
  CreateRoute,
  GetOneRoute,
  ListRoute,
  PatchRoute,
  RemoveRoute,
  RotateSecretRoute,
} from "./webhooks.routes";

const WebhookCursor = z.tuple([UtcTimestamp, Id]);
/** The trigger that keeps an organization to its limit (drizzle/0015_webhook_subscriptions_limit.sql). */
const SUBSCRIPTIONS_LIMIT = "webhook_subscriptions_per_organization_limit";
const subscriptionsLimitReached = (error: PostgresError) => {
  const limit = Number(error.detail);
  return new ApiError(
    "WEBHOOK_LIMIT_REACHED",
    `The organization has reached its limit of ${limit} webhook subscriptions; delete one first`,
    { limit },
  );
};
export const webhookNotFound = () => notFound("Webhook subscription");

/** A URL that may not receive webhooks (SSRF rules, src/webhooks/url-policy.ts) is a 400 on `url`. */
function requireAllowedUrl(url: string | undefined, env: Bindings) {
  const refused = url === undefined ? undefined : refusedWebhookUrl(url, readConfig(env).webhooks);
  if (refused) throw invalidField("url", refused);
}

/**
 * 403 INSUFFICIENT_SCOPE for an OAuth token that lacks a read scope of `events`: a subscription sends their resources
 * to a URL of the caller's choosing, so a token may subscribe only to what it could read itself.
 */
function requireEventScopes(events: readonly string[], scopes: readonly string[] | null) {
  const missing = missingEventScopes(events, scopes);
  if (missing.length === 0) return;
  const names = missing.length > 1 ? `${missing.slice(0, -1).join(", ")} and ${missing.at(-1)}` : missing[0];
  throw insufficientScope(
    missing.join(" "),
    `These events carry data the token may not read: subscribing to them needs the ${names} scope${missing.length > 1 ? "s" : ""}`,
  );
}

export const list: AppRouteHandler<ListRoute> = async (c) => {
  const query = c.req.valid("query");
  const cursor = query.cursor ? decodeCursor(query.cursor, "webhooks", WebhookCursor, c.req.url) : undefined;
  const page = await listWebhooks(c.get("db"), c.get("caller"), {
    limit: query.limit,
    after: cursor && { createdAt: cursor[0], id: cursor[1] },
  });
  requireManager(page.role, "read webhook subscriptions");
  return pageAnswer(c, "webhooks", page.webhooks, query.limit, (webhook) => [webhook.created_at, webhook.id]);
};

export const create: AppRouteHandler<CreateRoute> = async (c) => {
  const body = c.req.valid("json");
  requireEventScopes(body.events, c.get("caller").scopes);
  requireAllowedUrl(body.url, c.env);
  const result = await withConstraintErrors(
    () => createWebhook(c.get("db"), c.get("caller"), body, newSigningSecret()),
    {
      [SUBSCRIPTIONS_LIMIT]: subscriptionsLimitReached,
    },
  );
  requireManager(result.role, "create webhook subscriptions");
  if (!result.webhook) throw new Error("the insert returned no row although the caller may write");
  c.header("Location", `/v1/webhooks/${result.webhook.id}`);
  c.header("ETag", entityTag(result.webhook.version));
  return c.json({ data: result.webhook }, 201);
};

export const getOne: AppRouteHandler<GetOneRoute> = async (c) => {
  const result = await getWebhook(c.get("db"), c.get("caller"), c.req.valid("param").id);
  requireManager(result.role, "read webhook subscriptions");
  if (!result.webhook) throw webhookNotFound();
  c.header("ETag", entityTag(result.webhook.version));
  return c.json({ data: result.webhook }, 200);
};

export const patch: AppRouteHandler<PatchRoute> = async (c) => {
  const changes = c.req.valid("json");
  requireAllowedUrl(changes.url, c.env);
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const result = await updateWebhook(c.get("db"), c.get("caller"), c.req.valid("param").id, changes, ifMatch);
  requireManager(result.role, "change webhook subscriptions");
  if (!result.found) throw webhookNotFound();
  if (result.events_beyond_scopes) requireEventScopes(result.events_beyond_scopes, c.get("caller").scopes);
  if (result.precondition_failed) throw preconditionFailed("webhook subscription", result.precondition_failed);
  if (result.refused_url !== null) {
    const reason = refusedWebhookUrl(result.refused_url, readConfig(c.env).webhooks);
    throw invalidField(
      "url",
      `The stored URL was refused when an event was to be delivered${reason ? ` (${reason[0]?.toLowerCase()}${reason.slice(1)})` : ""}; send a url the rules take, with active: true`,
    );
  }
  if (!result.webhook) throw new Error("the update matched no row although every check passed");
  c.header("ETag", entityTag(result.webhook.version));
  return c.json({ data: result.webhook }, 200);
};

export const remove: AppRouteHandler<RemoveRoute> = async (c) => {
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const result = await deleteWebhook(c.get("db"), c.get("caller"), c.req.valid("param").id, ifMatch);
  requireManager(result.role, "delete webhook subscriptions");
  if (!result.found) throw webhookNotFound();
  if (result.precondition_failed) throw preconditionFailed("webhook subscription", result.precondition_failed);
  return c.body(null, 204);
};

export const rotateSecret: AppRouteHandler<RotateSecretRoute> = async (c) => {
  const ifMatch = preconditionsOf(c.req.valid("header"));
  const { id } = c.req.valid("param");
  const result = await rotateWebhookSecret(c.get("db"), c.get("caller"), id, newSigningSecret(), ifMatch);
  requireManager(result.role, "rotate webhook secrets");
  if (!result.found) throw webhookNotFound();
  if (result.events_beyond_scopes) requireEventScopes(result.events_beyond_scopes, c.get("caller").scopes);
  if (result.precondition_failed) throw preconditionFailed("webhook subscription", result.precondition_failed);
  if (!result.webhook) throw new Error("the rotation matched no row although every check passed");
  c.header("ETag", entityTag(result.webhook.version));
  return c.json({ data: result.webhook }, 200);
};
