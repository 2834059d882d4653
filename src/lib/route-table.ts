import type { Hono } from "hono";

type RouteTable = { routes: { pattern: RegExp; methods: Set<string>; literal: boolean }[]; size: number };

const tables = new WeakMap<object, RouteTable>();

/**
 * The methods `app` has a handler for at `pathname`, from its registered routes
 * (middleware, registered for every method, is not a handler). Empty when no
 * route has this path. GET brings HEAD, which Hono answers from the GET handler.
 */
// biome-ignore lint/suspicious/noExplicitAny: any app, whatever its env and schema.
export function allowedMethods(app: Hono<any, any, any>, pathname: string): string[] {
  let table = tables.get(app);
  if (!table || table.size !== app.routes.length) {
    table = build(app.routes);
    tables.set(app, table);
  }
  const matching = table.routes.filter((route) => route.pattern.test(pathname));
  // A path without parameters (`/v1/time-entries/current`) takes precedence over
  // one whose parameter it would also fill (`/v1/time-entries/:id`).
  const literal = matching.filter((route) => route.literal);
  const methods = new Set<string>();
  for (const route of literal.length > 0 ? literal : matching) {
    for (const method of route.methods) methods.add(method);
  }
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods].sort();
}

function build(routes: readonly { path: string; method: string }[]): RouteTable {
  const byPath = new Map<string, Set<string>>();
  for (const { path, method } of routes) {
    if (method === "ALL") continue;
    const methods = byPath.get(path) ?? new Set<string>();
    methods.add(method.toUpperCase());
    byPath.set(path, methods);
  }
  return {
    routes: [...byPath].map(([path, methods]) => ({
      pattern: patternOf(path),
      methods,
      literal: !path.includes(":") && !path.includes("*"),
    })),
    size: routes.length,
  };
}

/** `/v1/time-entries/:id` (or `:id{[0-9]+}`) → a regular expression for its request paths. */
function patternOf(path: string) {
  const source = path
    .split("/")
    .map((segment) => {
      if (segment === "*") return ".*";
      if (segment.startsWith(":")) return segment.endsWith("?") ? "[^/]*" : "[^/]+";
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${source}$`);
}
