// The demo organization `npm start` serves: seeded once, identified by fixed ids
// so that re-running never duplicates it.
import { neon, neonConfig } from "@neondatabase/serverless";

export const demo = {
  organizationId: "de000000-0000-4000-8000-000000000001",
  users: [
    { id: "de000000-0000-4000-8000-000000000101", name: "Ada Lovelace", email: "ada@demo.example", role: "owner" },
    { id: "de000000-0000-4000-8000-000000000102", name: "Grace Hopper", email: "grace@demo.example", role: "member" },
    {
      id: "de000000-0000-4000-8000-000000000104",
      name: "Katherine Johnson",
      email: "katherine@demo.example",
      role: "admin",
    },
  ],
  /** Offboarded last week: their hours stay on record, their tokens are refused. */
  removedUser: {
    id: "de000000-0000-4000-8000-000000000103",
    name: "Alan Turing",
    email: "alan@demo.example",
    role: "member",
  },
  customerId: "de000000-0000-4000-8000-000000000201",
  invoiceId: "de000000-0000-4000-8000-000000000401",
  projects: {
    website: "de000000-0000-4000-8000-000000000301",
    internal: "de000000-0000-4000-8000-000000000302",
  },
} as const;

/** Seeds the demo organization unless it exists (then only its missing demo people). Returns whether it seeded. */
export async function seedDemo(databaseUrl: string, sqlHttpEndpoint?: string) {
  if (sqlHttpEndpoint) neonConfig.fetchEndpoint = sqlHttpEndpoint;
  const sql = neon(databaseUrl);
  const [existing] = await sql`select 1 from organizations where id = ${demo.organizationId}`;
  const [ada, grace, katherine] = demo.users;
  const alan = demo.removedUser;
  // Entries over the last days, relative to now, so the demo always looks current.
  const day = (daysAgo: number, hour: number, minute = 0) => {
    const d = new Date();
    d.setUTCHours(hour, minute, 0, 0);
    d.setUTCDate(d.getUTCDate() - daysAgo);
    return d.toISOString();
  };
  // The running timer started an hour ago, whatever the time of day, so that it can be stopped now
  // (one started later today would run from the future until then, and stopping it would be a 400).
  const anHourAgo = () => {
    const d = new Date(Date.now() - 60 * 60 * 1000);
    d.setUTCSeconds(0, 0);
    return d.toISOString();
  };
  // The first two are on the draft invoice: 6.5 h at 120 EUR = 780.00 EUR.
  const invoiced = demo.invoiceId;
  const entries = [
    [ada.id, demo.projects.website, day(3, 8), day(3, 11, 30), "Kick-off workshop with Acme", true, invoiced],
    [ada.id, demo.projects.website, day(2, 9), day(2, 12), "Information architecture", true, invoiced],
    [grace.id, demo.projects.website, day(2, 13), day(2, 17, 15), "Landing page build", true, null],
    [grace.id, demo.projects.internal, day(1, 9), day(1, 10), "Team retrospective", false, null],
    [ada.id, null, day(1, 14), day(1, 15), "Admin and e-mail", false, null],
    [katherine.id, demo.projects.website, day(1, 11), day(1, 12, 30), "Review of the draft invoice", true, null],
    [grace.id, demo.projects.website, anHourAgo(), null, "Accessibility fixes", true, null],
    [alan.id, demo.projects.website, day(9, 9), day(9, 12), "Search prototype", true, null],
    [alan.id, demo.projects.internal, day(8, 14), day(8, 15, 30), "Handover notes", false, null],
  ] as const;
  const today = new Date().toISOString().slice(0, 10);
  // Everyone joined a month ago, before the hours they recorded; Alan leaves once his hours are in (below).
  const people = (alanRemoved: boolean) => [
    ...[...demo.users, alan].map(
      (u) => sql`insert into users (id, email) values (${u.id}, ${u.email}) on conflict do nothing`,
    ),
    ...[...demo.users, alan].map((u) => {
      const removedAt = alanRemoved && u === alan ? day(7, 17) : null;
      return sql`insert into organization_members (organization_id, user_id, role, joined_at, full_name, status, removed_at)
        values (${demo.organizationId}, ${u.id}, ${u.role}, ${day(30, 9)}, ${u.name},
          ${removedAt ? "removed" : "active"}, ${removedAt}) on conflict do nothing`;
    }),
  ];
  // Seeded by an older version, the organization may lack someone npm start prints a token for: added, nothing else.
  if (existing) {
    await sql.transaction(people(true));
    return false;
  }

  await sql.transaction([
    sql`insert into organizations (id, name) values (${demo.organizationId}, 'Demo Studio')`,
    ...people(false),
    sql`insert into customers (id, organization_id, name, email, country, country_code, city)
        values (${demo.customerId}, ${demo.organizationId}, 'Acme GmbH', 'billing@acme.example', 'Germany', 'DE', 'Berlin')`,
    sql`insert into projects (id, organization_id, name, customer_id, hourly_rate, currency)
        values (${demo.projects.website}, ${demo.organizationId}, 'Website relaunch', ${demo.customerId}, 120.00, 'EUR')`,
    sql`insert into projects (id, organization_id, name) values (${demo.projects.internal}, ${demo.organizationId}, 'Internal')`,
    sql`insert into invoices (id, organization_id, customer_id, number, date, due_date)
        values (${demo.invoiceId}, ${demo.organizationId}, ${demo.customerId}, 'INV-DEMO-001', ${today}, ${today}::date + 14)`,
    ...entries.map(
      ([userId, projectId, start, end, description, billable, invoiceId]) =>
        sql`insert into time_entries (organization_id, user_id, project_id, start_time, end_time, description, billable, invoice_id)
            values (${demo.organizationId}, ${userId}, ${projectId}, ${start}, ${end}, ${description}, ${billable}, ${invoiceId})`,
    ),
    sql`update organization_members set status = 'removed', removed_at = ${day(7, 17)}
        where organization_id = ${demo.organizationId} and user_id = ${alan.id}`,
  ]);
  return true;
}
