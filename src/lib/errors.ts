import { z } from "@hono/zod-openapi";
import type { FailedPrecondition } from "./conditional";

/** Every error the API answers with: its HTTP status and what it means. */
export const errorCatalog = {
  VALIDATION_ERROR: {
    status: 400,
    description: "The request is malformed: `details` maps each offending field to its messages.",
  },
  INVALID_CURSOR: { status: 400, description: "The `cursor` is not one this API issued for this list." },
  UNAUTHORIZED: {
    status: 401,
    description:
      "No bearer token, or the token is malformed, expired, not yet valid, wrongly signed or meant for another issuer or audience.",
  },
  FORBIDDEN: {
    status: 403,
    description: "The caller is not a member of the token's organization, or their role does not allow this.",
  },
  INSUFFICIENT_SCOPE: { status: 403, description: "The OAuth access token lacks the scope this operation needs." },
  NOT_FOUND: {
    status: 404,
    description:
      "No such resource in the caller's organization (or not visible to the caller). For operations on many ids, `details` lists the ids not found (`ids`, or `time_entry_ids`).",
  },
  TIMER_ALREADY_RUNNING: {
    status: 409,
    description: "The user already has a running timer: `details.running_entry_id` names it.",
  },
  TIMER_NOT_RUNNING: { status: 409, description: "The entry is not a running timer: it has already been stopped." },
  ENTRY_LOCKED: {
    status: 409,
    description:
      "The entry is attached to an invoice and cannot change. For a bulk edit, `details.ids` lists the locked entries.",
  },
  OVERLAP: {
    status: 409,
    description:
      "The organization has `prevent_overlaps` on and the entry would overlap another entry of the same user; `details.overlapping_entry_id` names it.",
  },
  IDEMPOTENCY_KEY_IN_USE: {
    status: 409,
    description: "A request with this `Idempotency-Key` is still being processed; retry after it completes.",
  },
  IDEMPOTENCY_KEY_MISMATCH: {
    status: 422,
    description: "This `Idempotency-Key` was used with a different request (method, path or body).",
  },
  IN_USE: {
    status: 409,
    description:
      "Other records still reference this one (a customer's projects or invoices, a project's time entries); nothing is deleted in cascade.",
  },
  DUPLICATE_NUMBER: { status: 409, description: "Another invoice of the organization already has this number." },
  ALREADY_MEMBER: {
    status: 409,
    description: "The person is already an active member of the organization: change their role with PATCH instead.",
  },
  MEMBER_REMOVED: {
    status: 409,
    description:
      "The member has been removed (offboarded): reinstate them with `POST /v1/members` and their e-mail address.",
  },
  LAST_OWNER: {
    status: 409,
    description:
      "The organization must keep at least one active owner: make someone else owner before this owner is demoted or removed.",
  },
  PROJECT_ON_DRAFT_INVOICE: {
    status: 409,
    description:
      "The project's time entries are on draft invoices, which bill the project's customer: detach them, or issue those invoices, before the project changes customer. `details.invoice_ids` names the drafts.",
  },
  PROJECT_INVOICED: {
    status: 409,
    description:
      "The project's time entries are on issued invoices (sent, overdue or paid), which billed the project's customer for them: the project keeps that customer for good. Record the other customer's work on a new project. `details.invoice_ids` names the invoices.",
  },
  PROJECT_INACTIVE: {
    status: 409,
    description:
      'The project is inactive (`active: false`): kept for its history, it takes no new time. An entry or a timer created on it, an entry moved to it, and one of its entries restarted or made to run again are refused; its entries stay editable otherwise. `details.project_id` names it; reactivate it with `PATCH {"active": true}` first.',
  },
  INVALID_STATUS_TRANSITION: {
    status: 409,
    description: "The invoice cannot move from its current status to the requested one: `details` names both.",
  },
  INVOICE_NOT_DRAFT: {
    status: 409,
    description: "Only a draft invoice can be edited, deleted, or have time entries attached or detached.",
  },
  ENTRIES_NOT_ATTACHABLE: {
    status: 409,
    description:
      "Some time entries cannot be attached or detached: `details` lists the offending ids by reason. Nothing was changed.",
  },
  WEBHOOK_DISABLED: {
    status: 409,
    description:
      'The webhook subscription is disabled (`active: false`): nothing is delivered to it until an admin re-enables it with `PATCH {"active": true}`.',
  },
  WEBHOOK_LIMIT_REACHED: {
    status: 409,
    description:
      "The organization has as many webhook subscriptions (active or disabled) as it may keep, 20 unless raised on request: delete one first. `details.limit` is its limit, also shown as `limits.webhook_subscriptions` of `GET /v1/organizations/current`.",
  },
  PRECONDITION_FAILED: {
    status: 412,
    description:
      "`If-Match` names no current version of the resource (or `If-None-Match` names its current one): someone changed it since you read it. Nothing was changed; GET it again for its current `ETag`.",
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    description: "The path exists but not with this method: the `Allow` header lists the methods it has.",
  },
  PAYLOAD_TOO_LARGE: { status: 413, description: "The request body is over 64 KiB." },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    description:
      "The request body must be `application/json`, uncompressed: a `Content-Encoding` other than `identity` is refused too (with `Accept-Encoding: identity`).",
  },
  RATE_LIMITED: {
    status: 429,
    description:
      "The caller (the token's user in its organization, and an OAuth token's client) sent more requests than the rate limit allows (`RateLimit-Policy`); retry after `Retry-After` seconds. Other members and clients of the organization are not held back.",
  },
  INTERNAL_ERROR: { status: 500, description: "Something failed on our side; the request id identifies it." },
  SERVICE_UNAVAILABLE: {
    status: 503,
    description:
      "A dependency (the database or the token issuer's key set) is unreachable, or the request lost a conflict with concurrent ones three times over (nothing was written); retry after `Retry-After` seconds.",
  },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof errorCatalog;
