// How /openapi.json documents the API's errors: the envelope's schema, and each operation's error responses with an
// example per code (the codes themselves, and what they mean, are src/lib/errors.ts).
import { z } from "@hono/zod-openapi";
import { insufficientScope } from "../middleware/auth";
import { type ErrorCode, type ErrorDetails, errorCatalog, notFound, preconditionFailed } from "./errors";
import { invalidRequest, UNKNOWN_FIELD } from "./validation";

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

/** What each path's errors call its resource, by the path's start; the first that matches. */
const resourceNames: [string, string][] = [
  ["/v1/webhooks/{id}/deliveries/{deliveryId}", "delivery"],
  ["/v1/webhooks", "webhook subscription"],
  ["/v1/time-entries", "time entry"],
  ["/v1/projects", "project"],
  ["/v1/customers", "customer"],
  ["/v1/invoices", "invoice"],
  ["/v1/members", "member"],
  ["/v1/organizations", "organization"],
];

type DocumentedOperation = {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> };
  responses?: Record<string, { content?: Record<string, { examples?: Record<string, { value: unknown }> }> }>;
};
type Components = { schemas?: Record<string, { required?: string[]; minProperties?: number }> };

/**
 * The error this operation answers for a code whose example is still the catalogue's, made by the constructors the
 * handlers throw, or undefined to keep the catalogue's.
 */
function ownExample(path: string, operation: DocumentedOperation, components: Components, code: ErrorCode) {
  const resource = resourceNames.find(([prefix]) => path.startsWith(prefix))?.[1];
  if (code === "NOT_FOUND" && resource) return notFound(`${resource[0]?.toUpperCase()}${resource.slice(1)}`);
  if (code === "PRECONDITION_FAILED" && resource) return preconditionFailed(resource, "If-Match");
  const scope = operation.security?.[0]?.bearerAuth?.[0];
  if (code === "INSUFFICIENT_SCOPE" && scope) return insufficientScope(scope);
  if (code !== "VALIDATION_ERROR") return undefined;
  const body = operation.requestBody?.content?.["application/json"]?.schema?.$ref?.split("/").pop();
  if (body) {
    const schema = components.schemas?.[body];
    const [field] = schema?.required ?? [];
    if (field) return invalidRequest("body", { [field]: ["Required"] });
    if (schema?.minProperties) return invalidRequest("body", { body: ["Provide at least one field to change"] });
    return invalidRequest("body", { verbose: [UNKNOWN_FIELD] });
  }
  const param = operation.parameters?.find((p) => p.in === "path");
  if (param) return invalidRequest("path", { [param.name]: ["Must be a UUID"] });
  return invalidRequest("query", { verbose: [UNKNOWN_FIELD] });
}

/**
 * Every operation's error examples as it answers them: the catalogue's example (a time entry's) becomes its own
 * resource's, scope and fields. Examples an operation gave itself (`errorResponsesWith`) stay.
 */
export function withOperationErrorExamples<D extends { paths?: object; components?: object }>(document: D): D {
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const operation of Object.values(item ?? {}) as DocumentedOperation[]) {
      for (const response of Object.values(operation.responses ?? {})) {
        for (const [code, example] of Object.entries(response.content?.["application/json"]?.examples ?? {})) {
          const error = (example.value as { error?: ErrorExample }).error;
          if (!error || error.message !== examples[code as ErrorCode]?.message) continue;
          const own = ownExample(path, operation, (document.components ?? {}) as Components, code as ErrorCode);
          if (own) example.value = own.toBody();
        }
      }
    }
  }
  return document;
}
