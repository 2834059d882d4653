import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Project } from "../../src/routes/projects/projects.schemas";
import { TimeEntry } from "../../src/routes/time-entries/time-entries.schemas";
import {
  createCustomer,
  createEntry,
  createOrganization,
  createProject,
  createTeam,
  type Team,
} from "../support/factories";
import { type Harness, isoFromPostgres, startHarness } from "../support/harness";
import { expectNoOpPatch } from "../support/no-op";

let h: Harness;
let team: Team;
let customerId: string;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
  customerId = await createCustomer(h, team.organizationId, "Acme GmbH");
  await h.sql("update customers set email = 'billing@acme.example' where id = $1", [customerId]);
});
afterAll(() => h?.close());

describe("POST /v1/projects", () => {
  it("creates a project with its customer and answers 201 with Location", async () => {
    const res = await h.call("POST", "/v1/projects", {
      token: team.admin.token,
      body: { name: "Relaunch", customer_id: customerId, hourly_rate: 120.5, currency: "EUR" },
    });

    expect(res.status).toBe(201);
    const id = res.body.data.id;
    expect(res.headers.get("location")).toBe(`/v1/projects/${id}`);
    expect(res.headers.get("ETag")).toBe('"1"');
    const [row] = await h.sql("select * from projects where id = $1", [id]);
    expect(res.body).toEqual({
      data: {
        id,
        organization_id: team.organizationId,
        name: "Relaunch",
        customer_id: customerId,
        hourly_rate: 120.5,
        currency: "EUR",
        active: true,
        created_at: isoFromPostgres(row?.created_at),
        updated_at: isoFromPostgres(row?.updated_at),
        version: 1,
        customer: { id: customerId, name: "Acme GmbH", email: "billing@acme.example" },
      },
    });
    expect(Project.parse(res.body.data)).toEqual(res.body.data);
    expect(row?.hourly_rate).toBe("120.50");
  });

  it("stores rates exactly as decimals, never through a float", async () => {
    const res = await h.call("POST", "/v1/projects", {
      token: team.owner.token,
      body: { name: "Precise", hourly_rate: 9999999999.99, currency: "JPY" },
    });
    expect(res.status).toBe(201);
    const [row] = await h.sql("select hourly_rate from projects where id = $1", [res.body.data.id]);
    expect(row?.hourly_rate).toBe("9999999999.99");
  });

  it("needs only a name: no customer, no rate, active", async () => {
    const res = await h.call("POST", "/v1/projects", { token: team.owner.token, body: { name: "Internal" } });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({
      customer_id: null,
      customer: null,
      hourly_rate: null,
      currency: null,
      active: true,
    });
  });

  it("rejects a negative rate, more than 2 decimals, a lower-case or unknown currency and a rate without currency", async () => {
    const cases: [object, Record<string, string[]>][] = [
      [{ hourly_rate: -1, currency: "EUR" }, { hourly_rate: ["Must be 0 or more"] }],
      [{ hourly_rate: 10.005, currency: "EUR" }, { hourly_rate: ["Must have at most 2 decimals"] }],
      [{ hourly_rate: 1e-7, currency: "EUR" }, { hourly_rate: ["Must have at most 2 decimals"] }],
      [{ hourly_rate: 10, currency: "eur" }, { currency: ["Must be an ISO 4217 code in upper case, e.g. EUR"] }],
      [{ hourly_rate: 10, currency: "XYZ" }, { currency: ["Must be an ISO 4217 code in upper case, e.g. EUR"] }],
      [{ hourly_rate: 10 }, { currency: ["Required when hourly_rate is set"] }],
      [{ hourly_rate: "10", currency: "EUR" }, { hourly_rate: ["Must be a number"] }],
    ];
    for (const [fields, details] of cases) {
      const res = await h.call("POST", "/v1/projects", { token: team.owner.token, body: { name: "Bad", ...fields } });
      expect(res.status, JSON.stringify(fields)).toBe(400);
      expect(res.body.error).toEqual({ code: "VALIDATION_ERROR", message: "Invalid request body", details });
    }
    expect(await h.sql("select id from projects where name = 'Bad'")).toEqual([]);
  });

  it("reads a rate's decimals as the client wrote them, before JSON's float rounds them away", async () => {
    const project = await h.call("POST", "/v1/projects", { token: team.owner.token, body: { name: "Rated" } });
    const refused = { code: "VALIDATION_ERROR", message: "Invalid request body" };
    for (const rate of ["19.999999999999999", "0.1000000000000000055", "1234.5e-3", "20.001"]) {
      const body = `{"name":"Floated","hourly_rate":${rate},"currency":"EUR"}`;
      const created = await h.call("POST", "/v1/projects", { token: team.owner.token, body });
      expect([created.status, created.body.error], rate).toEqual([
        400,
        { ...refused, details: { hourly_rate: ["Must have at most 2 decimals"] } },
      ]);
      const patched = await h.call("PATCH", `/v1/projects/${project.body.data.id}`, {
        token: team.owner.token,
        body: `{"hourly_rate":${rate},"currency":"EUR"}`,
      });
      expect(patched.status, rate).toBe(400);
    }
    expect(await h.sql("select id from projects where name = 'Floated'")).toEqual([]);
    // Trailing zeros and exponents that leave two decimals or fewer are the same rate.
    for (const [rate, stored] of [
      ["19.990", "19.99"],
      ["1234e-2", "12.34"],
      ["1.5e1", "15.00"],
      ["12340e-3", "12.34"],
    ]) {
      const body = `{"name":"Written ${rate}","hourly_rate":${rate},"currency":"EUR"}`;
      const created = await h.call("POST", "/v1/projects", { token: team.owner.token, body });
      expect(created.status, rate).toBe(201);
      const [row] = await h.sql("select hourly_rate from projects where id = $1", [created.body.data.id]);
      expect(row?.hourly_rate, rate).toBe(stored);
    }
  });

  it("treats a customer of another organization like one that does not exist", async () => {
    const otherOrg = await createOrganization(h);
    const foreignCustomer = await createCustomer(h, otherOrg, "Foreign");
    for (const id of [foreignCustomer, crypto.randomUUID()]) {
      const res = await h.call("POST", "/v1/projects", {
        token: team.owner.token,
        body: { name: "Cross", customer_id: id },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: {
          code: "VALIDATION_ERROR",
          message: "Invalid customer_id",
          details: { customer_id: ["No such customer in this organization"] },
        },
      });
    }
    expect(await h.sql("select id from projects where name = 'Cross'")).toEqual([]);
  });

  it("is forbidden to a member", async () => {
    const res = await h.call("POST", "/v1/projects", { token: team.member.token, body: { name: "Nope" } });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: "FORBIDDEN", message: "Only owners and admins can create projects" } });
  });
});

