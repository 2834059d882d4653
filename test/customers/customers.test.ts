import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Customer } from "../../src/routes/customers/customers.schemas";
import { createCustomer, createInvoice, createProject, createTeam, type Team } from "../support/factories";
import { type Harness, isoFromPostgres, startHarness } from "../support/harness";
import { expectNoOpPatch } from "../support/no-op";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

const fullCustomer = {
  name: "Acme GmbH",
  email: "billing@acme.example",
  phone: "+49 30 1234567",
  website: "https://acme.example/about",
  contact_person: "Wile E. Coyote",
  address_line1: "Friedrichstraße 1",
  address_line2: "3rd floor",
  country: "Germany",
  country_code: "DE",
  city: "Berlin",
  state: "Berlin",
  postal_code: "10117",
  tax_id: "DE123456789",
  notes: "Pays within 14 days.",
};

describe("POST /v1/customers", () => {
  it("creates a customer with every field and answers 201 with Location", async () => {
    const res = await h.call("POST", "/v1/customers", { token: team.admin.token, body: fullCustomer });

    expect(res.status).toBe(201);
    const id = res.body.data.id;
    expect(res.headers.get("location")).toBe(`/v1/customers/${id}`);
    expect(res.headers.get("ETag")).toBe('"1"');
    const [row] = await h.sql("select * from customers where id = $1", [id]);
    expect(res.body).toEqual({
      data: {
        id,
        organization_id: team.organizationId,
        ...fullCustomer,
        created_at: isoFromPostgres(row?.created_at),
        updated_at: isoFromPostgres(row?.updated_at),
        version: 1,
      },
    });
    expect(Customer.parse(res.body.data)).toEqual(res.body.data);
    expect(row).toMatchObject({ organization_id: team.organizationId, ...fullCustomer });
  });

  it("needs only a name and leaves every other field null", async () => {
    const res = await h.call("POST", "/v1/customers", { token: team.owner.token, body: { name: "Solo" } });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ name: "Solo", email: null, website: null, country_code: null, notes: null });
  });

  it("rejects a bad e-mail, country code and website, a blank name and unknown fields", async () => {
    const res = await h.call("POST", "/v1/customers", {
      token: team.owner.token,
      body: {
        name: "  ",
        email: "not-an-email",
        country_code: "de",
        website: "javascript:alert(1)",
        organization_id: team.organizationId,
      },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        code: "VALIDATION_ERROR",
        message: "Invalid request body",
        details: {
          name: ["Must not be blank"],
          email: ["Must be an e-mail address"],
          country_code: ["Must be an ISO 3166-1 alpha-2 code in upper case, e.g. DE"],
          website: ["Must be an http(s) URL with a domain name (not an IP address) and without credentials"],
          organization_id: ["Unknown field"],
        },
      },
    });
  });

  it("refuses a website with a space, which no URI holds, and takes it percent-encoded", async () => {
    for (const website of ["https://acme.example/ about", "https://acme.example/\tabout", " https://acme.example"]) {
      const res = await h.call("POST", "/v1/customers", { token: team.owner.token, body: { name: "Spaced", website } });
      expect([website, res.status, res.body.error?.details]).toEqual([
        website,
        400,
        {
          website: ["Must be an http(s) URL without spaces (write %20 for one)"],
        },
      ]);
    }
    const encoded = await h.call("POST", "/v1/customers", {
      token: team.owner.token,
      body: { name: "Encoded", website: "https://acme.example/%20about" },
    });
    expect([encoded.status, encoded.body.data?.website]).toEqual([201, "https://acme.example/%20about"]);
  });

  it("refuses a website that carries a user name or password, which every member would read", async () => {
    for (const website of ["https://user:secret@acme.example/", "https://token@acme.example"]) {
      const res = await h.call("POST", "/v1/customers", { token: team.owner.token, body: { name: "Creds", website } });
      expect([website, res.status, res.body.error?.details]).toEqual([
        website,
        400,
        { website: ["Must be an http(s) URL with a domain name (not an IP address) and without credentials"] },
      ]);
    }
    const list = await h.call("GET", "/v1/customers?limit=100", { token: team.owner.token });
    expect(list.body.data.filter((c: { name: string }) => c.name === "Creds")).toEqual([]);
  });

  it("names the field that holds a NUL character", async () => {
    const res = await h.call("POST", "/v1/customers", {
      token: team.owner.token,
      body: { name: "Acme\u0000", notes: "a\u0000b" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({
      name: ["Must not contain the NUL character"],
      notes: ["Must not contain the NUL character"],
    });
  });

  it("rejects a missing name", async () => {
    const res = await h.call("POST", "/v1/customers", { token: team.owner.token, body: { email: "a@b.example" } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({ name: [expect.any(String)] });
  });

  it("is forbidden to a member, and nothing is written", async () => {
    const res = await h.call("POST", "/v1/customers", { token: team.member.token, body: { name: "Sneaky Ltd" } });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: "FORBIDDEN", message: "Only owners and admins can create customers" } });
    expect(await h.sql("select id from customers where name = 'Sneaky Ltd'")).toEqual([]);
  });
});

