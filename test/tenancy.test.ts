// Another organization's ids must answer exactly like ids that do not exist,
// on every operation that takes an id, and must leave that organization's
// data untouched. The operations come from the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
} from "./support/factories";
import { type Harness, startHarness } from "./support/harness";
import { requestBodySchema, sample } from "./support/openapi-contract";
import { documentedOperations, type OpenApiDocument, openApiDocument } from "./support/openapi-operations";
import { allowSubscriptions, insertDelivery, subscribe } from "./support/webhooks";

let h: Harness;
let team: Team;
let stranger: Member;
let document: OpenApiDocument;
let ownProject: string;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
  stranger = await createMember(h, await createOrganization(h, "Elsewhere"), "owner");
  await allowSubscriptions(h, stranger.organizationId, 1000); // a subscription per operation walked
  document = await openApiDocument(h);
  ownProject = await createProject(h, team.organizationId);
});
afterAll(() => h?.close());

const theirWebhook = {
  create: async () => (await subscribe(h, stranger.organizationId)).id,
  table: "webhook_subscriptions",
};

/**
 * For each collection, a row of the other organization and a valid body to send with its id; `key` is the column the
 * path's id names (`id` unless said); `deliveryOf` gives a delivery of that row for a `{deliveryId}` in the path.
 */
const foreign: Record<
  string,
  {
    create: () => Promise<string>;
    table: string;
    key?: string;
    body?: Record<string, unknown>;
    deliveryOf?: (id: string) => Promise<string>;
  }
> = {
  "/v1/time-entries": {
    create: () => createEntry(h, stranger, { description: "theirs" }),
    table: "time_entries",
    body: { description: "mine now" },
  },
  "/v1/time-entries/{id}/stop": {
    create: async () => {
      // One running timer per user: stop the one a previous round left running.
      await h.sql(
        "update time_entries set end_time = start_time + interval '1 hour' where user_id = $1 and end_time is null",
        [stranger.id],
      );
      return createEntry(h, stranger, { description: "theirs", end: null });
    },
    table: "time_entries",
    body: {},
  },
  "/v1/time-entries/{id}/restart": {
    create: () => createEntry(h, stranger, { description: "theirs" }),
    table: "time_entries",
  },
  "/v1/projects": {
    create: () => createProject(h, stranger.organizationId, { name: "theirs" }),
    table: "projects",
    body: { name: "mine now" },
  },
  "/v1/customers": {
    create: () => createCustomer(h, stranger.organizationId, "theirs"),
    table: "customers",
    body: { name: "mine now" },
  },
  "/v1/invoices": {
    create: () => createInvoice(h, stranger.organizationId),
    table: "invoices",
    body: { status: "void" },
  },
  "/v1/invoices/{id}/time-entries": {
    create: () => createInvoice(h, stranger.organizationId),
    table: "invoices",
    // The entry is the caller's own; only the invoice is foreign.
    body: { time_entry_ids: ["00000000-0000-4000-8000-000000000000"] },
  },
  "/v1/members": {
    create: async () => (await createMember(h, stranger.organizationId, "member")).id,
    table: "organization_members",
    key: "user_id",
    body: { role: "admin" },
  },
  "/v1/webhooks": { ...theirWebhook, body: { active: false } },
  "/v1/webhooks/{id}/rotate-secret": theirWebhook,
  "/v1/webhooks/{id}/ping": theirWebhook,
  "/v1/webhooks/{id}/deliveries": theirWebhook,
  "/v1/webhooks/{id}/deliveries/{deliveryId}/retry": {
    ...theirWebhook,
    deliveryOf: (id) => insertDelivery(h, { organizationId: stranger.organizationId, id }),
  },
};

const PATH_ID = /\{\w+\}/;
const collectionOf = (path: string) => path.replace(/\/\{\w+\}$/, "");

async function operationsWithIdParam() {
  const { body } = await h.call("GET", "/openapi.json");
  return Object.entries(body.paths as Record<string, Record<string, unknown>>)
    .filter(([path]) => PATH_ID.test(path))
    .flatMap(([path, item]) => Object.keys(item).map((method) => ({ method: method.toUpperCase(), path })));
}

/**
 * Body properties that list ids: `ids` lists rows of the path's own collection, `time_entry_ids` rows of
 * /v1/time-entries, and so on.
 */
async function operationsWithIdList() {
  return (await documentedOperations(h, document)).flatMap(({ method, path, operation }) => {
    const schema = requestBodySchema(document, operation);
    const properties = (schema?.properties ?? {}) as Record<string, { type?: string; items?: { format?: string } }>;
    return Object.entries(properties)
      .filter(([, property]) => property.type === "array" && property.items?.format === "uuid")
      .map(([property]) => ({
        method: method.toUpperCase(),
        path,
        property,
        collection: property === "ids" ? (path.split("/")[2] ?? "") : pluralPath(property.replace(/_ids$/, "")),
        schema: schema ?? {},
      }));
  });
}

/** `time_entry` → `time-entries`, `invoice` → `invoices`. */
const pluralPath = (noun: string) => `${noun.replace(/y$/, "ie")}s`.replaceAll("_", "-");

/** A row of the caller's own organization for a path's `{id}`, so that only the listed ids are foreign. */
async function ownRow(path: string) {
  if (path.startsWith("/v1/invoices/")) return createInvoice(h, team.organizationId);
  throw new Error(`no own fixture for ${path}`);
}

/** The row, and the other organization's webhook events (a ping or a retry of theirs must add none). */
const snapshot = async (table: string, id: string, key = "id") => [
  await h.sql(`select * from ${table} where ${key} = $1`, [id]),
  await h.sql("select id from webhook_events where organization_id = $1 order by id", [stranger.organizationId]),
];

