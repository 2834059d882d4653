import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isoUtcText } from "../src/db/sql-fragments";
import { payloadOf } from "../src/webhooks/deliver";
import type { WebhookEvent } from "../src/webhooks/delivery.queries";
import { EVENT_TYPES, PING_EVENT } from "../src/webhooks/event-types";
import { contractCheck } from "./support/contract-check";
import { createCustomer, createTeam } from "./support/factories";
import { type Harness, startHarness } from "./support/harness";
import { schemaValidator } from "./support/openapi-contract";
import { subscribe } from "./support/webhooks";

let h: Harness;
// biome-ignore lint/suspicious/noExplicitAny: the document is inspected structurally.
let doc: any;

beforeAll(async () => {
  h = await startHarness();
  doc = (await h.call("GET", "/openapi.json")).body;
});
afterAll(() => h?.close());

type Operation = {
  operationId?: string;
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: {
    name: string;
    in: string;
    required?: boolean;
    description?: string;
    schema?: { example?: unknown };
    examples?: { example: { value: unknown } };
  }[];
  requestBody?: { required?: boolean; content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<
    string,
    {
      description?: string;
      content?: Record<string, { schema: { $ref?: string }; examples?: Record<string, unknown> }>;
    }
  >;
};

const operations = () =>
  Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      name: `${method.toUpperCase()} ${path}`,
      path,
      method,
      operation,
    })),
  );
/**
 * Time entries and projects are under entries:*, customers and invoices under invoices:*, members and the
 * organization under team:read / team:admin, webhook subscriptions under webhooks:*; /v1/me needs no scope.
 */
function expectedScopes(path: string, method: string) {
  if (path === "/v1/me") return [];
  if (/^\/v1\/(members|organizations)/.test(path)) return [method === "get" ? "team:read" : "team:admin"];
  const family = path.startsWith("/v1/webhooks")
    ? "webhooks"
    : /^\/v1\/(customers|invoices)/.test(path)
      ? "invoices"
      : "entries";
  return [`${family}:${method === "get" ? "read" : "write"}`];
}

const v1 = () => operations().filter((o) => o.path.startsWith("/v1/"));