describe("GET /v1/customers", () => {
  it("lists by name, A to Z whatever the case, with cursor pagination and filters by q, for every member", async () => {
    const { organizationId, member } = await createTeam(h);
    for (const name of ["delta", "Alpha", "charlie", "Bravo", "alpha"]) await createCustomer(h, organizationId, name);

    const first = await h.call("GET", "/v1/customers?limit=2", { token: member.token });
    expect(first.status).toBe(200);
    const names = [...first.body.data.map((c: { name: string }) => c.name)];
    let cursor = first.body.meta.next_cursor;
    while (cursor) {
      const next = await h.call("GET", `/v1/customers?limit=2&cursor=${cursor}`, { token: member.token });
      expect(next.status).toBe(200);
      names.push(...next.body.data.map((c: { name: string }) => c.name));
      cursor = next.body.meta.next_cursor;
    }
    // A to Z whatever the case, the same name's cases in code point order: on every database, whatever its collation.
    expect(names).toEqual(["Alpha", "alpha", "Bravo", "charlie", "delta"]);

    const found = await h.call("GET", "/v1/customers?q=ALPH", { token: member.token });
    expect(found.body.data.map((c: { name: string }) => c.name).sort()).toEqual(["Alpha", "alpha"]);
    expect(found.body.meta).toEqual({ count: 2, next_cursor: null });
  });

  it("reads limit as digits only", async () => {
    for (const limit of ["1e2", "0x10", "%205%20", "0", "101", "2.5"]) {
      const res = await h.call("GET", `/v1/customers?limit=${limit}`, { token: team.owner.token });
      expect(res.status, limit).toBe(400);
      expect(res.body.error.details, limit).toEqual({ limit: ["Must be a whole number from 1 to 100"] });
    }
    expect((await h.call("GET", "/v1/customers?limit=007", { token: team.owner.token })).status).toBe(200);
  });

  it("rejects a q over 200 characters and a foreign cursor", async () => {
    const long = await h.call("GET", `/v1/customers?q=${"x".repeat(201)}`, { token: team.owner.token });
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe("VALIDATION_ERROR");
    const bad = await h.call("GET", "/v1/customers?cursor=WyJ4Il0", { token: team.owner.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("INVALID_CURSOR");
  });
});

describe("GET /v1/customers/{id}", () => {
  it("returns the customer to a member and 404 for an unknown id", async () => {
    const id = await createCustomer(h, team.organizationId, "Readable");
    const res = await h.call("GET", `/v1/customers/${id}`, { token: team.member.token });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id, name: "Readable", organization_id: team.organizationId });

    const missing = await h.call("GET", `/v1/customers/${crypto.randomUUID()}`, { token: team.member.token });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: { code: "NOT_FOUND", message: "Customer not found" } });
  });
});

