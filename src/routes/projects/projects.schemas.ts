import { z } from "@hono/zod-openapi";
import { Version } from "../../lib/conditional";
import { CURRENCY_CODES } from "../../lib/iso-codes";
import {
  atLeastOneField,
  Cursor,
  Id,
  Limit,
  Name,
  orNull,
  PageMeta,
  QueryBoolean,
  Text,
  UtcTimestamp,
} from "../../lib/schemas";

export const exampleProjectId = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b";

export const Project = z
  .object({
    id: Id.openapi({ example: exampleProjectId }),
    organization_id: Id.openapi({ example: "0b9c1a52-7c1e-4a8e-9d0b-3f2f6f1c1a01" }),
    name: z.string().openapi({ example: "Website relaunch" }),
    customer_id: Id.nullable().openapi({ example: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f" }),
    hourly_rate: z.number().nullable().openapi({
      description: "Rate per hour in `currency`, with at most 2 decimals; stored as numeric(12,2).",
      example: 120.5,
    }),
    currency: z.string().nullable().openapi({ description: "ISO 4217 code.", example: "EUR" }),
    active: z.boolean().openapi({ description: "Inactive projects are kept for history.", example: true }),
    created_at: UtcTimestamp,
    updated_at: UtcTimestamp,
    version: Version,
    customer: orNull(
      z.object({
        id: Id.openapi({ example: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f" }),
        name: z.string().openapi({ example: "Acme GmbH" }),
        email: z.string().nullable().openapi({ example: "billing@acme.example" }),
      }),
    ),
  })
  .openapi("Project");

export type Project = z.infer<typeof Project>;

export const ProjectEnvelope = z.object({ data: Project }).openapi("ProjectResponse");
export const ProjectPage = z.object({ data: z.array(Project), meta: PageMeta }).openapi("ProjectList");

export const ListProjectsQuery = z
  .object({
    cursor: Cursor.optional(),
    limit: Limit,
    q: Text(200).optional().openapi({
      description: "Case-insensitive substring of the name; `%` and `_` match themselves.",
      example: "web",
    }),
    active: QueryBoolean.optional().openapi({
      description: "Only active (`true`) or inactive (`false`) projects.",
      example: "true",
    }),
    customer_id: Id.optional().openapi({
      description: "Only this customer's projects.",
      example: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
    }),
  })
  .strict();

const MAX_RATE = 9_999_999_999.99;

const HourlyRate = z
  .number({ message: "Must be a number" })
  .min(0, { message: "Must be 0 or more" })
  .max(MAX_RATE, { message: `Must be at most ${MAX_RATE}` })
  // The decimal text of the number, as JSON wrote it, must have at most 2 decimals.
  .refine((rate) => /^-?\d+(\.\d{1,2})?$/.test(String(rate)), { message: "Must have at most 2 decimals" })
  .nullable()
  .optional()
  .openapi({
    description:
      "Rate per hour, ≥ 0 with at most 2 decimals as the body writes it (trailing zeros aside; `19.999999999999999` is refused, although a JSON parser makes it the float 20); null for none.",
    example: 120.5,
  });

const Currency = z
  .string()
  .refine((code) => CURRENCY_CODES.has(code), { message: "Must be an ISO 4217 code in upper case, e.g. EUR" })
  .nullable()
  .optional()
  .openapi({
    description: "ISO 4217, upper case: a currency in circulation. Required when `hourly_rate` is set.",
    // The list, so that a client's validator refuses what the server would; null is one of the values.
    enum: [...CURRENCY_CODES, null],
    example: "EUR",
  });

const fields = {
  customer_id: Id.nullable().optional().openapi({
    description: "A customer of the organization, or null.",
    example: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
  }),
  hourly_rate: HourlyRate,
  currency: Currency,
  active: z.boolean().optional().openapi({ example: true }),
};

export const currencyRequired = "Required when hourly_rate is set";

export const CreateProjectBody = z
  .object({ name: Name.openapi({ example: "Website relaunch" }), ...fields })
  .strict()
  .superRefine((body, ctx) => {
    if (body.hourly_rate != null && body.currency == null) {
      ctx.addIssue({ code: "custom", path: ["currency"], message: currencyRequired });
    }
  })
  .openapi("CreateProject", {
    example: {
      name: "Website relaunch",
      customer_id: "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
      hourly_rate: 120,
      currency: "EUR",
    },
  });

export const UpdateProjectBody = z
  .object({ name: Name.optional().openapi({ example: "Website relaunch 2027" }), ...fields })
  .strict()
  .refine(atLeastOneField, { message: "Provide at least one field to change" })
  .openapi("UpdateProject", { minProperties: 1, example: { active: false } });

export type CreateProjectBody = z.infer<typeof CreateProjectBody>;
export type UpdateProjectBody = z.infer<typeof UpdateProjectBody>;
