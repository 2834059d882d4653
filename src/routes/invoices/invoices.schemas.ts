import { z } from "@hono/zod-openapi";
import { Version } from "../../lib/conditional";
import {
  atLeastOneField,
  CalendarDate,
  CurrencyAmount,
  Cursor,
  Id,
  IdList,
  Limit,
  orNull,
  PageMeta,
  storableText,
  UtcTimestamp,
} from "../../lib/schemas";

export const exampleInvoiceId = "7b6a5948-3726-4150-8f9e-0d1c2b3a4958";
const exampleCustomerId = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f";

export const INVOICE_STATUSES = ["draft", "sent", "paid", "overdue", "void"] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/** The moves PATCH allows; staying in the same status is always a no-op. */
export const STATUS_TRANSITIONS: Record<InvoiceStatus, readonly InvoiceStatus[]> = {
  draft: ["sent", "void"],
  sent: ["paid", "overdue", "void"],
  overdue: ["paid", "void"],
  paid: [],
  void: [],
};

const Status = z.enum(INVOICE_STATUSES).openapi({
  description:
    "draft → sent → paid, sent → overdue → paid, and any status but paid → void. Only a draft can be edited or have entries attached.",
  example: "draft",
});

const Summary = z
  .object({
    entry_count: z.number().int().openapi({ description: "Attached time entries.", example: 3 }),
    total_seconds: z.number().int().openapi({ description: "Their total duration.", example: 16200 }),
    billable_seconds: z.number().int().openapi({ description: "The duration of the billable ones.", example: 12600 }),
    amounts: z.array(CurrencyAmount).openapi({ description: "One amount per currency, ordered by currency." }),
  })
  .openapi("InvoiceSummary", {
    description:
      "What the invoice bills: a draft's follows its projects' current rates; frozen when the invoice leaves draft.",
  });

export const Invoice = z
  .object({
    id: Id.openapi({ example: exampleInvoiceId }),
    organization_id: Id.openapi({ example: "0b9c1a52-7c1e-4a8e-9d0b-3f2f6f1c1a01" }),
    customer_id: Id.nullable().openapi({ example: exampleCustomerId }),
    number: z.string().openapi({ example: "INV-2026-0042" }),
    status: Status,
    date: z.string().openapi({ description: "Invoice date, YYYY-MM-DD.", example: "2026-11-30" }),
    due_date: z.string().nullable().openapi({ description: "YYYY-MM-DD, on or after `date`.", example: "2026-12-14" }),
    created_at: UtcTimestamp,
    updated_at: UtcTimestamp,
    version: Version,
    customer: orNull(
      z.object({
        id: Id.openapi({ example: exampleCustomerId }),
        name: z.string().openapi({ example: "Acme GmbH" }),
        email: z.string().nullable().openapi({ example: "billing@acme.example" }),
      }),
    ),
  })
  .openapi("Invoice");

export const InvoiceWithSummary = Invoice.extend({ summary: Summary }).openapi("InvoiceWithSummary");

export type Invoice = z.infer<typeof Invoice>;
export type InvoiceWithSummary = z.infer<typeof InvoiceWithSummary>;

export const InvoiceEnvelope = z.object({ data: InvoiceWithSummary }).openapi("InvoiceResponse");
export const InvoicePage = z.object({ data: z.array(Invoice), meta: PageMeta }).openapi("InvoiceList");

export const ListInvoicesQuery = z
  .object({
    cursor: Cursor.optional(),
    limit: Limit,
    status: Status.optional().openapi({ description: "Only invoices in this status.", example: "sent" }),
    customer_id: Id.optional().openapi({ description: "Only this customer's invoices.", example: exampleCustomerId }),
  })
  .strict();

const InvoiceNumber = z
  .string()
  .min(1, { message: "Must not be empty" })
  .max(50, { message: "Must be at most 50 characters" })
  // Printed on the invoice and compared byte for byte: a tab, a zero-width or non-breaking space would make a number
  // that looks like another one and is not.
  // A refinement rather than a pattern: the document's validators read patterns without Unicode property escapes.
  // Blank letters (the Hangul fillers) and the braille blank are no \p{C} or \p{Z}, and as invisible.
  .refine((number) => /^(?:[^\p{C}\p{Z}\p{Default_Ignorable_Code_Point}\u2800]|\x20)*$/u.test(number), {
    message:
      "Must be printable characters and plain spaces (no tabs, line breaks, invisible or non-breaking characters)",
    abort: true,
  })
  // `é` as one character or as `e` and a combining accent looks the same and compares different.
  .refine((number) => number === number.normalize("NFC"), {
    message: "Must be in Unicode normalization form C (NFC): an accented letter as one character where Unicode has it",
    abort: true,
  })
  .regex(/^\S(.*\S)?$/, { message: "Must not start or end with whitespace" })
  .superRefine(storableText)
  .openapi({
    description:
      "Unique in the organization as written (case counts); printable characters and plain spaces only, in Unicode NFC.",
    example: "INV-2026-0042",
  });

export const dueDateMessage = "Must be on or after date";

export const CreateInvoiceBody = z
  .object({
    customer_id: Id.openapi({ description: "A customer of the organization.", example: exampleCustomerId }),
    number: InvoiceNumber,
    date: CalendarDate.openapi({ example: "2026-11-30" }),
    due_date: CalendarDate.nullable().optional().openapi({ example: "2026-12-14" }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.due_date && body.due_date < body.date) {
      ctx.addIssue({ code: "custom", path: ["due_date"], message: dueDateMessage });
    }
  })
  .openapi("CreateInvoice", {
    example: { customer_id: exampleCustomerId, number: "INV-2026-0042", date: "2026-11-30", due_date: "2026-12-14" },
  });

export const UpdateInvoiceBody = z
  .object({
    number: InvoiceNumber.optional(),
    date: CalendarDate.optional(),
    due_date: CalendarDate.nullable().optional(),
    status: Status.optional(),
  })
  .strict()
  .refine(atLeastOneField, { message: "Provide at least one field to change" })
  .openapi("UpdateInvoice", { minProperties: 1, example: { status: "sent" } });

export const TimeEntryIdsBody = z
  .object({
    time_entry_ids: IdList.openapi({ example: ["4a3d7f3e-2a51-4f5e-9a8b-5b7e2c1d0f42"] }),
  })
  .strict()
  .openapi("InvoiceTimeEntryIds", { example: { time_entry_ids: ["4a3d7f3e-2a51-4f5e-9a8b-5b7e2c1d0f42"] } });

export type CreateInvoiceBody = z.infer<typeof CreateInvoiceBody>;
export type UpdateInvoiceBody = z.infer<typeof UpdateInvoiceBody>;