describe("PATCH /v1/customers/{id}", () => {
  it("changes the given fields, clears nulls and bumps updated_at", async () => {
    const created = await h.call("POST", "/v1/customers", { token: team.owner.token, body: fullCustomer });
    const id = created.body.data.id;
    await h.sql("update customers set updated_at = now() - interval '1 hour' where id = $1", [id]);

    const res = await h.call("PATCH", `/v1/customers/${id}`, {
      token: team.admin.token,
      body: { name: "Acme Corp", notes: null, country_code: "AT" },
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ ...fullCustomer, name: "Acme Corp", notes: null, country_code: "AT" });
    const [row] = await h.sql("select updated_at > now() - interval '1 minute' as fresh from customers where id = $1", [
      id,
    ]);
    expect(row?.fresh).toBe("t");
  });

  it("rejects an empty body and a null name", async () => {
    const id = await createCustomer(h, team.organizationId);
    const empty = await h.call("PATCH", `/v1/customers/${id}`, { token: team.owner.token, body: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details).toEqual({ body: ["Provide at least one field to change"] });
    const nullName = await h.call("PATCH", `/v1/customers/${id}`, { token: team.owner.token, body: { name: null } });
    expect(nullName.status).toBe(400);
    expect(Object.keys(nullName.body.error.details)).toEqual(["name"]);
  });

  it("is forbidden to a member", async () => {
    const id = await createCustomer(h, team.organizationId, "Stable");
    const res = await h.call("PATCH", `/v1/customers/${id}`, { token: team.member.token, body: { name: "Changed" } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("FORBIDDEN");
    const [row] = await h.sql("select name from customers where id = $1", [id]);
    expect(row?.name).toBe("Stable");
  });

  it("changes nothing when every given field has that value: same version and updated_at, no event", async () => {
    const own = await createTeam(h);
    const id = await createCustomer(h, own.organizationId, "Acme");
    await expectNoOpPatch(h, {
      path: `/v1/customers/${id}`,
      token: own.admin.token,
      organizationId: own.organizationId,
      same: { name: "Acme", email: null, notes: null },
      change: { name: "Acme", notes: "New terms" },
      changedEvent: "customer.updated",
    });
    // A caller who may not make the change still may not, even when it would change nothing.
    const forbidden = await h.call("PATCH", `/v1/customers/${id}`, { token: own.member.token, body: { name: "Acme" } });
    expect(forbidden.status).toBe(403);
  });

  it("answers 404 for an unknown id", async () => {
    const res = await h.call("PATCH", `/v1/customers/${crypto.randomUUID()}`, {
      token: team.owner.token,
      body: { name: "Ghost" },
    });
    expect(res.status).toBe(404);
  });
});

describe("DELETE /v1/customers/{id}", () => {
  it("deletes an unused customer", async () => {
    const id = await createCustomer(h, team.organizationId);
    const res = await h.call("DELETE", `/v1/customers/${id}`, { token: team.owner.token });
    expect(res.status).toBe(204);
    expect(res.body).toBe("");
    expect(await h.sql("select id from customers where id = $1", [id])).toEqual([]);
  });

  it("answers 409 IN_USE while projects or invoices reference the customer, deleting nothing", async () => {
    const withProject = await createCustomer(h, team.organizationId);
    await createProject(h, team.organizationId, { customerId: withProject });
    const withInvoice = await createCustomer(h, team.organizationId);
    await createInvoice(h, team.organizationId, { customerId: withInvoice });

    for (const id of [withProject, withInvoice]) {
      const res = await h.call("DELETE", `/v1/customers/${id}`, { token: team.admin.token });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        error: { code: "IN_USE", message: "The customer has projects or invoices; it cannot be deleted" },
      });
      expect(await h.sql("select id from customers where id = $1", [id])).toHaveLength(1);
    }
  });

  it("is forbidden to a member and 404 for an unknown id", async () => {
    const id = await createCustomer(h, team.organizationId);
    const forbidden = await h.call("DELETE", `/v1/customers/${id}`, { token: team.member.token });
    expect(forbidden.status).toBe(403);
    expect(await h.sql("select id from customers where id = $1", [id])).toHaveLength(1);
    const missing = await h.call("DELETE", `/v1/customers/${crypto.randomUUID()}`, { token: team.owner.token });
    expect(missing.status).toBe(404);
  });
});