describe("cross-organization isolation", () => {
  it("covers every operation that takes an id", async () => {
    for (const { path } of await operationsWithIdParam()) {
      expect(Object.keys(foreign), path).toContain(collectionOf(path));
    }
  });

  it("answers another organization's ids exactly like missing ids, for every role, changing nothing", async () => {
    for (const { method, path } of await operationsWithIdParam()) {
      const resource = foreign[collectionOf(path)];
      if (!resource) throw new Error(`no foreign fixture for ${path}`);
      for (const caller of [team.owner, team.admin, team.member]) {
        const theirs = await resource.create();
        const theirDelivery = path.includes("{deliveryId}") ? await resource.deliveryOf?.(theirs) : undefined;
        const before = await snapshot(resource.table, theirs, resource.key);
        const takesBody = method !== "GET" && (method !== "DELETE" || path.endsWith("/time-entries"));
        const body = takesBody ? resource.body : undefined;
        const foreignPath = path.replace(PATH_ID, theirs).replace("{deliveryId}", theirDelivery ?? "");
        const foreignRes = await h.call(method, foreignPath, { token: caller.token, body });
        const missingPath = path.replace(PATH_ID, crypto.randomUUID()).replace("{deliveryId}", crypto.randomUUID());
        const missingRes = await h.call(method, missingPath, { token: caller.token, body });
        // Members are refused writes to projects, customers, invoices and webhooks (403) whether the id exists or not.
        expect(foreignRes.status, `${method} ${path} as ${caller.role}`).toBe(
          caller.role === "member" ? missingRes.status : 404,
        );
        expect([403, 404]).toContain(foreignRes.status);
        expect(foreignRes.body).toEqual(missingRes.body);
        expect(await snapshot(resource.table, theirs, resource.key)).toEqual(before);
      }
    }
  });

  it("covers every body that lists ids", async () => {
    const lists = await operationsWithIdList();
    expect(lists.map(({ method, path, property }) => `${method} ${path} ${property}`)).toEqual(
      expect.arrayContaining([
        "DELETE /v1/invoices/{id}/time-entries time_entry_ids",
        "DELETE /v1/time-entries ids",
        "PATCH /v1/time-entries ids",
        "POST /v1/invoices/{id}/time-entries time_entry_ids",
      ]),
    );
    for (const { collection } of lists) expect(Object.keys(foreign)).toContain(`/v1/${collection}`);
  });

  it("answers another organization's ids in a body's id list exactly like missing ids, for every role, changing nothing", async () => {
    for (const { method, path, property, collection, schema } of await operationsWithIdList()) {
      const resource = foreign[`/v1/${collection}`];
      if (!resource) throw new Error(`no foreign fixture for ${collection}`);
      for (const caller of [team.owner, team.admin, team.member]) {
        const url = path.includes("{id}") ? path.replace("{id}", await ownRow(path)) : path;
        const theirs = await resource.create();
        const before = await snapshot(resource.table, theirs);
        const missing = crypto.randomUUID();
        const bodyWith = (id: string) => ({
          ...(sample(document, schema, (name) => (name === "project_id" ? ownProject : undefined)) as object),
          [property]: [id],
        });
        const name = `${method} ${path} ${property} as ${caller.role}`;
        const foreignRes = await h.call(method, url, { token: caller.token, body: bodyWith(theirs) });
        const missingRes = await h.call(method, url, { token: caller.token, body: bodyWith(missing) });
        // Members are refused invoices (403) whatever the ids; everyone else gets 404 naming the id.
        expect(foreignRes.status, name).toBe(path.startsWith("/v1/invoices") && caller.role === "member" ? 403 : 404);
        expect(foreignRes.status, name).toBe(missingRes.status);
        if (foreignRes.status === 404) expect(foreignRes.body.error.details, name).toEqual({ [property]: [theirs] });
        expect(JSON.stringify(foreignRes.body).replaceAll(theirs, "<id>"), name).toBe(
          JSON.stringify(missingRes.body).replaceAll(missing, "<id>"),
        );
        expect(await snapshot(resource.table, theirs)).toEqual(before);
      }
    }
  });

  it("treats another organization's project in a body like a project that does not exist", async () => {
    const theirProject = await createProject(h, stranger.organizationId);
    const mine = await createEntry(h, team.member);
    const attempts = [
      () =>
        h.call("POST", "/v1/time-entries", {
          token: team.member.token,
          body: {
            start_time: "2026-11-28T09:00:00Z",
            end_time: "2026-11-28T10:00:00Z",
            description: "x",
            project_id: theirProject,
          },
        }),
      () =>
        h.call("PATCH", `/v1/time-entries/${mine}`, { token: team.member.token, body: { project_id: theirProject } }),
    ];
    for (const attempt of attempts) {
      const res = await attempt();
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual({ project_id: ["No such project in this organization"] });
    }
    const bulk = await h.call("PATCH", "/v1/time-entries", {
      token: team.member.token,
      body: { ids: [mine], changes: { project_id: theirProject } },
    });
    expect(bulk.status).toBe(400);
    expect(bulk.body.error.details).toEqual({ "changes.project_id": ["No such project in this organization"] });
  });

  it("filters lists by another organization's ids to nothing", async () => {
    const theirProject = await createProject(h, stranger.organizationId);
    await createEntry(h, stranger, { projectId: theirProject });
    for (const query of [`project_id=${theirProject}`, `user_id=${stranger.id}`]) {
      const res = await h.call("GET", `/v1/time-entries?${query}`, { token: team.owner.token });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual([]);
    }
  });

  it("does not let a token for one organization act in another where the user is not a member", async () => {
    const token = await h.sessionToken(team.owner.id, stranger.organizationId);
    const res = await h.call("GET", "/v1/time-entries", { token });
    expect(res.status).toBe(403);
  });
});