export type ErrorDetails = Record<string, unknown>;

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get status() {
    return errorCatalog[this.code].status;
  }

  toBody() {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

export const notFound = (what: string) => new ApiError("NOT_FOUND", `${what} not found`);

/** A request that kept losing to concurrent ones and wrote nothing: the client may send it again. */
export const keptColliding = () =>
  new ApiError("SERVICE_UNAVAILABLE", "The request kept colliding with concurrent ones; retry shortly", undefined, {
    "Retry-After": "1",
  });

/**
 * 412: the current version of `what` (e.g. "time entry") fails the request's preconditions; the message names the
 * header that failed, as the write's statement found it.
 */
export const preconditionFailed = (what: string, failed: FailedPrecondition) =>
  new ApiError(
    "PRECONDITION_FAILED",
    failed === "If-Match"
      ? `The ${what} has changed: If-Match does not match its current ETag`
      : failed === "If-None-Match: *"
        ? `The ${what} exists: If-None-Match: * holds only where there is none`
        : `The ${what} is at a version If-None-Match names: its current ETag`,
  );

/** A 400 naming one field, for checks only the database can make. */
export const invalidField = (field: string, message: string) =>
  new ApiError("VALIDATION_ERROR", `Invalid ${field}`, { [field]: [message] });

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(errorCatalog) as [ErrorCode, ...ErrorCode[]]).openapi({
        description: "Stable, machine-readable error code.",
      }),
      message: z.string().openapi({ description: "Human-readable explanation; may change." }),
      details: z
        .record(z.string(), z.unknown())
        .optional()
        .openapi({ description: "Structured context, e.g. field → messages for VALIDATION_ERROR." }),
    }),
  })
  .openapi("Error");

