// Property-based fuzzing of every operation /openapi.json documents: random and
// mutated path parameters, query strings, JSON bodies, content types and
// tokens. Whatever comes in, the answer is never a 5xx, and its status and body
// are ones the document gives for that operation (Ajv, JSON Schema 2020-12,
// every object closed so that a leaked field fails). FUZZ_RUNS raises the
// number of runs per operation; a failure prints the seed and the shrunk case,
// and FUZZ_SEED replays it.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import app from "../../src/app";
import { createCustomer, createEntry, createInvoice, createProject, createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { requestBodySchema, responseValidator, sample } from "../support/openapi-contract";
import type { OpenApiDocument, Operation } from "../support/openapi-operations";
import { subscribe } from "../support/webhooks";

// The document does not depend on the database: read it at collection time so
// that each operation gets a test of its own.
const document = (await (await app.request("/openapi.json")).json()) as OpenApiDocument;
const operations: Operation[] = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, operation]) => ({ path, method: method.toUpperCase(), operation })),
);

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

let h: Harness;
let team: Team;
let tokens: Record<string, string | undefined>;
const ids: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
  const customer = await createCustomer(h, team.organizationId);
  ids.customers = customer;
  ids.projects = await createProject(h, team.organizationId, {
    customerId: customer,
    hourlyRate: "100",
    currency: "EUR",
  });
  ids["time-entries"] = await createEntry(h, team.member, { projectId: ids.projects });
  ids.invoices = await createInvoice(h, team.organizationId, { customerId: customer });
  ids.webhooks = (await subscribe(h, team.organizationId)).id;
  ids.members = team.otherMember.id;
  const oauth = (scope: string) => h.issuer.sign({ userId: team.admin.id, organizationId: team.organizationId, scope });
  tokens = {
    owner: team.owner.token,
    member: team.member.token,
    readOnly: await oauth("entries:read invoices:read team:read"),
    none: undefined,
    garbage: "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl",
  };
});
afterAll(() => h?.close());

/** `project_id` → a project, `time_entry_ids` → a time entry; `ids` → a row of the path's own collection. */
const idFor =
  (pathCollection = "") =>
  (property: string) => {
    if (property === "ids") return ids[pathCollection];
    const collection = property.replace(/_ids?$/, "").replaceAll("_", "-");
    return ids[`${collection}s`] ?? ids[collection];
  };

/** Strings that have broken parsers before. */
const nasty = fc.constantFrom(
  "",
  " ",
  "null",
  "undefined",
  "0",
  "-1",
  "1e309",
  "NaN",
  "true",
  "[]",
  "{}",
  "..",
  "../..",
  "%00",
  "\u0000",
  "' or '1'='1",
  "'; drop table time_entries; --",
  "%",
  "_",
  "\\",
  "é",
  "🕒",
  "\ud800",
  "<script>",
  "00000000-0000-0000-0000-000000000000",
  "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
  "2026-02-30",
  "2026-11-28T25:00:00Z",
  "9999-12-31T23:59:59Z",
  "0000-01-01T00:00:00Z",
  "x".repeat(300),
);

const text = fc.oneof(nasty, fc.string({ maxLength: 40 }), fc.string({ unit: "grapheme", maxLength: 20 }));

/**
 * A path parameter: a real id, a random id, or anything at all, except the
 * dot segments that URL parsing resolves into another path.
 */
const pathValue = (collection: string) =>
  fc.oneof(
    fc.constant(ids[collection] ?? crypto.randomUUID()),
    fc.uuid(),
    fc.uuid().map((u) => u.toUpperCase()),
    text.filter((value) => value !== "." && value !== ".."),
  );

function queryArbitrary(operation: Operation["operation"]) {
  const parameters = (operation.parameters ?? []).filter((p) => p.in === "query");
  const valueFor = (parameter: (typeof parameters)[number]) =>
    fc.oneof(
      { weight: 3, arbitrary: fc.constant(String(sample(document, parameter.schema ?? {}, idFor(), parameter.name))) },
      // Every value of an enum (the export's `format`: each answers in its own media type).
      ...(Array.isArray(parameter.schema?.enum)
        ? [{ weight: 2, arbitrary: fc.constantFrom(...(parameter.schema.enum as unknown[]).map(String)) }]
        : []),
      { weight: 2, arbitrary: text },
      { weight: 1, arbitrary: fc.integer({ min: -5, max: 500 }).map(String) },
    );
  const pairs = fc.array(
    fc.oneof(
      {
        weight: 4,
        arbitrary: parameters.length
          ? fc.constantFrom(...parameters).chain((p) => valueFor(p).map((v) => [p.name, v] as const))
          : fc.constant(["limit", "1"] as const),
      },
      { weight: 1, arbitrary: fc.tuple(text, text) },
    ),
    { maxLength: 4 },
  );
  return fc
    .tuple(pairs, fc.boolean())
    .map(([entries, raw]) =>
      entries.map(([k, v]) => (raw ? `${k}=${v}` : `${encodeSegment(k)}=${encodeSegment(v)}`)).join("&"),
    );
}

