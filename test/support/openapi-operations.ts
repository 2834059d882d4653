// The operations /openapi.json documents, for suites generated from it so that
// new routes are covered without touching the tests.
import type { Harness } from "./harness";

export type OpenApiDocument = {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, unknown> };
};

export type OperationObject = {
  operationId: string;
  description: string;
  parameters?: {
    name: string;
    in: string;
    required?: boolean;
    description?: string;
    schema?: Record<string, unknown>;
  }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<
    string,
    { content?: Record<string, { schema: Record<string, unknown> }>; headers?: Record<string, unknown> }
  >;
};

export type Operation = { path: string; method: string; operation: OperationObject };

export const HTTP_METHODS = ["get", "post", "put", "patch", "delete"];

export async function openApiDocument(h: Harness): Promise<OpenApiDocument> {
  const res = await h.call("GET", "/openapi.json");
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
  return res.body;
}

export async function documentedOperations(h: Harness, document?: OpenApiDocument): Promise<Operation[]> {
  const doc = document ?? (await openApiDocument(h));
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, operation]) => ({ path, method, operation })),
  );
}