describe("GET /v1/projects", () => {
  it("lists by name and filters by q, active and customer_id, for every member", async () => {
    const t = await createTeam(h);
    const acme = await createCustomer(h, t.organizationId, "Acme");
    const a = await createProject(h, t.organizationId, { name: "Beta site", customerId: acme });
    const b = await createProject(h, t.organizationId, { name: "alpha app" });
    const c = await createProject(h, t.organizationId, { name: "Gamma", customerId: acme });
    await h.sql("update projects set active = false where id = $1", [c]);
    const ids = async (query: string) => {
      const res = await h.call("GET", `/v1/projects${query}`, { token: t.member.token });
      expect(res.status).toBe(200);
      return res.body.data.map((p: { id: string }) => p.id);
    };

    // A to Z whatever the case: byte order would put "alpha app" after "Gamma".
    const order = [b, a, c];
    expect(await ids("")).toEqual(order);
    expect(await ids("?active=true")).toEqual(expect.arrayContaining([a, b]));
    expect(await ids("?active=true")).toHaveLength(2);
    expect(await ids("?active=false")).toEqual([c]);
    expect(await ids(`?customer_id=${acme}`)).toEqual(expect.arrayContaining([a, c]));
    expect(await ids(`?customer_id=${acme}&active=true`)).toEqual([a]);
    expect(await ids("?q=SITE")).toEqual([a]);

    const page1 = await h.call("GET", "/v1/projects?limit=2", { token: t.member.token });
    expect(page1.body.meta.count).toBe(2);
    const page2 = await h.call("GET", `/v1/projects?limit=2&cursor=${page1.body.meta.next_cursor}`, {
      token: t.member.token,
    });
    expect(page2.body).toMatchObject({ meta: { count: 1, next_cursor: null } });
    expect([...page1.body.data, ...page2.body.data].map((p: { id: string }) => p.id)).toEqual(order);
  });

  it("rejects an active that is not true or false", async () => {
    const res = await h.call("GET", "/v1/projects?active=yes", { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({ active: ["Must be true or false"] });
  });
});

describe("GET /v1/projects/{id}", () => {
  it("returns the project and 404 for an unknown id", async () => {
    const id = await createProject(h, team.organizationId, { name: "Visible", customerId });
    const res = await h.call("GET", `/v1/projects/${id}`, { token: team.member.token });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id, name: "Visible", customer: { id: customerId, name: "Acme GmbH" } });
    const missing = await h.call("GET", `/v1/projects/${crypto.randomUUID()}`, { token: team.member.token });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: "NOT_FOUND", message: "Project not found" } });
  });

  it("answers a rate that is a number: the database refuses NaN, which numeric has and `>= 0` let in", async () => {
    const id = await createProject(h, team.organizationId, { name: "Imported", hourlyRate: "120.50", currency: "EUR" });
    const entry = await createEntry(h, team.member, { projectId: id });
    // What an operator or an import could write: Postgres orders NaN above every number. It went out as the string
    // "NaN", on the project and on every entry of it, where the contract says a number.
    const written = await h.sql("update projects set hourly_rate = 'NaN' where id = $1", [id]).then(
      () => "written",
      (error: Error) => error.message,
    );
    const project = await h.call("GET", `/v1/projects/${id}`, { token: team.member.token });
    expect(Project.parse(project.body.data)).toEqual(project.body.data);
    const timeEntry = await h.call("GET", `/v1/time-entries/${entry}`, { token: team.member.token });
    expect(TimeEntry.parse(timeEntry.body.data)).toEqual(timeEntry.body.data);
    expect(written).toMatch(/projects_hourly_rate_check/);
    expect(project.body.data.hourly_rate).toBe(120.5);
  });
});

