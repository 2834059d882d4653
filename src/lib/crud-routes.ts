import { createRoute, z } from "@hono/zod-openapi";
import { etagHeader, IfMatchHeaders, ifMatchRule, noChangeRule } from "./conditional";
import { errorResponses } from "./error-responses";
import type { ErrorCode } from "./errors";
import { authErrors, bodyErrors, jsonContent as json, jsonBody, noBodyErrors, scoped } from "./openapi-helpers";

// Customers, projects and members share one shape: list, create, get, patch and delete, with keyset
// pagination, ETag on every single-resource answer, If-Match on PATCH and DELETE, and errors from one table.
// This is that shape, once; each resource gives its schemas, names and words.

/** What zod-openapi takes as a query: an object schema, possibly refined. */
type QueryParameters = z.ZodObject | z.ZodPipe;

type CrudSchemas<
  ListQuery extends QueryParameters,
  Envelope extends z.ZodType,
  Page extends z.ZodType,
  CreateBody extends z.ZodType,
  UpdateBody extends z.ZodType,
  Params extends z.ZodObject,
> = {
  listQuery: ListQuery;
  /** `{data: resource}` */
  envelope: Envelope;
  /** `{data: resource[], meta}` */
  page: Page;
  createBody: CreateBody;
  updateBody: UpdateBody;
  /** The path parameter naming one resource (`{id}`, `{userId}`). */
  params: Params;
};

export type CrudSpec<
  ListQuery extends QueryParameters,
  Envelope extends z.ZodType,
  Page extends z.ZodType,
  CreateBody extends z.ZodType,
  UpdateBody extends z.ZodType,
  Params extends z.ZodObject,
> = {
  /** `/v1/customers`; a resource is at `${path}/{param}`. */
  path: `/v1/${string}`;
  /** The path parameter's name, as in `params`. */
  param: string;
  tag: string;
  /** Words for summaries and operation ids: `{one: "customer", many: "customers"}`. */
  noun: { one: string; many: string };
  scopes: { read: string; write: string };
  schemas: CrudSchemas<ListQuery, Envelope, Page, CreateBody, UpdateBody, Params>;
  /** An example `Location` of a created resource. */
  exampleLocation: string;
  /** What each operation does, in the resource's own words; the shared rules are appended. */
  describe: { list: string; create: string; getOne: string; patch: string; remove: string };
  /** Who may write, in a sentence (default: owners and admins). */
  writeRule?: string;
  /** Error codes some operations answer with beyond the shared ones. */
  errors?: { create?: ErrorCode[]; patch?: ErrorCode[]; remove?: ErrorCode[] };
  /** Summaries other than "Create a …" and "Delete a …", and what a 204 of DELETE means (default "Deleted."). */
  summaries?: { create?: string; remove?: string };
  removed?: string;
};

const capitalized = (word: string) => word.replace(/(^|\s)\w/g, (letter) => letter.toUpperCase()).replace(/\s/g, "");

export function crudRoutes<
  ListQuery extends QueryParameters,
  Envelope extends z.ZodType,
  Page extends z.ZodType,
  CreateBody extends z.ZodType,
  UpdateBody extends z.ZodType,
  Params extends z.ZodObject,
>(spec: CrudSpec<ListQuery, Envelope, Page, CreateBody, UpdateBody, Params>) {
  const { noun, schemas } = spec;
  const one = capitalized(noun.one);
  const tags = [spec.tag];
  const read = scoped(spec.scopes.read);
  const write = scoped(spec.scopes.write);
  const readRule = `Every member can read ${noun.many}. Needs scope \`${spec.scopes.read}\` for OAuth tokens.`;
  const writeRule = `${spec.writeRule ?? "Only owner and admin may do this (a member gets 403 `FORBIDDEN`)."} Needs scope \`${spec.scopes.write}\` for OAuth tokens.`;
  const itemPath = `${spec.path}/{${spec.param}}` as const;
  const extra = spec.errors ?? {};

  const list = createRoute({
    operationId: `list${capitalized(noun.many)}`,
    method: "get",
    path: spec.path,
    tags,
    summary: `List ${noun.many}`,
    description: `${spec.describe.list} Keyset pagination: pass \`meta.next_cursor\` as \`cursor\` for the next page. ${readRule}`,
    ...read,
    request: { query: schemas.listQuery },
    responses: {
      200: json(schemas.page, `A page of ${noun.many}.`),
      ...errorResponses("VALIDATION_ERROR", "INVALID_CURSOR", ...authErrors),
    },
  });

  const create = createRoute({
    operationId: `create${one}`,
    method: "post",
    path: spec.path,
    tags,
    summary: spec.summaries?.create ?? `Create a ${noun.one}`,
    description: `${spec.describe.create} ${writeRule}`,
    ...write,
    request: { body: jsonBody(schemas.createBody, `The ${noun.one} to create.`) },
    responses: {
      201: {
        ...json(schemas.envelope, `The created ${noun.one}.`),
        headers: z.object({
          Location: z.string().openapi({ description: `URL of the new ${noun.one}.`, example: spec.exampleLocation }),
          ...etagHeader.shape,
        }),
      },
      ...errorResponses(...(extra.create ?? []), ...bodyErrors, ...authErrors),
    },
  });

  const getOne = createRoute({
    operationId: `get${one}`,
    method: "get",
    path: itemPath,
    tags,
    summary: `Get a ${noun.one}`,
    description: `${spec.describe.getOne} Another organization's ${noun.one} is 404 like an id that does not exist. ${readRule}`,
    ...read,
    request: { params: schemas.params },
    responses: {
      200: { ...json(schemas.envelope, `The ${noun.one}.`), headers: etagHeader },
      ...errorResponses("VALIDATION_ERROR", "NOT_FOUND", ...authErrors),
    },
  });

  const patch = createRoute({
    operationId: `update${one}`,
    method: "patch",
    path: itemPath,
    tags,
    summary: `Update a ${noun.one}`,
    description: `${spec.describe.patch} ${noChangeRule} ${ifMatchRule} ${writeRule}`,
    ...write,
    request: {
      params: schemas.params,
      headers: IfMatchHeaders,
      body: jsonBody(schemas.updateBody, "The fields to change."),
    },
    responses: {
      200: { ...json(schemas.envelope, `The updated ${noun.one}.`), headers: etagHeader },
      ...errorResponses("NOT_FOUND", "PRECONDITION_FAILED", ...(extra.patch ?? []), ...bodyErrors, ...authErrors),
    },
  });

  const remove = createRoute({
    operationId: `delete${one}`,
    method: "delete",
    path: itemPath,
    tags,
    summary: spec.summaries?.remove ?? `Delete a ${noun.one}`,
    description: `${spec.describe.remove} ${ifMatchRule} ${writeRule}`,
    ...write,
    request: { params: schemas.params, headers: IfMatchHeaders },
    responses: {
      204: { description: spec.removed ?? "Deleted." },
      ...errorResponses(
        "VALIDATION_ERROR",
        "NOT_FOUND",
        "PRECONDITION_FAILED",
        ...(extra.remove ?? []),
        ...noBodyErrors,
        ...authErrors,
      ),
    },
  });

  return { list, create, getOne, patch, remove };
}