/** The resources with a version: their PATCH and DELETE take If-Match. */
const conditionalBases = ["/v1/time-entries", "/v1/projects", "/v1/customers", "/v1/invoices", "/v1/webhooks"];
/** Every operation that takes If-Match: the resources' PATCH and DELETE, a member's and the organization's. */
const conditionalOperations = [
  ...conditionalBases.flatMap((base) => [`PATCH ${base}/{id}`, `DELETE ${base}/{id}`]),
  "PATCH /v1/members/{userId}",
  "DELETE /v1/members/{userId}",
  "PATCH /v1/organizations/current",
  "POST /v1/webhooks/{id}/rotate-secret",
  "POST /v1/time-entries/{id}/stop",
].sort();

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document served without a token", async () => {
    const res = await h.call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("application/json");
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "Time Entries API", version: expect.any(String) });
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
    });
  });

  it("lists every operation", () => {
    const crud = (base: string, param = "{id}") => [
      `GET ${base}`,
      `POST ${base}`,
      `GET ${base}/${param}`,
      `PATCH ${base}/${param}`,
      `DELETE ${base}/${param}`,
    ];
    expect(
      v1()
        .map((o) => o.name)
        .sort(),
    ).toEqual(
      [
        ...crud("/v1/time-entries"),
        "PATCH /v1/time-entries",
        "DELETE /v1/time-entries",
        "GET /v1/time-entries/current",
        "GET /v1/time-entries/summary",
        "GET /v1/time-entries/export",
        "POST /v1/time-entries/{id}/stop",
        "POST /v1/time-entries/{id}/restart",
        ...crud("/v1/projects"),
        ...crud("/v1/customers"),
        ...crud("/v1/invoices"),
        "POST /v1/invoices/{id}/time-entries",
        "DELETE /v1/invoices/{id}/time-entries",
        ...crud("/v1/members", "{userId}"),
        "GET /v1/organizations/current",
        "PATCH /v1/organizations/current",
        ...crud("/v1/webhooks"),
        "POST /v1/webhooks/{id}/rotate-secret",
        "POST /v1/webhooks/{id}/ping",
        "GET /v1/webhooks/{id}/deliveries",
        "POST /v1/webhooks/{id}/deliveries/{deliveryId}/retry",
        "GET /v1/me",
      ].sort(),
    );
  });

  it("gives every operation a unique operationId, a summary, a description and bearer security with its scope", () => {
    const ids = v1().map((o) => o.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { name, path, method, operation } of v1()) {
      expect(operation.operationId, name).toMatch(/^[a-z][A-Za-z]+$/);
      expect(operation.summary, name).toBeTruthy();
      expect(operation.description, name).toBeTruthy();
      expect(operation.security, name).toEqual([{ bearerAuth: expectedScopes(path, method) }]);
    }
  });

  it("describes every parameter with an example", () => {
    for (const { name, operation } of v1()) {
      for (const parameter of operation.parameters ?? []) {
        expect(parameter.description, `${name} ${parameter.name}`).toBeTruthy();
        expect(
          parameter.schema?.example ?? parameter.examples?.example.value,
          `${name} ${parameter.name}`,
        ).toBeDefined();
      }
    }
  });

  it("offers an optional parameter's example unticked, so that the reference's Test Request does not send it", () => {
    const optional = v1().flatMap(({ name, operation }) =>
      (operation.parameters ?? []).filter((parameter) => !parameter.required).map((parameter) => ({ name, parameter })),
    );
    expect(optional.map(({ parameter }) => parameter.name)).toEqual(
      expect.arrayContaining(["Idempotency-Key", "If-Match", "cursor", "updated_since"]),
    );
    for (const { name, parameter } of optional) {
      expect(parameter.examples, `${name} ${parameter.name}`).toEqual({
        example: { value: expect.anything(), "x-disabled": true },
      });
      // Once: a reference shows a schema's example beside the parameter's, as a second "Example".
      expect(parameter.schema?.example, `${name} ${parameter.name}`).toBeUndefined();
    }
    const required = v1().flatMap(({ operation }) => (operation.parameters ?? []).filter((p) => p.required));
    expect(required.length).toBeGreaterThan(0);
    for (const parameter of required) expect(parameter.examples).toBeUndefined();
  });

  it("writes no pattern with an escaped slash, which some client generators copy into a regex literal and break", () => {
    const patterns: string[] = [];
    const walk = (value: unknown): void => {
      if (!value || typeof value !== "object") return;
      for (const [key, inner] of Object.entries(value)) {
        if (key === "pattern" && typeof inner === "string") patterns.push(inner);
        else walk(inner);
      }
    };
    walk(doc);
    expect(patterns.length).toBeGreaterThan(30);
    expect(patterns.filter((pattern) => pattern.includes("\\/"))).toEqual([]);
  });

  it("makes no object nullable by a type list, but by anyOf with null, which client generators type as T | null", () => {
    const nullableObjects: string[] = [];
    const walk = (value: unknown, path: string): void => {
      if (!value || typeof value !== "object") return;
      const type = (value as { type?: unknown }).type;
      if (Array.isArray(type) && type.includes("object") && type.includes("null")) nullableObjects.push(path);
      for (const [key, inner] of Object.entries(value)) walk(inner, `${path}/${key}`);
    };
    walk(doc, "#");
    expect(nullableObjects).toEqual([]);
    expect(doc.components.schemas.TimeEntry.properties.project).toEqual({
      anyOf: [{ $ref: "#/components/schemas/TimeEntryProject" }, { type: "null" }],
    });
  });

  it("requires strict JSON bodies with examples", () => {
    for (const { name, operation } of v1().filter((o) => o.operation.requestBody)) {
      // Stopping a timer takes an optional body (end_time defaults to now); every other body is required.
      expect(operation.requestBody?.required, name).toBe(name !== "POST /v1/time-entries/{id}/stop");
      const ref = operation.requestBody?.content["application/json"]?.schema.$ref ?? "";
      const schema = doc.components.schemas[ref.replace("#/components/schemas/", "")];
      expect(schema.additionalProperties, name).toBe(false);
      expect(schema.example, name).toBeDefined();
    }
  });

  it("documents the auth, validation and server errors of every operation, with an example per code", () => {
    for (const { name, operation } of v1()) {
      const takesInput = Boolean(operation.parameters?.length || operation.requestBody);
      for (const status of [...(takesInput ? ["400"] : []), "401", "403", "500", "503"]) {
        expect(operation.responses[status], `${name} ${status}`).toBeDefined();
      }
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description, `${name} ${status}`).toBeTruthy();
        if (Number(status) < 400) continue;
        const json = response.content?.["application/json"];
        expect(json?.schema.$ref, `${name} ${status}`).toBe("#/components/schemas/Error");
        for (const [code, example] of Object.entries(json?.examples ?? {})) {
          expect(example, `${name} ${status} ${code}`).toMatchObject({ value: { error: { code } } });
        }
      }
    }
  });

  it("documents the error codes specific to each operation", () => {
    const codes = (name: string, status: string) =>
      Object.keys(
        v1().find((o) => o.name === name)?.operation.responses[status]?.content?.["application/json"]?.examples ?? {},
      );
    expect(codes("GET /v1/time-entries", "400")).toEqual(["VALIDATION_ERROR", "INVALID_CURSOR"]);
    expect(codes("GET /v1/time-entries/export", "400")).toEqual(["VALIDATION_ERROR"]);
    expect(codes("POST /v1/time-entries", "409")).toEqual([
      "TIMER_ALREADY_RUNNING",
      "OVERLAP",
      "PROJECT_INACTIVE",
      "IDEMPOTENCY_KEY_IN_USE",
    ]);
    expect(codes("POST /v1/time-entries", "422")).toEqual(["IDEMPOTENCY_KEY_MISMATCH"]);
    expect(codes("POST /v1/time-entries", "413")).toEqual(["PAYLOAD_TOO_LARGE"]);
    expect(codes("POST /v1/time-entries", "415")).toEqual(["UNSUPPORTED_MEDIA_TYPE"]);
    expect(codes("PATCH /v1/time-entries/{id}", "409")).toEqual([
      "TIMER_ALREADY_RUNNING",
      "ENTRY_LOCKED",
      "OVERLAP",
      "PROJECT_INACTIVE",
    ]);
    expect(codes("PATCH /v1/time-entries", "409")).toEqual(["ENTRY_LOCKED", "PROJECT_INACTIVE"]);
    expect(codes("PATCH /v1/time-entries/{id}", "404")).toEqual(["NOT_FOUND"]);
    expect(codes("DELETE /v1/time-entries/{id}", "409")).toEqual(["ENTRY_LOCKED"]);
    expect(codes("GET /v1/time-entries/{id}", "404")).toEqual(["NOT_FOUND"]);
    expect(codes("POST /v1/time-entries/{id}/stop", "409")).toEqual([
      "TIMER_NOT_RUNNING",
      "ENTRY_LOCKED",
      "OVERLAP",
      "PROJECT_INACTIVE",
      "IDEMPOTENCY_KEY_IN_USE",
    ]);
    expect(codes("POST /v1/time-entries/{id}/stop", "404")).toEqual(["NOT_FOUND"]);
    expect(codes("POST /v1/time-entries/{id}/stop", "412")).toEqual(["PRECONDITION_FAILED"]);
    expect(codes("POST /v1/time-entries/{id}/restart", "409")).toEqual([
      "TIMER_ALREADY_RUNNING",
      "OVERLAP",
      "PROJECT_INACTIVE",
      "IDEMPOTENCY_KEY_IN_USE",
    ]);
    for (const base of conditionalBases) {
      expect(codes(`PATCH ${base}/{id}`, "412"), base).toEqual(["PRECONDITION_FAILED"]);
      expect(codes(`DELETE ${base}/{id}`, "412"), base).toEqual(["PRECONDITION_FAILED"]);
    }
    expect(codes("POST /v1/members", "409")).toEqual(["ALREADY_MEMBER", "IDEMPOTENCY_KEY_IN_USE"]);
    expect(codes("PATCH /v1/members/{userId}", "409")).toEqual(["MEMBER_REMOVED", "LAST_OWNER"]);
    expect(codes("DELETE /v1/members/{userId}", "409")).toEqual(["MEMBER_REMOVED", "LAST_OWNER"]);
    expect(codes("PATCH /v1/organizations/current", "412")).toEqual(["PRECONDITION_FAILED"]);
    expect(codes("POST /v1/webhooks/{id}/rotate-secret", "412")).toEqual(["PRECONDITION_FAILED"]);
    expect(codes("POST /v1/webhooks", "400")).toEqual(["VALIDATION_ERROR"]);
    expect(codes("POST /v1/webhooks/{id}/ping", "409")).toEqual(["WEBHOOK_DISABLED", "IDEMPOTENCY_KEY_IN_USE"]);
    expect(codes("POST /v1/webhooks/{id}/deliveries/{deliveryId}/retry", "409")).toEqual([
      "WEBHOOK_DISABLED",
      "IDEMPOTENCY_KEY_IN_USE",
    ]);
    expect(codes("GET /v1/webhooks/{id}/deliveries", "404")).toEqual(["NOT_FOUND"]);
    const preconditions = v1().filter((o) => o.operation.responses["412"]);
    expect(preconditions.map((o) => o.name).sort()).toEqual(conditionalOperations);
  });

  it("documents If-Match on PATCH and DELETE of every resource with a version, on stop and rotate-secret, and nowhere else", () => {
    const takesIfMatch = v1()
      .filter((o) => o.operation.parameters?.some((p) => p.in === "header" && p.name === "If-Match"))
      .map((o) => o.name)
      .sort();
    expect(takesIfMatch).toEqual(conditionalOperations);
    const parameter = doc.paths["/v1/projects/{id}"].patch.parameters.find(
      (p: { name: string }) => p.name === "If-Match",
    );
    expect(parameter).toMatchObject({
      in: "header",
      required: false,
      schema: { type: "string" },
      examples: { example: { value: '"3"' } },
    });
  });

  it("documents the headers a POST's errors carry: Idempotent-Replayed on every 4xx, Retry-After on 409, and 415's Accept-Encoding", () => {
    type Response = { description: string; headers?: Record<string, unknown> };
    const posts = v1().filter((o) => o.method === "post");
    expect(posts.length).toBeGreaterThan(10);
    for (const { name, operation } of posts) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, Response>)) {
        const headers = Object.keys(response.headers ?? {});
        // The key's own refusals (in use, another request's) are never replays.
        const codes = [...response.description.matchAll(/^`([A-Z_]+)`:/gm)].map((match) => match[1]);
        const replayable = codes.some((code) => !code?.startsWith("IDEMPOTENCY_KEY_"));
        if (status.startsWith("4") && replayable) {
          expect(headers, `${name} ${status}`).toContain("Idempotent-Replayed");
        }
        if (status === "409") expect(headers, `${name} ${status}`).toContain("Retry-After");
        if (status === "415") expect(headers, `${name} ${status}`).toContain("Accept-Encoding");
      }
    }
  });

  it("documents Idempotency-Key, its errors and Idempotent-Replayed on POSTs only, not on operations sharing their responses", () => {
    type Response = { description: string; headers?: Record<string, unknown>; content?: Record<string, unknown> };
    const others = v1().filter((o) => o.method !== "post");
    expect(others.length).toBeGreaterThan(10);
    for (const { name, operation } of others) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, Response>)) {
        expect(Object.keys(response.headers ?? {}), `${name} ${status}`).not.toContain("Idempotent-Replayed");
        if (status === "409") expect(Object.keys(response.headers ?? {}), `${name} 409`).not.toContain("Retry-After");
        expect(JSON.stringify(response), `${name} ${status}`).not.toContain("IDEMPOTENCY_KEY_");
      }
    }
  });

  it("documents ETag on every answer that carries one resource, and version on every resource", () => {
    const withEtag = v1()
      .flatMap((o) =>
        Object.entries(o.operation.responses)
          .filter(([, response]) => Object.hasOwn((response as { headers?: object }).headers ?? {}, "ETag"))
          .map(([status]) => `${o.name} ${status}`),
      )
      .sort();
    expect(withEtag).toEqual(
      [
        ...conditionalBases.flatMap((base) => [`POST ${base} 201`, `GET ${base}/{id} 200`, `PATCH ${base}/{id} 200`]),
        "GET /v1/time-entries/current 200",
        "POST /v1/time-entries/{id}/stop 200",
        "POST /v1/time-entries/{id}/restart 201",
        "POST /v1/invoices/{id}/time-entries 200",
        "DELETE /v1/invoices/{id}/time-entries 200",
        "POST /v1/members 201",
        "GET /v1/members/{userId} 200",
        "PATCH /v1/members/{userId} 200",
        "GET /v1/organizations/current 200",
        "PATCH /v1/organizations/current 200",
        "POST /v1/webhooks/{id}/rotate-secret 200",
      ].sort(),
    );
    expect(doc.paths["/v1/time-entries/{id}"].get.responses["200"].headers.ETag.required).toBe(true);
    expect(doc.paths["/v1/time-entries/current"].get.responses["200"].headers.ETag.required).toBe(false);
    for (const schema of ["TimeEntry", "Project", "Customer", "Invoice", "Member", "Organization", "Webhook"]) {
      expect(doc.components.schemas[schema].properties.version, schema).toMatchObject({ type: "integer" });
      expect(doc.components.schemas[schema].required, schema).toContain("version");
    }
    for (const nested of ["TimeEntryProject", "TimeEntryInvoice"]) {
      expect(doc.components.schemas[nested].properties, nested).not.toHaveProperty("version");
    }
  });

  it("documents the headers every response carries", () => {
    for (const { name, operation } of v1()) {
      for (const [status, response] of Object.entries(operation.responses) as [string, { headers?: object }][]) {
        expect(response.headers, `${name} ${status}`).toHaveProperty("X-Request-Id");
      }
      expect(operation.responses["401"]).toHaveProperty(["headers", "WWW-Authenticate"]);
      expect(operation.responses["503"]).toHaveProperty(["headers", "Retry-After"]);
    }
    expect(doc.paths["/v1/time-entries"].post.responses["201"].headers).toHaveProperty("Location");
    expect(doc.paths["/v1/time-entries/{id}/restart"].post.responses["201"].headers).toHaveProperty("Location");
    expect(doc.paths["/v1/webhooks"].post.responses["201"].headers).toHaveProperty("Location");
  });

  it("documents the export's streamed 200 as CSV and NDJSON with examples, and its round trip per page", () => {
    const operation = doc.paths["/v1/time-entries/export"].get;
    const ok = operation.responses["200"];
    expect(Object.keys(ok.content)).toEqual(["text/csv", "application/x-ndjson"]);
    expect(ok.headers).toHaveProperty("Content-Disposition");
    const csv: string = ok.content["text/csv"].example;
    expect(csv.split("\r\n")[0]).toBe(
      "id,start_time,end_time,duration,description,billable,user_id,user_email,user_full_name,project_id,project_name,customer_id,customer_name,hourly_rate,currency,invoice_id,invoice_number",
    );
    expect(csv.endsWith("\r\n")).toBe(true);
    const ndjson = ok.content["application/x-ndjson"];
    expect(ndjson["x-item-schema"]).toEqual({ $ref: "#/components/schemas/TimeEntry" });
    const lines = (ndjson.example as string).trimEnd().split("\n");
    expect(lines.map((line) => Object.keys(JSON.parse(line)))).toEqual(
      lines.map(() => Object.keys(doc.components.schemas.TimeEntry.properties)),
    );
    expect(operation.description).toContain("one per page (an empty export costs one)");
    expect(operation.description).toContain("pages of 2,000 entries");
    expect(operation.parameters.map((p: { name: string }) => p.name)).not.toContain("cursor");
  });
});

