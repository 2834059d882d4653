// Mass assignment and limits on every operation /openapi.json documents, so
// new routes are covered without touching this file: read-only and unknown
// body fields are 400 and write nothing; bodies over 64 KiB are 413; `limit`
// out of range, `q` over 200 characters and arrays of over 100 ids are 400.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import app from "../../src/app";
import { encodeCursor } from "../../src/lib/cursor";
import {
  createCustomer,
  createEntry,
  createInvoice,
  createMember,
  createOrganization,
  createProject,
  createTeam,
  type Member,
  type Team,
} from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { deref, requestBodySchema, sample } from "../support/openapi-contract";
import {
  documentedOperations,
  type OpenApiDocument,
  type Operation,
  openApiDocument,
} from "../support/openapi-operations";
import { allowSubscriptions, subscribe } from "../support/webhooks";

let h: Harness;
let team: Team;
let stranger: Member;
let document: OpenApiDocument;
let operations: Operation[];

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
  stranger = await createMember(h, await createOrganization(h, "Elsewhere"), "owner");
  await allowSubscriptions(h, team.organizationId, 1000); // a subscription per operation walked
  document = await openApiDocument(h);
  operations = await documentedOperations(h, document);
});
afterAll(() => h?.close());

/** A fresh row of the caller's organization for each collection, keyed by the path segment after /v1. */
const fixtures: Record<string, () => Promise<string>> = {
  "time-entries": () => createEntry(h, team.owner, { description: "fixture" }),
  projects: () => createProject(h, team.organizationId, { name: `Project ${crypto.randomUUID()}` }),
  customers: () => createCustomer(h, team.organizationId, `Customer ${crypto.randomUUID()}`),
  invoices: async () =>
    createInvoice(h, team.organizationId, { customerId: await createCustomer(h, team.organizationId) }),
  webhooks: async () => (await subscribe(h, team.organizationId)).id,
  // `user_id` in a body (time for another member): a member of the caller's organization.
  users: async () => team.member.id,
  members: async () => (await createMember(h, team.organizationId, "member")).id,
};

/**
 * `project_id` → a project of the caller's organization, `time_entry_ids` → a time entry's id, …, and `ids` → a
 * row of the path's own collection (`PATCH /v1/time-entries` → a time entry).
 */
const idFor = (ids: Record<string, string>, path: string) => (property: string) => {
  if (property === "ids") return ids[path.split("/")[2] ?? ""];
  const collection = property.replace(/_ids?$/, "").replaceAll("_", "-");
  return ids[`${collection}s`] ?? ids[collection];
};

/** The required query parameters of an operation (the summary's dates, the export's format) with their documented examples, each followed by `&`. */
const requiredQuery = (operation: Operation["operation"]) =>
  (operation.parameters ?? [])
    .filter((p) => p.in === "query" && p.required)
    .map((p) => `${p.name}=${encodeURIComponent(String(sample(document, p.schema ?? {}, undefined, p.name)))}&`)
    .join("");

async function fixtureIds() {
  const ids: Record<string, string> = {};
  for (const [collection, create] of Object.entries(fixtures)) ids[collection] = await create();
  return ids;
}

async function concretePath(path: string, ids: Record<string, string>) {
  const collection = path.split("/")[2] ?? "";
  if (!path.includes("{")) return path;
  const id = ids[collection];
  if (!id) throw new Error(`no fixture for ${collection}: add one to \`fixtures\` for ${path}`);
  return path.replace(/\{[^}]+\}/, id);
}

/** Every row of every table, to show that a refused request changed nothing. */
async function databaseState() {
  const tables = await h.sql(
    "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1",
  );
  const state: Record<string, string | null | undefined> = {};
  for (const { table_name } of tables) {
    const [row] = await h.sql(
      `select count(*)::text || ':' || coalesce(md5(string_agg(t::text, ',' order by t::text)), '') as digest from "${table_name}" t`,
    );
    state[table_name as string] = row?.digest;
  }
  return state;
}