const examples: Record<ErrorCode, ErrorExample> = {
  VALIDATION_ERROR: {
    message: "Invalid request body",
    details: { start_time: ["Must be an RFC 3339 timestamp with an offset, e.g. 2026-11-28T09:00:00Z"] },
  },
  INVALID_CURSOR: { message: "The cursor is malformed or was not issued by this API" },
  UNAUTHORIZED: { message: "The token has expired" },
  FORBIDDEN: { message: "You are not a member of this organization" },
  INSUFFICIENT_SCOPE: {
    message: "This operation needs the entries:write scope",
    details: { required_scope: "entries:write" },
  },
  NOT_FOUND: { message: "Time entry not found" },
  TIMER_ALREADY_RUNNING: {
    message: "A timer is already running for this user; stop it first",
    details: { running_entry_id: "7d0f6f0e-1c55-4c8e-9a53-6c6f2a0c9b11" },
  },
  TIMER_NOT_RUNNING: { message: "The time entry has already been stopped" },
  ENTRY_LOCKED: { message: "The time entry is attached to an invoice and cannot be changed" },
  OVERLAP: {
    message: "The time entry would overlap another entry of the same user",
    details: { overlapping_entry_id: "4a3d7f3e-2a51-4f5e-9a8b-5b7e2c1d0f42" },
  },
  IDEMPOTENCY_KEY_IN_USE: { message: "A request with this Idempotency-Key is still in progress" },
  IDEMPOTENCY_KEY_MISMATCH: { message: "This Idempotency-Key was already used with a different request" },
  IN_USE: { message: "The customer has projects or invoices; it cannot be deleted" },
  DUPLICATE_NUMBER: { message: "An invoice numbered INV-2026-001 already exists", details: { number: "INV-2026-001" } },
  ALREADY_MEMBER: {
    message: "grace@example.com is already a member of this organization",
    details: { user_id: "5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9" },
  },
  MEMBER_REMOVED: { message: "The member has been removed; reinstate them with POST /v1/members" },
  LAST_OWNER: { message: "The organization must keep at least one active owner; make someone else owner first" },
  PROJECT_ON_DRAFT_INVOICE: {
    message:
      "The project's time entries are on draft invoices of its customer; detach them or issue the invoices first",
    details: { invoice_ids: ["b7c2a1e0-5d4f-4e3a-9b8c-7d6e5f4a3b2c"] },
  },
  PROJECT_INVOICED: {
    message: "The project's time entries are on invoices issued to its customer; its customer cannot change",
    details: { invoice_ids: ["b7c2a1e0-5d4f-4e3a-9b8c-7d6e5f4a3b2c"] },
  },
  PROJECT_INACTIVE: {
    message: "The project is inactive and takes no new time; reactivate it first",
    details: { project_id: "c4a1d2e3-5b6f-4a7b-8c9d-0e1f2a3b4c5d" },
  },
  INVALID_STATUS_TRANSITION: {
    message: "An invoice cannot move from paid to draft",
    details: { from: "paid", to: "draft", allowed: [] },
  },
  INVOICE_NOT_DRAFT: { message: "The invoice is sent; only drafts can change" },
  ENTRIES_NOT_ATTACHABLE: {
    message: "Some time entries cannot be attached to this invoice",
    details: { running: ["7d0f6f0e-1c55-4c8e-9a53-6c6f2a0c9b11"], invoiced: [], other_customer: [] },
  },
  WEBHOOK_DISABLED: { message: "The webhook subscription is disabled; PATCH it with active: true first" },
  WEBHOOK_LIMIT_REACHED: {
    message: "The organization has reached its limit of 20 webhook subscriptions; delete one first",
    details: { limit: 20 },
  },
  PRECONDITION_FAILED: { message: "The time entry has changed: If-Match does not match its current ETag" },
  METHOD_NOT_ALLOWED: {
    message: "PUT is not allowed on /v1/time-entries/{id}",
    details: { allow: ["DELETE", "GET", "HEAD", "PATCH", "OPTIONS"] },
  },
  PAYLOAD_TOO_LARGE: { message: "The request body is larger than 64 KiB" },
  UNSUPPORTED_MEDIA_TYPE: { message: "The request body must be sent as Content-Type: application/json" },
  RATE_LIMITED: { message: "Too many requests for this user; retry in 60 seconds" },
  INTERNAL_ERROR: { message: "An unexpected error occurred" },
  SERVICE_UNAVAILABLE: { message: "The database is unreachable; retry shortly" },
};

/**
 * The documented error responses of an operation, grouped by status, with an
 * example per code. Spread into every route's `responses`.
 */
export function errorResponses(...codes: ErrorCode[]) {
  return errorResponsesWith({}, ...codes);
}

type ErrorExample = { message: string; details?: ErrorDetails };

/** The many-ids variants of NOT_FOUND and ENTRY_LOCKED, as the bulk edits answer them (`details.ids`, sorted). */
export const manyIdsExamples = {
  NOT_FOUND: {
    message: "Some time entries were not found",
    details: { ids: ["1c9e6a2b-7d4f-4e8a-b3c5-2f6d8e0a1b3c", "8c2b1e4d-6f3a-4b7c-9d8e-1f2a3b4c5d6e"] },
  },
  ENTRY_LOCKED: {
    message: "Some time entries are attached to an invoice and cannot be changed",
    details: { ids: ["e54d3dac-9a0b-4c1d-8e2f-3a4b5c6d7e8f"] },
  },
} satisfies Partial<Record<ErrorCode, ErrorExample>>;

/** `errorResponses`, with the examples of some codes as this operation answers them. */
export function errorResponsesWith(own: Partial<Record<ErrorCode, ErrorExample>>, ...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = errorCatalog[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, group]) => [
      status,
      {
        description: group.map((code) => `\`${code}\`: ${errorCatalog[code].description}`).join("\n\n"),
        content: {
          "application/json": {
            schema: ErrorSchema,
            examples: Object.fromEntries(
              group.map((code) => [code, { value: { error: { code, ...(own[code] ?? examples[code]) } } }]),
            ),
          },
        },
      },
    ]),
  );
}
