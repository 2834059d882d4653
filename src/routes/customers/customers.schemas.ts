import { z } from "@hono/zod-openapi";
import { Version } from "../../lib/conditional";
import { COUNTRY_CODES } from "../../lib/iso-codes";
import {
  atLeastOneField,
  Cursor,
  EmailAddress,
  Id,
  Limit,
  Name,
  OptionalText,
  PageMeta,
  Text,
  UtcTimestamp,
  WebUrl,
  webUrlFormat,
} from "../../lib/schemas";

export const exampleCustomerId = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f";

/** The columns a customer has besides its id, organization and timestamps: the API's field names. */
export const customerColumns = [
  "name",
  "email",
  "phone",
  "website",
  "contact_person",
  "address_line1",
  "address_line2",
  "country",
  "country_code",
  "city",
  "state",
  "postal_code",
  "tax_id",
  "notes",
] as const;

const text = (example: string | null) => z.string().nullable().openapi({ example });

export const Customer = z
  .object({
    id: Id.openapi({ example: exampleCustomerId }),
    organization_id: Id.openapi({ example: "0b9c1a52-7c1e-4a8e-9d0b-3f2f6f1c1a01" }),
    name: z.string().openapi({ example: "Acme GmbH" }),
    email: text("billing@acme.example"),
    phone: text("+49 30 1234567"),
    website: text("https://acme.example"),
    contact_person: text("Wile E. Coyote"),
    address_line1: text("Friedrichstraße 1"),
    address_line2: text(null),
    country: text("Germany"),
    country_code: text("DE").openapi({ description: "ISO 3166-1 alpha-2." }),
    city: text("Berlin"),
    state: text(null),
    postal_code: text("10117"),
    tax_id: text("DE123456789"),
    notes: text(null),
    created_at: UtcTimestamp,
    updated_at: UtcTimestamp,
    version: Version,
  })
  .openapi("Customer");

export type Customer = z.infer<typeof Customer>;

export const CustomerEnvelope = z.object({ data: Customer }).openapi("CustomerResponse");
export const CustomerPage = z.object({ data: z.array(Customer), meta: PageMeta }).openapi("CustomerList");

export const ListCustomersQuery = z
  .object({
    cursor: Cursor.optional(),
    limit: Limit,
    q: Text(200).optional().openapi({
      description: "Case-insensitive substring of the name; `%` and `_` match themselves.",
      example: "acme",
    }),
  })
  .strict();

const fields = {
  email: EmailAddress.nullable().optional().openapi({ example: "billing@acme.example" }),
  phone: OptionalText(50).openapi({ example: "+49 30 1234567" }),
  website: WebUrl.nullable().optional().openapi(webUrlFormat("https://acme.example")),
  contact_person: OptionalText(200).openapi({ example: "Wile E. Coyote" }),
  address_line1: OptionalText(200).openapi({ example: "Friedrichstraße 1" }),
  address_line2: OptionalText(200).openapi({ example: "3rd floor" }),
  country: OptionalText(100).openapi({ example: "Germany" }),
  country_code: z
    .string()
    .refine((code) => COUNTRY_CODES.has(code), { message: "Must be an ISO 3166-1 alpha-2 code in upper case, e.g. DE" })
    .nullable()
    .optional()
    .openapi({ description: "ISO 3166-1 alpha-2, upper case.", enum: [...COUNTRY_CODES, null], example: "DE" }),
  city: OptionalText(100).openapi({ example: "Berlin" }),
  state: OptionalText(100).openapi({ example: "Berlin" }),
  postal_code: OptionalText(20).openapi({ example: "10117" }),
  tax_id: OptionalText(50).openapi({ example: "DE123456789" }),
  notes: OptionalText(5000).openapi({ example: "Invoices go to the accounting department." }),
};

export const CreateCustomerBody = z
  .object({ name: Name.openapi({ example: "Acme GmbH" }), ...fields })
  .strict()
  .openapi("CreateCustomer", { example: { name: "Acme GmbH", email: "billing@acme.example", country_code: "DE" } });

export const UpdateCustomerBody = z
  .object({ name: Name.optional().openapi({ example: "Acme Corporation" }), ...fields })
  .strict()
  .refine(atLeastOneField, { message: "Provide at least one field to change" })
  .openapi("UpdateCustomer", { minProperties: 1, example: { notes: "Pays within 14 days." } });

export type CreateCustomerBody = z.infer<typeof CreateCustomerBody>;
export type UpdateCustomerBody = z.infer<typeof UpdateCustomerBody>;