describe("PATCH /v1/projects/{id}", () => {
  it("deactivates, renames and changes the rate", async () => {
    const id = await createProject(h, team.organizationId, { name: "Old", hourlyRate: "10.00", currency: "EUR" });
    const res = await h.call("PATCH", `/v1/projects/${id}`, {
      token: team.owner.token,
      body: { name: "New", active: false, hourly_rate: 99.99, customer_id: customerId },
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      name: "New",
      active: false,
      hourly_rate: 99.99,
      currency: "EUR",
      customer: { id: customerId },
    });
  });

  it("keeps a currency while the project has a rate", async () => {
    const id = await createProject(h, team.organizationId, { hourlyRate: "10.00", currency: "EUR" });
    const res = await h.call("PATCH", `/v1/projects/${id}`, { token: team.owner.token, body: { currency: null } });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: "VALIDATION_ERROR",
      message: "Invalid currency",
      details: { currency: ["Required when hourly_rate is set"] },
    });
    const cleared = await h.call("PATCH", `/v1/projects/${id}`, {
      token: team.owner.token,
      body: { currency: null, hourly_rate: null },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body.data).toMatchObject({ hourly_rate: null, currency: null });
  });

  it("rejects another organization's customer and is forbidden to a member", async () => {
    const id = await createProject(h, team.organizationId, { name: "Mine" });
    const foreign = await createCustomer(h, await createOrganization(h));
    const res = await h.call("PATCH", `/v1/projects/${id}`, {
      token: team.owner.token,
      body: { customer_id: foreign },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({ customer_id: ["No such customer in this organization"] });
    const forbidden = await h.call("PATCH", `/v1/projects/${id}`, { token: team.member.token, body: { name: "X" } });
    expect(forbidden.status).toBe(403);
    const [row] = await h.sql("select name, customer_id from projects where id = $1", [id]);
    expect(row).toEqual({ name: "Mine", customer_id: null });
  });

  it("changes nothing when every given field has that value, compared as typed values: 120.5 is 120.50", async () => {
    const own = await createTeam(h);
    const customer = await createCustomer(h, own.organizationId);
    const id = await createProject(h, own.organizationId, {
      name: "Rated",
      customerId: customer,
      hourlyRate: "120.50",
      currency: "EUR",
    });
    await expectNoOpPatch(h, {
      path: `/v1/projects/${id}`,
      token: own.owner.token,
      organizationId: own.organizationId,
      same: { name: "Rated", customer_id: customer.toUpperCase(), hourly_rate: 120.5, currency: "EUR", active: true },
      change: { name: "Rated", hourly_rate: 120.51 },
      changedEvent: "project.updated",
    });
    const forbidden = await h.call("PATCH", `/v1/projects/${id}`, { token: own.member.token, body: { name: "Rated" } });
    expect(forbidden.status).toBe(403);
  });

  it("answers 404 for an unknown id", async () => {
    const res = await h.call("PATCH", `/v1/projects/${crypto.randomUUID()}`, {
      token: team.owner.token,
      body: { active: false },
    });
    expect(res.status).toBe(404);
  });
});

describe("DELETE /v1/projects/{id}", () => {
  it("deletes a project without time entries", async () => {
    const id = await createProject(h, team.organizationId);
    const res = await h.call("DELETE", `/v1/projects/${id}`, { token: team.admin.token });
    expect(res.status).toBe(204);
    expect(await h.sql("select id from projects where id = $1", [id])).toEqual([]);
  });

  it("answers 409 IN_USE for a project with time entries and keeps it", async () => {
    const id = await createProject(h, team.organizationId);
    await createEntry(h, team.member, { projectId: id });
    const res = await h.call("DELETE", `/v1/projects/${id}`, { token: team.owner.token });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      error: { code: "IN_USE", message: "The project has time entries; deactivate it with active: false instead" },
    });
    expect(await h.sql("select id from projects where id = $1", [id])).toHaveLength(1);
  });

  it("is forbidden to a member and 404 for an unknown id", async () => {
    const id = await createProject(h, team.organizationId);
    expect((await h.call("DELETE", `/v1/projects/${id}`, { token: team.member.token })).status).toBe(403);
    expect((await h.call("DELETE", `/v1/projects/${crypto.randomUUID()}`, { token: team.owner.token })).status).toBe(
      404,
    );
  });
});
