// Small factories: each test makes the rows it needs, with unique ids, in SQL
// (as an operator would), so tests never depend on each other's data.
import type { Harness } from "./harness";

type Role = "owner" | "admin" | "member";

async function insert(h: Harness, query: string, params: unknown[]) {
  const [row] = await h.sql(`${query} returning id`, params);
  return row?.id as string;
}

export const createOrganization = (h: Harness, name = "Org") =>
  insert(h, "insert into organizations (name) values ($1)", [name]);

export const createUser = (h: Harness) =>
  insert(h, "insert into users (email) values ($1)", [`${crypto.randomUUID()}@test.example`]);

export type Member = { id: string; organizationId: string; role: Role; token: string };

export async function createMember(h: Harness, organizationId: string, role: Role, fullName?: string): Promise<Member> {
  const id = await createUser(h);
  // The membership's address is the user's (the organization_members_default_email trigger).
  await h.sql("insert into organization_members (organization_id, user_id, role, full_name) values ($1, $2, $3, $4)", [
    organizationId,
    id,
    role,
    fullName ?? `${role} user`,
  ]);
  return { id, organizationId, role, token: await h.sessionToken(id, organizationId) };
}

/** An organization with an owner, an admin and two members. */
export async function createTeam(h: Harness) {
  const organizationId = await createOrganization(h);
  return {
    organizationId,
    owner: await createMember(h, organizationId, "owner", "Olivia Owner"),
    admin: await createMember(h, organizationId, "admin", "Adam Admin"),
    member: await createMember(h, organizationId, "member", "Mia Member"),
    otherMember: await createMember(h, organizationId, "member", "Max Member"),
  };
}

export type Team = Awaited<ReturnType<typeof createTeam>>;

export const createCustomer = (h: Harness, organizationId: string, name = "Customer") =>
  insert(h, "insert into customers (organization_id, name) values ($1, $2)", [organizationId, name]);

export const createProject = (
  h: Harness,
  organizationId: string,
  options: { name?: string; customerId?: string; hourlyRate?: string; currency?: string } = {},
) =>
  insert(
    h,
    "insert into projects (organization_id, name, customer_id, hourly_rate, currency) values ($1, $2, $3, $4, $5)",
    [
      organizationId,
      options.name ?? "Project",
      options.customerId ?? null,
      options.hourlyRate ?? null,
      options.currency ?? null,
    ],
  );

export const createInvoice = (
  h: Harness,
  organizationId: string,
  options: { customerId?: string; number?: string; status?: string } = {},
) =>
  insert(
    h,
    "insert into invoices (organization_id, customer_id, number, status, date) values ($1, $2, $3, $4, '2026-11-30')",
    [
      organizationId,
      options.customerId ?? null,
      options.number ?? `INV-${crypto.randomUUID().slice(0, 8)}`,
      options.status ?? "draft",
    ],
  );

export const createEntry = (
  h: Harness,
  member: { id: string; organizationId: string },
  options: {
    start?: string;
    end?: string | null;
    projectId?: string;
    description?: string;
    billable?: boolean;
    invoiceId?: string;
  } = {},
) =>
  insert(
    h,
    `insert into time_entries (organization_id, user_id, project_id, start_time, end_time, description, billable, invoice_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      member.organizationId,
      member.id,
      options.projectId ?? null,
      options.start ?? "2026-11-20T09:00:00Z",
      options.end === undefined ? "2026-11-20T10:00:00Z" : options.end,
      options.description ?? "Work",
      String(options.billable ?? false),
      options.invoiceId ?? null,
    ],
  );
