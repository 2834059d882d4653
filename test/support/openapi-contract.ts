// Reads /openapi.json as a contract: Ajv (JSON Schema 2020-12, OpenAPI 3.1's
// dialect) validators for every documented response, with every object schema
// closed (`additionalProperties: false`) so that a field the document does not
// list fails, and sample values that satisfy a request schema.
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type { OpenApiDocument, OperationObject } from "./openapi-operations";

type Schema = Record<string, unknown>;

const isObject = (value: unknown): value is Schema =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Follows a local `$ref` (`#/components/schemas/X`) in `document`. */
export function deref(document: OpenApiDocument, schema: Schema): Schema {
  let current = schema;
  for (let depth = 0; typeof current.$ref === "string" && depth < 10; depth++) {
    const pointer = current.$ref.replace(/^#\//, "").split("/");
    let target: unknown = document;
    for (const part of pointer) target = (target as Schema)[part.replaceAll("~1", "/").replaceAll("~0", "~")];
    if (!isObject(target)) throw new Error(`cannot resolve ${current.$ref}`);
    current = target;
  }
  return current;
}

const isObjectSchema = (schema: Schema) =>
  schema.type === "object" || (Array.isArray(schema.type) && schema.type.includes("object"));

/**
 * A copy of `schema` in which every object lists all it may hold: objects
 * without `additionalProperties` get `false`, and an `allOf` of objects is
 * merged into one closed object (closing each part alone would reject the other
 * parts' properties).
 */
function closed(document: OpenApiDocument, schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map((item) => closed(document, item));
  if (!isObject(schema)) return schema;
  if (Array.isArray(schema.allOf)) {
    const parts = schema.allOf.map((part) => deref(document, part as Schema));
    if (parts.every(isObjectSchema)) {
      const { allOf: _, ...rest } = schema;
      const merged: Schema = {
        ...rest,
        type: "object",
        properties: Object.assign({}, ...parts.map((part) => part.properties ?? {})),
        required: [...new Set(parts.flatMap((part) => (part.required as string[] | undefined) ?? []))],
      };
      return closed(document, merged);
    }
  }
  const copy: Schema = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, closed(document, value)]));
  if (isObjectSchema(copy) && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy;
}

const DOCUMENT_ID = "https://time-entries.test/openapi.json";

export type ResponseValidator = (
  status: number,
  body: unknown,
  contentType: string | null,
  headers?: Headers,
) => string[];

type HeaderCheck = { name: string; required: boolean; validate: ValidateFunction };
type BodyCheck = (body: unknown) => string[];

/** `text/csv; charset=utf-8` → `text/csv`. */
const mediaTypeOf = (contentType: string | null) => contentType?.split(";")[0]?.trim().toLowerCase() ?? "";

/**
 * Checks a response against what the document says `operation` answers: a documented status, one of
 * its documented media types, and a body that matches the schema: JSON against its schema; a
 * line-delimited stream (`application/x-ndjson`) line by line against its `x-item-schema`; other
 * text (CSV) as text. Errors are documented as JSON only, so an error in any other form fails.
 * Given `headers`, every header the document lists for that status is checked too (a required one
 * must be there, and any one present must fit its schema; integers are read from their text).
 */
export function responseValidator(document: OpenApiDocument, operation: OperationObject): ResponseValidator {
  const ajv = ajvFor(document);
  const compile = (schema: Schema) => schemaValidator(document, schema);
  const checks = new Map<string, Map<string, BodyCheck>>();
  const headerChecks = new Map<string, HeaderCheck[]>();
  for (const [status, response] of Object.entries(operation.responses)) {
    const byMediaType = new Map<string, BodyCheck>();
    for (const [mediaType, media] of Object.entries(response.content ?? {})) {
      const itemSchema = (media as { "x-item-schema"?: Schema })["x-item-schema"];
      if (mediaType === "application/json") byMediaType.set(mediaType, compile(media.schema));
      else if (itemSchema) byMediaType.set(mediaType, linesOf(compile(itemSchema)));
      else byMediaType.set(mediaType, (body) => (typeof body === "string" ? [] : ["expected a text body"]));
    }
    checks.set(status, byMediaType);
    headerChecks.set(
      status,
      Object.entries(response.headers ?? {}).map(([name, header]) => {
        const resolved = deref(document, header as Schema) as { required?: boolean; schema?: Schema };
        return {
          name,
          required: resolved.required === true,
          validate: ajv.compile(absoluteRefs(closed(document, resolved.schema ?? {})) as Schema),
        };
      }),
    );
  }
  return (status, body, contentType, headers) => {
    const key = checks.has(String(status)) ? String(status) : `${String(status)[0]}XX`;
    const byMediaType = checks.get(key);
    if (!byMediaType) return [`status ${status} is not documented (documented: ${[...checks.keys()]})`];
    const problems: string[] = [];
    for (const check of headers ? (headerChecks.get(key) ?? []) : []) {
      const value = headers?.get(check.name) ?? null;
      if (value === null) {
        if (check.required) problems.push(`status ${status} without its required header ${check.name}`);
        continue;
      }
      const typed = /^-?[0-9]+$/.test(value) && !check.validate(value) ? Number(value) : value;
      if (!check.validate(typed))
        problems.push(`header ${check.name}: ${JSON.stringify(value)} does not fit its schema`);
    }
    if (byMediaType.size === 0)
      return body === "" || body === undefined ? problems : [...problems, `status ${status} documents no body`];
    const check = byMediaType.get(mediaTypeOf(contentType));
    if (!check) return [...problems, `expected ${[...byMediaType.keys()].join(" or ")}, got ${contentType}`];
    return [...problems, ...check(body)];
  };
}

