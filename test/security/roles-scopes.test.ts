// Function-level authorization (OWASP API5): a table of operation × role ×
// scope, generated from /openapi.json so a new route is covered the day it is
// documented. Calls use the document's own examples for bodies and random ids
// in paths: authorization must be decided the same way whatever the ids.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_SCOPES } from "../../src/routes/me/me.routes";
import { missingEventScopes } from "../../src/webhooks/event-types";
import { createTeam, type Member, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";

let h: Harness;
let team: Team;
// biome-ignore lint/suspicious/noExplicitAny: the document is read structurally.
let doc: any;

type Operation = { method: string; path: string; scope: string | null; body?: unknown };

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
  doc = (await h.call("GET", "/openapi.json")).body;
});
afterAll(() => h?.close());

function operations(): Operation[] {
  return Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>)
    .filter(([path]) => path.startsWith("/v1/"))
    .flatMap(([path, item]) =>
      Object.entries(item).map(([method, operation]) => {
        const security = operation.security as Record<string, string[]>[];
        const ref = (operation.requestBody as { content: Record<string, { schema: { $ref: string } }> } | undefined)
          ?.content["application/json"]?.schema.$ref;
        const body = ref ? doc.components.schemas[ref.replace("#/components/schemas/", "")].example : undefined;
        return { method: method.toUpperCase(), path, scope: security[0]?.bearerAuth?.[0] ?? null, body };
      }),
    );
}

/** Who may call an operation: the table the tests are generated from. */
function allowedRoles({ method, path }: Operation): Member["role"][] {
  if (path.startsWith("/v1/invoices") || path.startsWith("/v1/webhooks")) return ["owner", "admin"];
  if (/^\/v1\/(projects|customers|organizations)/.test(path) && method !== "GET") return ["owner", "admin"];
  // Members may edit and remove themselves only; these calls name a random id, someone else, whoever that is.
  if (path.startsWith("/v1/members") && method !== "GET") return ["owner", "admin"];
  return ["owner", "admin", "member"];
}

const call = (operation: Operation, token: string) =>
  h.call(
    operation.method,
    operation.path.replace(/\{\w+\}/g, () => crypto.randomUUID()),
    { token, body: operation.body },
  );

describe("roles and scopes for every operation", () => {
  it("guards every operation but /v1/me with one of the eight scopes", () => {
    for (const operation of operations()) {
      const expected =
        operation.path === "/v1/me"
          ? null
          : expect.stringMatching(/^(entries|invoices|webhooks):(read|write)$|^team:(read|admin)$/);
      expect(operation.scope, `${operation.method} ${operation.path}`).toEqual(expected);
    }
  });

  it("refuses a member where only owner and admin may act, with 403 FORBIDDEN and nothing else", async () => {
    for (const operation of operations()) {
      for (const member of [team.owner, team.admin, team.member]) {
        const res = await call(operation, member.token);
        const name = `${operation.method} ${operation.path} as ${member.role}`;
        if (allowedRoles(operation).includes(member.role)) {
          expect(res.status, name).not.toBe(403);
          expect(res.status, name).toBeLessThan(500);
        } else {
          expect(res.status, name).toBe(403);
          expect(res.body.error.code, name).toBe("FORBIDDEN");
        }
      }
    }
  });

  it("refuses an OAuth token without the operation's scope (having every other one) with 403 INSUFFICIENT_SCOPE", async () => {
    for (const operation of operations()) {
      const name = `${operation.method} ${operation.path}`;
      const others = ALL_SCOPES.filter((scope) => scope !== operation.scope).join(" ");
      const without = await h.issuer.sign({
        userId: team.owner.id,
        organizationId: team.organizationId,
        scope: others,
      });
      // A subscription's events need the read scopes of their data too (test/webhooks/event-scopes.test.ts).
      const events = (operation.body as { events?: string[] } | undefined)?.events ?? [];
      const only = await h.issuer.sign({
        userId: team.owner.id,
        organizationId: team.organizationId,
        scope: [operation.scope ?? "", ...missingEventScopes(events, [])].join(" ").trim(),
      });
      const refused = await call(operation, without);
      const allowed = await call(operation, only);
      if (operation.scope) {
        expect(refused.status, name).toBe(403);
        expect(refused.body.error, name).toMatchObject({
          code: "INSUFFICIENT_SCOPE",
          details: { required_scope: operation.scope },
        });
      } else {
        expect(refused.status, name).toBe(200);
      }
      expect(allowed.status, name).not.toBe(403);
      expect(allowed.status, name).toBeLessThan(500);
    }
  });
});