describe("webhooks", () => {
  const eventTypes = [...EVENT_TYPES, PING_EVENT];
  const bodyOf = (type: string) => doc.webhooks[type].post.requestBody.content["application/json"];

  it("lists every event type and webhook.ping, each with the signature headers, a body schema and an example", () => {
    expect(Object.keys(doc.webhooks).sort()).toEqual([...eventTypes].sort());
    for (const type of eventTypes) {
      const operation = doc.webhooks[type].post;
      expect(operation.parameters.map((p: { name: string; in: string; required: boolean }) => p)).toEqual(
        ["webhook-id", "webhook-timestamp", "webhook-signature"].map((name) =>
          expect.objectContaining({ name, in: "header", required: true, description: expect.any(String) }),
        ),
      );
      expect(operation.security).toEqual([]);
      expect(Object.keys(operation.responses).sort()).toEqual(["2XX", "410", "default"]);
      expect(operation.description).toContain("a `410 Gone` fails the delivery and disables the subscription");
      expect(operation.description).toContain("Answer 2xx within 10 s");
      const body = bodyOf(type);
      expect(operation.requestBody.required).toBe(true);
      const schema = doc.components.schemas[body.schema.$ref.split("/").pop()];
      expect(schema.properties.type).toEqual({ type: "string", enum: [type] });
      expect(schema.required).toEqual(expect.arrayContaining(["id", "type", "created_at", "organization_id", "data"]));
      expect(body.example.type).toBe(type);
      expect(schemaValidator(doc, body.schema)(body.example), type).toEqual([]);
    }
  });

  it("gathers every event's body in WebhookEvent, told apart by type, for receivers' generated types", () => {
    const union = doc.components.schemas.WebhookEvent;
    const refs = eventTypes.map((type) => bodyOf(type).schema.$ref);
    expect(union.oneOf).toEqual(refs.map(($ref) => ({ $ref })));
    expect(union.discriminator).toEqual({
      propertyName: "type",
      mapping: Object.fromEntries(eventTypes.map((type, i) => [type, refs[i]])),
    });
  });

  it("gives each event the schema of what its SQL sends: the resource by reference, a tombstone for a deletion", () => {
    const dataOf = (type: string) =>
      doc.components.schemas[bodyOf(type).schema.$ref.split("/").pop()].properties.data.$ref.split("/").pop();
    expect(Object.fromEntries(eventTypes.map((type) => [type, dataOf(type)]))).toEqual({
      "time_entry.created": "TimeEntry",
      "time_entry.updated": "TimeEntry",
      "time_entry.deleted": "Tombstone",
      "timer.started": "TimeEntry",
      "timer.stopped": "TimeEntry",
      "project.created": "Project",
      "project.updated": "Project",
      "project.deleted": "Tombstone",
      "customer.created": "Customer",
      "customer.updated": "Customer",
      "customer.deleted": "Tombstone",
      "invoice.created": "InvoiceWithSummary",
      "invoice.updated": "InvoiceWithSummary",
      "invoice.deleted": "Tombstone",
      "invoice.status_changed": "InvoiceWithSummary",
      "member.added": "Member",
      "member.updated": "Member",
      "member.removed": "Member",
      "webhook.ping": "Webhook",
    });
  });

  it("illustrates each event by what it sends: a running timer, a removed member, a status that changed", () => {
    const example = (type: string) => bodyOf(type).example;
    expect(example("timer.started").data).toMatchObject({ end_time: null, duration: null });
    expect(example("timer.stopped").data).toMatchObject({ end_time: expect.any(String), duration: 5400 });
    expect(example("member.removed").data).toMatchObject({ status: "removed", removed_at: expect.any(String) });
    expect(example("member.added").data).toMatchObject({ status: "active", removed_at: null });
    const statusChanged = example("invoice.status_changed");
    expect([statusChanged.data.status, statusChanged.previous_attributes.status]).toEqual(["sent", "draft"]);
  });

  it("describes every event the API stores, as it is delivered, by the schema of its type", async () => {
    const team = await createTeam(h);
    const subscription = await subscribe(h, team.organizationId);
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await h.call(method, path, { token: team.owner.token, body });
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
      return res.body?.data;
    };
    const customer = await call("POST", "/v1/customers", { name: "Acme" });
    await call("PATCH", `/v1/customers/${customer.id}`, { name: "Acme GmbH" });
    const project = await call("POST", "/v1/projects", {
      name: "Web",
      customer_id: customer.id,
      hourly_rate: 100,
      currency: "EUR",
    });
    await call("PATCH", `/v1/projects/${project.id}`, { name: "Website" });
    const entry = await call("POST", "/v1/time-entries", {
      project_id: project.id,
      start_time: "2026-11-28T09:00:00Z",
      description: "Work",
    });
    await call("POST", `/v1/time-entries/${entry.id}/stop`, { end_time: "2026-11-28T10:00:00Z" });
    const other = await call("POST", "/v1/time-entries", {
      start_time: "2026-11-28T11:00:00Z",
      end_time: "2026-11-28T12:00:00Z",
      description: "Other",
    });
    await call("DELETE", `/v1/time-entries/${other.id}`);
    const invoice = await call("POST", "/v1/invoices", {
      customer_id: customer.id,
      number: "INV-1",
      date: "2026-11-30",
    });
    await call("POST", `/v1/invoices/${invoice.id}/time-entries`, { time_entry_ids: [entry.id] });
    await call("PATCH", `/v1/invoices/${invoice.id}`, { status: "sent" });
    const draft = await call("POST", "/v1/invoices", { customer_id: customer.id, number: "INV-2", date: "2026-11-30" });
    await call("DELETE", `/v1/invoices/${draft.id}`);
    await call("DELETE", `/v1/projects/${(await call("POST", "/v1/projects", { name: "Spare" })).id}`);
    await call("DELETE", `/v1/customers/${(await call("POST", "/v1/customers", { name: "Spare" })).id}`);
    const member = await call("POST", "/v1/members", { email: "grace@example.com", role: "member" });
    await call("PATCH", `/v1/members/${member.id}`, { role: "admin" });
    await call("DELETE", `/v1/members/${member.id}`);
    await call("POST", `/v1/webhooks/${subscription.id}/ping`);

    const rows = await h.sql(
      `select json_build_object('id', e.id, 'type', e.type, 'created_at', ${isoUtcText("e.created_at")},
         'organization_id', e.organization_id, 'data', e.data, 'previous_attributes', e.previous_attributes)::text as event
       from webhook_events e where e.organization_id = $1 order by e.created_at, e.type`,
      [team.organizationId],
    );
    const events = rows.map((row) => JSON.parse(row.event as string) as WebhookEvent);
    expect(new Set(events.map((event) => event.type))).toEqual(new Set(eventTypes));
    for (const event of events) {
      const delivered = JSON.parse(payloadOf(event));
      expect(schemaValidator(doc, bodyOf(event.type).schema)(delivered), event.type).toEqual([]);
    }
  });
});