const withBody = () => operations.filter((o) => requestBodySchema(document, o.operation));

/** Fields a client must never set, with a value an attacker would send. */
const forbiddenFields = (): Record<string, unknown> => ({
  organization_id: stranger.organizationId,
  id: crypto.randomUUID(),
  created_at: "2020-01-01T00:00:00Z",
  updated_at: "2020-01-01T00:00:00Z",
  invoice_id: crypto.randomUUID(),
  user_id: stranger.id,
  version: 1,
  deleted_at: null,
  role: "owner",
  is_admin: true,
});

describe("mass assignment", () => {
  it("covers every operation with a JSON body", () => {
    expect(withBody().length).toBeGreaterThanOrEqual(4);
  });

  it("refuses read-only and unknown body fields the schema does not list: 400 VALIDATION_ERROR, nothing written", async () => {
    for (const { method, path, operation } of withBody()) {
      const schema = requestBodySchema(document, operation) ?? {};
      const listed = Object.keys((schema.properties ?? {}) as object);
      const ids = await fixtureIds();
      const url = await concretePath(path, ids);
      const base = sample(document, schema, idFor(ids, path)) as Record<string, unknown>;
      const label = `${method.toUpperCase()} ${path}`;

      for (const [field, value] of Object.entries(forbiddenFields()).filter(([f]) => !listed.includes(f))) {
        const before = await databaseState();
        const res = await h.call(method.toUpperCase(), url, {
          token: team.owner.token,
          body: { ...base, [field]: value },
        });
        expect(res.status, `${label} with ${field}`).toBe(400);
        expect(res.body.error.code).toBe("VALIDATION_ERROR");
        expect(res.body.error.details?.[field], `${label} with ${field}: ${JSON.stringify(res.body)}`).toEqual([
          "Unknown field",
        ]);
        expect(await databaseState(), `${label} with ${field} wrote something`).toEqual(before);
      }

      // Without the extra field the same body passes validation: the 400 was the field's doing.
      const control = await h.call(method.toUpperCase(), url, { token: team.owner.token, body: base });
      expect(
        control.status === 400 && control.body.error.code === "VALIDATION_ERROR",
        `${label}: ${JSON.stringify(control.body)}`,
      ).toBe(false);
    }
  });
});

describe("operations without a body", () => {
  const bodiless = () => operations.filter((o) => o.method !== "get" && !requestBodySchema(document, o.operation));

  it("refuse a body that asks for something (400 on each field, or on body) or comes compressed (415), take none, an empty one or {}", async () => {
    expect(bodiless().length).toBeGreaterThanOrEqual(8);
    for (const { method, path, operation } of bodiless()) {
      const label = `${method.toUpperCase()} ${path}`;
      expect(Object.keys(operation.responses ?? {}), label).toContain("400");
      const url = await concretePath(path, await fixtureIds());
      const before = await databaseState();
      for (const [body, details] of [
        [
          { description: "ignored?", force: true },
          { description: ["Unknown field"], force: ["Unknown field"] },
        ],
        ["not json", { body: ["This operation takes no body: send none, or {}"] }],
        [[], { body: ["This operation takes no body: send none, or {}"] }],
      ] as const) {
        const res = await h.call(method.toUpperCase(), url, { token: team.owner.token, body });
        expect([label, res.status, res.body], JSON.stringify(body)).toEqual([
          label,
          400,
          { error: { code: "VALIDATION_ERROR", message: "Invalid request body", details } },
        ]);
      }
      const coded = await h.call(method.toUpperCase(), url, {
        token: team.owner.token,
        body: { description: "x" },
        headers: { "Content-Encoding": "gzip" },
      });
      expect([label, coded.status, coded.headers.get("Accept-Encoding")]).toEqual([label, 415, "identity"]);
      expect(Object.keys(operation.responses ?? {}), label).toContain("415");
      expect(await databaseState(), `${label} wrote something`).toEqual(before);
      for (const body of [{}, "", " {} "]) {
        const res = await h.call(method.toUpperCase(), url, { token: team.owner.token, body });
        expect(res.body?.error?.message, `${label} with ${JSON.stringify(body)}`).not.toBe("Invalid request body");
      }
    }
  });
});

