import { createRoute, z } from "@hono/zod-openapi";
import { etagHeader, IfMatchHeaders, ifMatchRule, noChangeRule } from "../../lib/conditional";
import { errorResponses } from "../../lib/error-responses";
import { authErrors, bodyErrors, jsonContent as json, jsonBody, noBodyErrors, scoped } from "../../lib/openapi-helpers";
import { IdParams } from "../../lib/schemas";
import {
  CreateWebhookBody,
  exampleWebhookId,
  ListWebhooksQuery,
  UpdateWebhookBody,
  WebhookEnvelope,
  WebhookPage,
  WebhookWithSecretEnvelope,
} from "./webhooks.schemas";

export const tags = ["Webhooks"];
export const read = scoped("webhooks:read");
export const write = scoped("webhooks:write");
export const managersOnly =
  "Webhook subscriptions are for owner and admin only, reading included (a member gets 403 `FORBIDDEN`).";
/** A subscription sends its events' resources to a URL of the caller's choosing (requireEventScopes). */
const eventScopesRule =
  "Needs scope `webhooks:write` for OAuth tokens, and the read scopes of the data its `events` carry (`*`: all of them): `entries:read` for `time_entry.*`, `timer.*` and `project.*`, `invoices:read` for `customer.*` and `invoice.*`, `team:read` for `member.*`; without them it is 403 `INSUFFICIENT_SCOPE`, `details.required_scope` (and the `WWW-Authenticate` scope) listing the missing ones, space separated, and nothing changes.";

const urlRule =
  "`url` must be an `https` URL with a public host (see the field's description); a refused URL is 400 `VALIDATION_ERROR` on `url`.";

export const list = createRoute({
  operationId: "listWebhooks",
  method: "get",
  path: "/v1/webhooks",
  tags,
  summary: "List webhook subscriptions",
  description: `Oldest first (ties by id), with keyset pagination: pass \`meta.next_cursor\` as \`cursor\` for the next page. Secrets are never listed. ${managersOnly} Needs scope \`webhooks:read\` for OAuth tokens.`,
  ...read,
  request: { query: ListWebhooksQuery },
  responses: {
    200: json(WebhookPage, "A page of webhook subscriptions."),
    ...errorResponses("VALIDATION_ERROR", "INVALID_CURSOR", ...authErrors),
  },
});

export const create = createRoute({
  operationId: "createWebhook",
  method: "post",
  path: "/v1/webhooks",
  tags,
  summary: "Subscribe a URL to events",
  description: `Every change of an event type in \`events\` is then POSTed to \`url\`, signed with the subscription's secret (Standard Webhooks: \`webhook-id\`, \`webhook-timestamp\`, \`webhook-signature\`). The answer is the only one that shows \`secret\`. An organization keeps at most 20 subscriptions, active or disabled, unless its limit was raised on request (each is a delivery written by every change it takes): one more is 409 \`WEBHOOK_LIMIT_REACHED\`. ${urlRule} ${managersOnly} ${eventScopesRule}`,
  ...write,
  request: { body: jsonBody(CreateWebhookBody, "The subscription to create.") },
  responses: {
    201: {
      ...json(WebhookWithSecretEnvelope, "The created subscription, with its signing secret (shown only here)."),
      headers: z.object({
        Location: z
          .string()
          .openapi({ description: "URL of the new subscription.", example: `/v1/webhooks/${exampleWebhookId}` }),
        ...etagHeader.shape,
      }),
    },
    ...errorResponses("WEBHOOK_LIMIT_REACHED", ...bodyErrors, ...authErrors),
  },
});

export const getOne = createRoute({
  operationId: "getWebhook",
  method: "get",
  path: "/v1/webhooks/{id}",
  tags,
  summary: "Get a webhook subscription",
  description: `Another organization's subscription is 404 like an id that does not exist. ${managersOnly} Needs scope \`webhooks:read\` for OAuth tokens.`,
  ...read,
  request: { params: IdParams },
  responses: {
    200: { ...json(WebhookEnvelope, "The subscription, without its secret."), headers: etagHeader },
    ...errorResponses("VALIDATION_ERROR", "NOT_FOUND", ...authErrors),
  },
});

