import type { FailedPrecondition } from "./conditional";

/** Every error the API answers with: its HTTP status and what it means. */
export const errorCatalog = {
  VALIDATION_ERROR: {
    status: 400,
    description: "The request is malformed: `details` maps each offending field to its messages.",
  },
  INVALID_CURSOR: {
    status: 400,
    description:
      "The `cursor` does not parse as one of this list's, or was issued by another list or for other filters.",
  },
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
      'The project is inactive (`active: false`): kept for its history, it takes no new time. An entry or a timer created on it, an entry moved to it, and one of its entries restarted, made to run again or made longer are refused; its entries stay editable otherwise. `details.project_id` names it; reactivate it with `PATCH {"active": true}` first.',
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
      "A dependency (the database or the token issuer's key set) is unreachable or busy (a lock or statement timeout, a restart), or the request lost a conflict with concurrent ones six times over (nothing was written); retry after `Retry-After` seconds.",
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