describe("limits", () => {
  it("a body over 64 KiB is 413 PAYLOAD_TOO_LARGE on every operation with a body, before anything else", async () => {
    for (const { method, path, operation } of withBody()) {
      const ids = await fixtureIds();
      const url = await concretePath(path, ids);
      const base = sample(document, requestBodySchema(document, operation) ?? {}, idFor(ids, path)) as object;
      const body = JSON.stringify({ ...base, padding: "x".repeat(65 * 1024) });
      const before = await databaseState();
      for (const token of [team.owner.token, undefined]) {
        const res = await h.call(method.toUpperCase(), url, { token, body });
        expect(res.status, `${method} ${path}`).toBe(413);
        expect(res.body).toEqual({
          error: { code: "PAYLOAD_TOO_LARGE", message: "The request body is larger than 64 KiB" },
        });
      }
      expect(await databaseState()).toEqual(before);
    }
  });

  it("an operation without a body refuses one over 64 KiB with 413 too, and documents it", async () => {
    const bodiless = operations.filter((o) => o.method !== "get" && !requestBodySchema(document, o.operation));
    expect(bodiless.length).toBeGreaterThanOrEqual(8);
    for (const { method, path, operation } of bodiless) {
      const url = await concretePath(path, await fixtureIds());
      const before = await databaseState();
      const res = await h.call(method.toUpperCase(), url, { token: team.owner.token, body: "x".repeat(65 * 1024) });
      expect(res.status, `${method} ${path}`).toBe(413);
      expect(res.body.error.code).toBe("PAYLOAD_TOO_LARGE");
      expect(await databaseState()).toEqual(before);
      expect(Object.keys(operation.responses ?? {}), `${method} ${path}`).toContain("413");
    }
  });

  it("a GET's body is never read: over 64 KiB it is ignored as a small one is, not a 413 no GET documents", async () => {
    // fetch's Request refuses a GET with a body; curl and the runtime do not. Made as a POST, then read as a GET.
    const request = new Request("http://localhost/v1/me", {
      method: "POST",
      headers: { Authorization: `Bearer ${team.owner.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ padding: "x".repeat(65 * 1024) }),
    });
    Object.defineProperty(request, "method", { value: "GET" });
    const res = await app.request(request, undefined, h.env);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { user: { id: string } } }).data.user.id).toBe(team.owner.id);
  });

  it("an unknown query parameter is 400 on that parameter on every operation, those without parameters too", async () => {
    for (const { method, path, operation } of operations) {
      const ids = await fixtureIds();
      const url = await concretePath(path, ids);
      const schema = requestBodySchema(document, operation);
      const body = schema ? sample(document, schema, idFor(ids, path)) : undefined;
      const before = await databaseState();
      const res = await h.call(method.toUpperCase(), `${url}?${requiredQuery(operation)}surprise=1`, {
        token: team.owner.token,
        body,
      });
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.details, `${method} ${path}`).toEqual({ surprise: ["Unknown field"] });
      expect(await databaseState()).toEqual(before);
    }
  });

  const withQueryParameter = (name: string) =>
    operations.filter((o) => o.operation.parameters?.some((p) => p.in === "query" && p.name === name));

  it("limit must be a whole number from 1 to 100 wherever it exists", async () => {
    const lists = withQueryParameter("limit");
    expect(lists.length).toBeGreaterThanOrEqual(3);
    for (const { path, operation } of lists) {
      const url = `${await concretePath(path, await fixtureIds())}?${requiredQuery(operation)}`;
      for (const limit of ["0", "101", "-1", "1.5", "abc", "", "99999999999999999999"]) {
        const res = await h.call("GET", `${url}limit=${encodeURIComponent(limit)}`, { token: team.owner.token });
        expect(res.status, `${path}?limit=${limit}`).toBe(400);
        expect(res.body.error.code).toBe("VALIDATION_ERROR");
        expect(Object.keys(res.body.error.details)).toEqual(["limit"]);
      }
      for (const limit of ["1", "100"]) {
        const res = await h.call("GET", `${url}limit=${limit}`, { token: team.owner.token });
        expect(res.status, `${path}?limit=${limit}`).toBe(200);
      }
    }
  });

  it("q is at most 200 characters wherever it exists", async () => {
    const searches = withQueryParameter("q");
    expect(searches.length).toBeGreaterThanOrEqual(1);
    for (const { path, operation } of searches) {
      const url = `${await concretePath(path, await fixtureIds())}?${requiredQuery(operation)}`;
      const tooLong = await h.call("GET", `${url}q=${"é".repeat(201)}`, { token: team.owner.token });
      expect(tooLong.status, path).toBe(400);
      expect(tooLong.body.error.code).toBe("VALIDATION_ERROR");
      expect(Object.keys(tooLong.body.error.details)).toEqual(["q"]);
      const longest = await h.call("GET", `${url}q=${"é".repeat(200)}`, { token: team.owner.token });
      expect(longest.status, path).toBe(200);
    }
  });

  it("an array of ids holds at most 100 wherever a body has one", async () => {
    const arrays = withBody().flatMap((o) => {
      const properties = (requestBodySchema(document, o.operation)?.properties ?? {}) as Record<
        string,
        Record<string, unknown>
      >;
      return Object.entries(properties)
        .filter(([, s]) => s.type === "array" && (s.items as { format?: string } | undefined)?.format === "uuid")
        .map(([property]) => ({ ...o, property }));
    });
    for (const { method, path, operation, property } of arrays) {
      const ids = await fixtureIds();
      const url = await concretePath(path, ids);
      const base = sample(document, requestBodySchema(document, operation) ?? {}, idFor(ids, path)) as object;
      const uuids = (n: number) => Array.from({ length: n }, () => crypto.randomUUID());
      const before = await databaseState();
      const tooMany = await h.call(method.toUpperCase(), url, {
        token: team.owner.token,
        body: { ...base, [property]: uuids(101) },
      });
      expect(tooMany.status, `${method} ${path} ${property}`).toBe(400);
      expect(tooMany.body.error.code).toBe("VALIDATION_ERROR");
      expect(Object.keys(tooMany.body.error.details)).toEqual([property]);
      expect(await databaseState()).toEqual(before);
      const most = await h.call(method.toUpperCase(), url, {
        token: team.owner.token,
        body: { ...base, [property]: uuids(100) },
      });
      expect(most.status === 400 && property in (most.body.error.details ?? {}), JSON.stringify(most.body)).toBe(false);
    }
  });
});

type PropertySchema = { type?: unknown; format?: string; properties?: Record<string, PropertySchema>; $ref?: string };

/** The free-text fields of a body, top level and one object down (`changes.description`), as paths. */
function textFields(schema: PropertySchema): string[][] {
  const isText = (s: PropertySchema) =>
    (s.type === "string" || (Array.isArray(s.type) && s.type.includes("string"))) &&
    (!s.format || s.format === "uri" || s.format === "email");
  return Object.entries(schema.properties ?? {}).flatMap(([name, property]) => {
    const resolved = deref(document, property as Record<string, unknown>) as PropertySchema;
    if (isText(resolved)) return [[name]];
    return Object.entries(resolved.properties ?? {})
      .filter(([, child]) => isText(child))
      .map(([child]) => [name, child]);
  });
}

describe("values Postgres cannot store", () => {
  // A lone surrogate has no UTF-8 form: stored, it would become U+FFFD, and two different values one.
  it.each([
    ["a NUL character", "a\u0000b"],
    ["a lone UTF-16 surrogate", "a\ud800b"],
  ])("%s in any text field is 400 VALIDATION_ERROR on that field, never 500, and writes nothing", async (_, text) => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      for (const { method, path, operation } of withBody()) {
        const schema = requestBodySchema(document, operation) ?? {};
        for (const field of textFields(schema)) {
          const ids = await fixtureIds();
          const url = await concretePath(path, ids);
          const body = sample(document, schema, idFor(ids, path)) as Record<string, unknown>;
          const [parent, name] = field.length === 2 ? field : [undefined, field[0] as string];
          if (parent) body[parent] = { ...(body[parent] as object), [name]: text };
          else body[name] = text;
          const before = await databaseState();
          const res = await h.call(method.toUpperCase(), url, { token: team.owner.token, body });
          const label = `${method} ${path} ${field.join(".")}`;
          expect(res.status, `${label}: ${JSON.stringify(res.body)}`).toBe(400);
          expect(res.body.error.code).toBe("VALIDATION_ERROR");
          expect(Object.keys(res.body.error.details), label).toEqual([field.join(".")]);
          expect(await databaseState()).toEqual(before);
        }
      }
    } finally {
      warn.mockRestore();
    }
  });

  it("a NUL character in any query parameter is 400 on that parameter, and a cursor holding what the database cannot take is INVALID_CURSOR, never 500", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      for (const { path, operation } of operations.filter((o) => o.method === "get")) {
        for (const parameter of (operation.parameters ?? []).filter((p) => p.in === "query" && !p.schema?.format)) {
          if (parameter.schema?.type !== "string" || parameter.name === "cursor") continue;
          const others = (operation.parameters ?? []).filter((p) => p.name !== parameter.name);
          const concrete = await concretePath(path, await fixtureIds());
          const url = `${concrete}?${requiredQuery({ ...operation, parameters: others })}${parameter.name}=a%00b`;
          const res = await h.call("GET", url, { token: team.owner.token });
          expect(res.status, `${url}: ${JSON.stringify(res.body)}`).toBe(400);
          expect(res.body.error.code).toBe("VALIDATION_ERROR");
          expect(Object.keys(res.body.error.details), url).toEqual([parameter.name]);
        }
      }
      // A cursor's sort key goes to the database as it is: one that does not hold is a cursor this API did not issue.
      for (const [list, key] of [
        ["projects", ["a\u0000", crypto.randomUUID()]],
        ["customers", ["a\ud800", crypto.randomUUID()]],
        ["members", ["a\u0000", crypto.randomUUID()]],
        ["invoices", ["0000-01-01", crypto.randomUUID()]],
        ["webhooks", ["0000-01-01T00:00:00.000Z", crypto.randomUUID()]],
        ["time-entries", ["0000-01-01T00:00:00.000Z", crypto.randomUUID()]],
        ["time-entries", ["10000-01-01T00:00:00.000Z", crypto.randomUUID()]],
      ] as const) {
        const path = `/v1/${list}`;
        const res = await h.call("GET", `${path}?cursor=${encodeCursor(list, key)}`, { token: team.owner.token });
        expect([res.status, res.body.error?.code], `${path} ${JSON.stringify(key)}`).toEqual([400, "INVALID_CURSOR"]);
      }
    } finally {
      warn.mockRestore();
    }
  });

  it("a body field named like an Object.prototype member is an unknown field like any other", async () => {
    for (const { method, path } of withBody()) {
      const url = await concretePath(path, await fixtureIds());
      for (const field of ["toString", "constructor", "hasOwnProperty", "__proto__"]) {
        const res = await h.call(method.toUpperCase(), url, { token: team.owner.token, body: `{"${field}": 1}` });
        expect(res.status, `${method} ${path} ${field}: ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.error.code).toBe("VALIDATION_ERROR");
      }
    }
  });
});