export const patch = createRoute({
  operationId: "updateWebhook",
  method: "patch",
  path: "/v1/webhooks/{id}",
  tags,
  summary: "Update a webhook subscription",
  description: `Changes any subset of \`url\`, \`events\`, \`description\` and \`active\`. \`active: false\` stops deliveries (\`status: disabled\`); \`active: true\` re-enables a subscription, disabled by hand or by the API after too many failed events (\`status: healthy\`); one the API disabled because its stored URL is refused by the rules (written in SQL, or refused by a newer rule) needs a new \`url\`, checked as on create, with it (or in a PATCH that changed the URL before): otherwise it is 400 \`VALIDATION_ERROR\` on \`url\` and nothing changes. While disabled, its events are not recorded at all (catch up with the sync feed, \`updated_since\`); deliveries that failed, before or at the disabling, can be sent again with the deliveries' retry. ${urlRule} ${noChangeRule} ${ifMatchRule} ${managersOnly} ${eventScopesRule} A token lacking them is refused after 404 and the caller's rights, before 412, whatever the PATCH changes: the subscription would go on sending data the token may not read.`,
  ...write,
  request: { params: IdParams, headers: IfMatchHeaders, body: jsonBody(UpdateWebhookBody, "The fields to change.") },
  responses: {
    200: { ...json(WebhookEnvelope, "The updated subscription."), headers: etagHeader },
    ...errorResponses("NOT_FOUND", "PRECONDITION_FAILED", ...bodyErrors, ...authErrors),
  },
});

export const remove = createRoute({
  operationId: "deleteWebhook",
  method: "delete",
  path: "/v1/webhooks/{id}",
  tags,
  summary: "Delete a webhook subscription",
  description: `Deletes the subscription and its deliveries log; nothing more is delivered to it. ${ifMatchRule} ${managersOnly} Needs scope \`webhooks:write\` for OAuth tokens.`,
  ...write,
  request: { params: IdParams, headers: IfMatchHeaders },
  responses: {
    204: { description: "Deleted." },
    ...errorResponses("VALIDATION_ERROR", "NOT_FOUND", "PRECONDITION_FAILED", ...noBodyErrors, ...authErrors),
  },
});

export const rotateSecret = createRoute({
  operationId: "rotateWebhookSecret",
  method: "post",
  path: "/v1/webhooks/{id}/rotate-secret",
  tags,
  summary: "Rotate a webhook subscription's signing secret",
  description: `Issues a new secret, shown only in this answer. For the next 24 hours every delivery is signed with both the new and the previous secret (two entries in \`webhook-signature\`), so a receiver can switch to the new one without losing a message; then only with the new one. Rotating again within those 24 hours retires the older previous secret at once. A rotation is a change of the subscription (a new \`version\`). ${ifMatchRule} ${managersOnly} ${eventScopesRule} The secret signs the subscription's events, so a token that may not read their data may not hold it: refused after 404 and the caller's rights, before 412.`,
  ...write,
  request: { params: IdParams, headers: IfMatchHeaders },
  responses: {
    200: {
      ...json(WebhookWithSecretEnvelope, "The subscription with its new signing secret (shown only here)."),
      headers: etagHeader,
    },
    ...errorResponses("VALIDATION_ERROR", "NOT_FOUND", "PRECONDITION_FAILED", ...noBodyErrors, ...authErrors),
  },
});

export type ListRoute = typeof list;
export type CreateRoute = typeof create;
export type GetOneRoute = typeof getOne;
export type PatchRoute = typeof patch;
export type RemoveRoute = typeof remove;
export type RotateSecretRoute = typeof rotateSecret;