describe("methods outside the operations", () => {
  it("documents the 405 of a method a path does not take as a reusable response, with Allow, as the server answers it", async () => {
    const res = await h.call("PUT", "/v1/time-entries");
    const documented = doc.components.responses.MethodNotAllowed;
    expect(res.status).toBe(405);
    expect(schemaValidator(doc, documented.content["application/json"].schema)(res.body)).toEqual([]);
    expect(res.body.error.code).toBe("METHOD_NOT_ALLOWED");
    expect(Object.keys(documented.content["application/json"].examples)).toEqual(["METHOD_NOT_ALLOWED"]);
    expect(res.headers.get("Allow")).toBe("DELETE, GET, HEAD, PATCH, POST, OPTIONS");
    expect(Object.keys(documented.headers)).toContain("Allow");
    expect(doc.components.headers.Allow.description).toContain("405");
    expect(doc.info.description).toContain("**Methods.**");
  });
});

describe("request schemas", () => {
  it("refuse what the server refuses, and take what it takes: codes, URLs", async () => {
    const team = await createTeam(h);
    type Case = [string, string, Record<string, unknown>, boolean];
    const websites = (valid: boolean, ...urls: string[]) =>
      urls.map((website): Case => ["/v1/customers", "CreateCustomer", { name: "Linked", website }, valid]);
    const cases: Case[] = [
      ["/v1/projects", "CreateProject", { name: "Rated", hourly_rate: 10, currency: "eur" }, false],
      ["/v1/projects", "CreateProject", { name: "Rated", hourly_rate: 10, currency: "XXX" }, false],
      ["/v1/projects", "CreateProject", { name: "Rated", hourly_rate: 10, currency: "EUR" }, true],
      ["/v1/projects", "CreateProject", { name: "Unrated", currency: null }, true],
      ["/v1/customers", "CreateCustomer", { name: "Coded", country_code: "gb" }, false],
      ["/v1/customers", "CreateCustomer", { name: "Coded", country_code: "GB" }, true],
      ["/v1/customers", "CreateCustomer", { name: "Linked", website: "ftp://globex.example" }, false],
      ["/v1/customers", "CreateCustomer", { name: "Linked", website: "https://u:p@globex.example" }, false],
      ["/v1/customers", "CreateCustomer", { name: "Linked", website: "https://@globex.example" }, false],
      ["/v1/customers", "CreateCustomer", { name: "Linked", website: "https:globex.example" }, false],
      ["/v1/customers", "CreateCustomer", { name: "Linked", website: "HTTPS://Globex.example/a@b?c#d" }, true],
      ...websites(
        true,
        "https://münchen.de",
        "https://пример.рф",
        "https://ｅxample.com",
        "https://example.com:8443/ä",
        "https://example.com/?q={x}",
        "https://example.com/a|b",
        "https://example.com/<x>",
        "https://example.com/%zz",
        "https://xn--bcher-kva.example:65535/",
        "https://b-ü.example.рф/",
      ),
      ...websites(
        false,
        "http://",
        "http://localhost",
        "https://example",
        "https://example.com.",
        "https://ex_ample.com",
        "https://-example.com",
        "https://[::1]/",
        "https://example.com\\@evil.example",
        "https:///example.com",
        "https://example.123",
        "https://example.c",
        "https://a.b1",
        "https://example.co-m",
        "https://example.com:99999",
        "https://example.com:65536",
      ),
    ];
    for (const [path, schema, body, valid] of cases) {
      const problems = schemaValidator(doc, { $ref: `#/components/schemas/${schema}` })(body);
      const res = await h.call("POST", path, { token: team.owner.token, body });
      expect([JSON.stringify(body), problems.length === 0, res.status]).toEqual([
        JSON.stringify(body),
        valid,
        valid ? 201 : 400,
      ]);
    }
  });
});