function bodyArbitrary(operation: Operation["operation"], collection: string) {
  const schema = requestBodySchema(document, operation);
  if (!schema) return fc.constant(undefined);
  const properties = Object.keys((schema.properties ?? {}) as object);
  const valid = () => sample(document, schema, idFor(collection)) as Record<string, unknown>;
  const anyJson = fc.jsonValue({ maxDepth: 3 });
  const mutated = fc
    .array(
      fc.oneof(
        fc.tuple(fc.constantFrom(...properties), anyJson).map(([k, v]) => (b: Record<string, unknown>) => ({
          ...b,
          [k]: v,
        })),
        fc.tuple(fc.constantFrom(...properties), text).map(([k, v]) => (b: Record<string, unknown>) => ({
          ...b,
          [k]: v,
        })),
        fc.constantFrom(...properties).map((k) => (b: Record<string, unknown>) => {
          const { [k]: _, ...rest } = b;
          return rest;
        }),
        fc.constantFrom(...properties).map((k) => (b: Record<string, unknown>) => ({ ...b, [k]: null })),
      ),
      { maxLength: 3 },
    )
    .map((changes) => JSON.stringify(changes.reduce((b, change) => change(b), valid())));
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant(JSON.stringify(valid())) },
    { weight: 5, arbitrary: mutated },
    { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: text },
  );
}

/**
 * `If-Match` for the operations that take it: none, current and stale tags,
 * lists, `*`, weak tags, and anything else a header can carry.
 */
function ifMatchArbitrary(operation: Operation["operation"]) {
  const takesIfMatch = (operation.parameters ?? []).some((p) => p.in === "header" && p.name === "If-Match");
  if (!takesIfMatch) return fc.constant(undefined);
  const headerText = text.filter((value) => /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(value));
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(undefined) },
    {
      weight: 3,
      arbitrary: fc.constantFrom('"1"', '"2"', "*", 'W/"1"', '"1", "2"', '"abc"', '"01"', '""', '"2147483648"'),
    },
    { weight: 2, arbitrary: fc.constantFrom("1", '"1', "**", '"1", *', "W/1", '"a b"', ",", '"1",,"2"') },
    { weight: 1, arbitrary: headerText },
  );
}

function requestArbitrary({ path, operation }: Operation) {
  const collection = path.split("/")[2] ?? "";
  const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  return fc.record({
    params: fc.tuple(...names.map(() => pathValue(collection))),
    ifMatch: ifMatchArbitrary(operation),
    query: queryArbitrary(operation),
    body: bodyArbitrary(operation, collection),
    contentType: fc.oneof(
      { weight: 8, arbitrary: fc.constant("application/json") },
      { weight: 1, arbitrary: fc.constantFrom("text/plain", "application/json; charset=latin1", undefined) },
    ),
    token: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom("owner", "member") },
      { weight: 1, arbitrary: fc.constantFrom("readOnly", "none", "garbage") },
    ),
  });
}

function encodeSegment(value: string) {
  try {
    return encodeURIComponent(value);
  } catch {
    return "%ED%A0%80"; // a lone surrogate, as its UTF-8 bytes would be sent
  }
}

describe("fuzzing every documented operation", () => {
  it("covers the operations", () => {
    expect(operations.length).toBeGreaterThanOrEqual(5);
  });

  it.each(operations.map((o) => [`${o.method} ${o.path}`, o] as const))(
    "%s never answers 5xx, and answers only what the document says",
    async (_, op) => {
      const validate = responseValidator(document, op.operation);
      await fc.assert(
        fc.asyncProperty(requestArbitrary(op), async (req) => {
          let i = 0;
          const path = op.path.replace(/\{[^}]+\}/g, () => encodeSegment(req.params[i++] as string));
          const url = req.query ? `${path}?${req.query}` : path;
          const headers: Record<string, string> = {};
          const token = tokens[req.token];
          if (token) headers.Authorization = `Bearer ${token}`;
          if (req.body !== undefined && req.contentType) headers["Content-Type"] = req.contentType;
          if (req.ifMatch !== undefined) headers["If-Match"] = req.ifMatch;
          const res = await app.request(url, { method: op.method, headers, body: req.body }, h.env);
          const raw = await res.text();
          let body: unknown = raw;
          const contentType = res.headers.get("Content-Type");
          if (contentType?.startsWith("application/json")) body = JSON.parse(raw);
          const problems = validate(res.status, body, contentType, res.headers);
          if (res.status >= 500) problems.unshift(`server error ${res.status}`);
          if (!res.headers.get("X-Request-Id")) problems.push("no X-Request-Id");
          if (res.status === 401 && !res.headers.get("WWW-Authenticate")) problems.push("401 without WWW-Authenticate");
          if (res.status === 201 && !res.headers.get("Location")) problems.push("201 without Location");
          const etag = res.headers.get("ETag");
          const version = (body as { data?: { version?: number } | null })?.data?.version;
          if (etag !== null && etag !== `"${version}"`)
            problems.push(`ETag ${etag} is not the body's version ${version}`);
          if (problems.length > 0) {
            throw new Error(`${op.method} ${url} → ${res.status} ${raw.slice(0, 500)}\n  ${problems.join("\n  ")}`);
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: false, verbose: 1 },
      );
    },
  );
});
