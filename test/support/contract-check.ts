// Every answer a test gets through the harness is held to /openapi.json: a documented status for its operation, a
// documented media type, a body that fits the schema (every object closed) and the documented headers. So each state
// any test reaches is a contract check too, not only those the contract tests sample.

import { type ResponseValidator, responseValidator } from "./openapi-contract";
import { HTTP_METHODS, type OpenApiDocument } from "./openapi-operations";

type Path = { pattern: RegExp; operations: Map<string, () => ResponseValidator> };

/** Compiled on first use: a test file reaches a few operations, and compiling all of them would cost it a second. */
const once = <T>(make: () => T) => {
  let made: T | undefined;
  return () => {
    made ??= make();
    return made;
  };
};

/** `/v1/time-entries/{id}` → a pattern of the path alone. */
const patternOf = (template: string) =>
  new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^/}]+\}/g, "[^/]+")}$`);

/** Paths with fewer parameters first: a literal segment outranks a parameter, as in the router (`/current` is not an `{id}`). */
function pathsOf(document: OpenApiDocument): Path[] {
  return Object.entries(document.paths)
    .sort(([a], [b]) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
    .map(([template, item]) => ({
      pattern: patternOf(template),
      operations: new Map(
        Object.entries(item)
          .filter(([method]) => HTTP_METHODS.includes(method))
          .map(([method, operation]) => [method.toUpperCase(), once(() => responseValidator(document, operation))]),
      ),
    }));
}

export type ContractCheck = (
  method: string,
  path: string,
  response: { status: number; headers: Headers; body: unknown },
) => Promise<void>;

/**
 * A check that throws when an answer of a documented operation is not what /openapi.json says it answers. Requests
 * no operation documents (an unknown path, a method the path has not: 404 and 405 from the router, HEAD, OPTIONS) are
 * left alone: the router's own answers are tested where they are made.
 */
export function contractCheck(loadDocument: () => Promise<OpenApiDocument>): ContractCheck {
  let paths: Promise<Path[]> | undefined;
  return async (method, path, response) => {
    paths ??= loadDocument().then(pathsOf);
    const pathname = new URL(path, "http://api.test").pathname;
    const validator = (await paths).find((p) => p.pattern.test(pathname))?.operations.get(method.toUpperCase());
    if (!validator) return;
    const problems = validator()(
      response.status,
      response.body,
      response.headers.get("Content-Type"),
      response.headers,
    );
    if (problems.length > 0) {
      throw new Error(
        `${method} ${path} answered ${response.status} outside /openapi.json:\n  ${problems.join("\n  ")}\n  body: ${JSON.stringify(response.body).slice(0, 500)}`,
      );
    }
  };
}