describe("GET /docs", () => {
  it("serves an API reference page for the document", async () => {
    const res = await h.call("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("text/html");
    expect(res.body).toContain("/openapi.json");
  });
});

describe("examples", () => {
  type Located = { where: string; schema: Record<string, unknown>; value: unknown };
  /** Every example the document gives beside the schema it illustrates: media types, parameters, headers. */
  function examplesOf(node: unknown, where: string): Located[] {
    if (!node || typeof node !== "object") return [];
    const found: Located[] = [];
    const { schema, example, examples } = node as {
      schema?: Record<string, unknown>;
      example?: unknown;
      examples?: object;
    };
    if (schema && typeof schema === "object" && !Array.isArray(node)) {
      if (example !== undefined) found.push({ where, schema, value: example });
      for (const [name, named] of Object.entries(examples ?? {}))
        found.push({ where: `${where} examples.${name}`, schema, value: (named as { value: unknown }).value });
    }
    for (const [key, child] of Object.entries(node)) {
      if (key === "schema" || key === "examples" || key === "example") continue;
      found.push(...examplesOf(child, `${where}/${key}`));
    }
    return found;
  }

  it("fit the schema they illustrate, with every object closed, in operations and webhooks alike", () => {
    const located = [...examplesOf(doc.paths, "paths"), ...examplesOf(doc.webhooks, "webhooks")];
    expect(located.length).toBeGreaterThan(100);
    const problems = located.flatMap(({ where, schema, value }) => {
      // Text media types (CSV, NDJSON) are examples of text; the NDJSON lines are checked by the export's test.
      if (/\/content\/(text\/csv|application\/x-ndjson)$/.test(where)) return [];
      return schemaValidator(doc, schema)(value).map((problem) => `${where}: ${problem}`);
    });
    expect(problems).toEqual([]);
  });

  it("of every named schema fit it", () => {
    const schemas = Object.entries(doc.components.schemas as Record<string, { example?: unknown }>);
    expect(schemas.filter(([, schema]) => schema.example !== undefined).length).toBeGreaterThan(10);
    const problems = schemas.flatMap(([name, schema]) =>
      schema.example === undefined
        ? []
        : schemaValidator(doc, { $ref: `#/components/schemas/${name}` })(schema.example).map(
            (problem) => `${name}: ${problem}`,
          ),
    );
    expect(problems).toEqual([]);
  });
});

describe("error examples", () => {
  /** The example the document gives for `code` in `status` of the operation `name`. */
  const exampleOf = (name: string, status: string, code: string) => {
    const [method, path] = name.split(" ");
    const operation = doc.paths[path as string][(method as string).toLowerCase()] as Operation;
    const examples = operation.responses[status]?.content?.["application/json"]?.examples ?? {};
    return (examples[code] as { value: { error: { message: string; details?: object } } }).value.error;
  };
  /** What an answer's error is like: its message, and the names of its details with the kind of each value. */
  const shape = (error: { message: string; details?: object }) => ({
    message: error.message,
    details: Object.entries(error.details ?? {}).map(([key, value]) => [
      key,
      Array.isArray(value) ? "list" : typeof value,
    ]),
  });

  it("are what the operation answers, in its message and the names of its details", async () => {
    const team = await createTeam(h);
    const token = team.owner.token;
    const missing = crypto.randomUUID();
    const invoice = await h.call("POST", "/v1/invoices", {
      token,
      body: {
        number: `EX-${missing.slice(0, 8)}`,
        date: "2026-11-30",
        customer_id: await createCustomer(h, team.organizationId),
      },
    });
    const cases: [string, string, string, Promise<{ body: { error: { message: string; details?: object } } }>][] = [
      [
        "PATCH /v1/time-entries",
        "404",
        "NOT_FOUND",
        h.call("PATCH", "/v1/time-entries", { token, body: { ids: [missing], changes: { billable: true } } }),
      ],
      [
        "DELETE /v1/time-entries",
        "404",
        "NOT_FOUND",
        h.call("DELETE", "/v1/time-entries", { token, body: { ids: [missing] } }),
      ],
      [
        "POST /v1/invoices/{id}/time-entries",
        "404",
        "NOT_FOUND",
        h.call("POST", `/v1/invoices/${invoice.body.data?.id}/time-entries`, {
          token,
          body: { time_entry_ids: [missing] },
        }),
      ],
      [
        "POST /v1/time-entries",
        "413",
        "PAYLOAD_TOO_LARGE",
        h.call("POST", "/v1/time-entries", { token, body: { description: "x".repeat(70_000) } }),
      ],
      [
        "POST /v1/time-entries",
        "415",
        "UNSUPPORTED_MEDIA_TYPE",
        h.call("POST", "/v1/time-entries", { token, body: "{}", headers: { "Content-Type": "text/plain" } }),
      ],
    ];
    for (const [name, status, code, answer] of cases) {
      expect([name, shape((await answer).body.error)]).toEqual([name, shape(exampleOf(name, status, code))]);
    }
  });

  it("name each operation's own resource, scope and fields, not a time entry's", async () => {
    const team = await createTeam(h);
    const token = team.owner.token;
    const missing = crypto.randomUUID();
    const stale = { "If-Match": '"99"' };
    const readOnly = await h.issuer.sign({
      userId: team.owner.id,
      organizationId: team.organizationId,
      scope: "entries:read",
    });
    const cases: [string, string, string, Promise<{ body: { error: { message: string; details?: object } } }>][] = [
      ["GET /v1/webhooks/{id}", "404", "NOT_FOUND", h.call("GET", `/v1/webhooks/${missing}`, { token })],
      ["GET /v1/projects/{id}", "404", "NOT_FOUND", h.call("GET", `/v1/projects/${missing}`, { token })],
      [
        "PATCH /v1/members/{userId}",
        "412",
        "PRECONDITION_FAILED",
        h.call("PATCH", `/v1/members/${team.member.id}`, { token, body: { role: "admin" }, headers: stale }),
      ],
      [
        "PATCH /v1/organizations/current",
        "412",
        "PRECONDITION_FAILED",
        h.call("PATCH", "/v1/organizations/current", { token, body: { name: "X" }, headers: stale }),
      ],
      ["POST /v1/webhooks", "403", "INSUFFICIENT_SCOPE", h.call("POST", "/v1/webhooks", { token: readOnly, body: {} })],
      ["POST /v1/projects", "400", "VALIDATION_ERROR", h.call("POST", "/v1/projects", { token, body: {} })],
      [
        "PATCH /v1/customers/{id}",
        "400",
        "VALIDATION_ERROR",
        h.call("PATCH", `/v1/customers/${missing}`, { token, body: {} }),
      ],
      ["GET /v1/invoices/{id}", "400", "VALIDATION_ERROR", h.call("GET", "/v1/invoices/not-a-uuid", { token })],
      ["GET /v1/members", "400", "VALIDATION_ERROR", h.call("GET", "/v1/members?verbose=1", { token })],
    ];
    for (const [name, status, code, answer] of cases) {
      const answered = (await answer).body.error;
      expect([name, answered]).toEqual([name, { code, ...exampleOf(name, status, code) }]);
    }
  });
});

describe("the harness's contract check", () => {
  const checkContract = contractCheck(async () => doc);
  const json = new Headers({ "Content-Type": "application/json" });

  it("refuses an answer a documented operation does not document: a partial body, an undocumented status", async () => {
    await expect(
      checkContract("POST", "/v1/time-entries", { status: 201, headers: json, body: { data: { id: "x" } } }),
    ).rejects.toThrow(/POST \/v1\/time-entries answered 201 outside \/openapi\.json:\n.*required property 'user_id'/s);
    await expect(
      checkContract("GET", "/v1/time-entries/0b0f9e52-3b59-4f38-9a49-3f8d5b6a0d15", {
        status: 418,
        headers: json,
        body: {},
      }),
    ).rejects.toThrow(/status 418 is not documented/);
  });

  it("takes a literal segment over a parameter, and leaves alone what no operation documents", async () => {
    // PATCH /v1/time-entries/current is no PATCH /v1/time-entries/{id}: the router answers 405 for it.
    const notAllowed = { status: 405, headers: json, body: { error: { code: "METHOD_NOT_ALLOWED" } } };
    await expect(checkContract("PATCH", "/v1/time-entries/current", notAllowed)).resolves.toBeUndefined();
    await expect(checkContract("GET", "/v1/nowhere", { ...notAllowed, status: 404 })).resolves.toBeUndefined();
    await expect(
      checkContract("PATCH", "/v1/time-entries/0b0f9e52-3b59-4f38-9a49-3f8d5b6a0d15", notAllowed),
    ).rejects.toThrow(/status 405 is not documented/);
  });
});