/**
 * A check of a JSON value against `schema` (a schema of `document`, e.g. a `$ref` to a component), with every object
 * closed as above; it answers the problems found, none when the value fits.
 */
export function schemaValidator(document: OpenApiDocument, schema: Schema): BodyCheck {
  const validate: ValidateFunction = ajvFor(document).compile(absoluteRefs(closed(document, schema)) as Schema);
  return (body) =>
    validate(body)
      ? []
      : (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
}

/** A newline-delimited body: every line (each ended by LF) is one JSON value that `check` accepts. */
const linesOf =
  (check: BodyCheck): BodyCheck =>
  (body) => {
    if (typeof body !== "string") return ["expected newline-delimited JSON text"];
    if (body === "") return [];
    if (!body.endsWith("\n")) return ["the last line does not end with LF"];
    return body
      .slice(0, -1)
      .split("\n")
      .flatMap((line, i) => {
        try {
          return check(JSON.parse(line)).map((problem) => `line ${i + 1}: ${problem}`);
        } catch {
          return [`line ${i + 1} is not JSON: ${line.slice(0, 100)}`];
        }
      });
  };

const ajvs = new WeakMap<OpenApiDocument, Ajv2020>();
function ajvFor(document: OpenApiDocument) {
  let ajv = ajvs.get(document);
  if (!ajv) {
    ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(ajv);
    ajv.addFormat("int32", { type: "number", validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
    ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
    const components = closed(document, document.components ?? {});
    ajv.addSchema(absoluteRefs({ $id: DOCUMENT_ID, components }) as Schema);
    ajvs.set(document, ajv);
  }
  return ajv;
}

function absoluteRefs(schema: unknown): unknown {
  return JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/', `"$ref":"${DOCUMENT_ID}#/`));
}

/** The JSON body schema of an operation, with its top-level `$ref` followed. */
export function requestBodySchema(document: OpenApiDocument, operation: OperationObject): Schema | undefined {
  const schema = operation.requestBody?.content["application/json"]?.schema;
  return schema ? deref(document, schema) : undefined;
}

/**
 * A value that satisfies `schema` (as far as a schema can say): its example
 * when it has one, else the first enum value, else something of its type and
 * format. `ids` supplies real ids for properties named `*_id` / `*_ids`.
 */
export function sample(
  document: OpenApiDocument,
  schema: Schema,
  ids: (property: string) => string | undefined = () => undefined,
  property = "",
): unknown {
  const s = deref(document, schema);
  const id = property ? ids(property) : undefined;
  if (id !== undefined) return s.type === "array" ? [id] : id;
  if (s.example !== undefined && !isObjectSchema(s)) return s.example;
  if (Array.isArray(s.enum)) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;
  switch (type) {
    case "object": {
      const properties = (s.properties ?? {}) as Record<string, Schema>;
      const required = (s.required as string[] | undefined) ?? Object.keys(properties).slice(0, 1);
      return Object.fromEntries(required.map((name) => [name, sample(document, properties[name] ?? {}, ids, name)]));
    }
    case "array":
      return [sample(document, (s.items as Schema) ?? {}, ids, property)];
    case "integer":
    case "number":
      return typeof s.minimum === "number" ? s.minimum : 1;
    case "boolean":
      return true;
    case "string":
      if (s.format === "uuid") return crypto.randomUUID();
      if (s.format === "date-time") return "2026-11-28T09:00:00Z";
      if (s.format === "date") return "2026-11-28";
      if (s.format === "email") return "someone@example.com";
      if (s.format === "uri") return "https://example.com";
      return "sample";
    default:
      return null;
  }
}
