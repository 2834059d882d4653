import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { errorCatalog } from "../src/lib/errors";
import { createTeam, type Team } from "./support/factories";
import { type Harness, startHarness } from "./support/harness";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

const requestIdPattern = /^[\w-]{8,}$/;

describe("every response", () => {
  it.each([
    ["a success", "GET", "/v1/time-entries", true, 200],
    ["a validation error", "GET", "/v1/time-entries?limit=0", true, 400],
    ["an auth failure", "GET", "/v1/time-entries", false, 401],
    ["a missing resource", "GET", `/v1/time-entries/${crypto.randomUUID()}`, true, 404],
    ["an unknown route", "GET", "/v1/nope", true, 404],
    ["the OpenAPI document", "GET", "/openapi.json", false, 200],
  ])("carries an X-Request-Id on %s", async (_, method, path, authenticated, status) => {
    const res = await h.call(method, path, { token: authenticated ? team.owner.token : undefined });
    expect(res.status).toBe(status);
    expect(res.headers.get("X-Request-Id")).toMatch(requestIdPattern);
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
  });

  it("echoes a well-formed X-Request-Id sent by the client", async () => {
    const res = await h.call("GET", "/v1/time-entries", {
      token: team.owner.token,
      headers: { "X-Request-Id": "client-trace-123" },
    });
    expect(res.headers.get("X-Request-Id")).toBe("client-trace-123");
  });

  it("of /v1 is marked uncacheable", async () => {
    for (const token of [team.owner.token, undefined]) {
      const res = await h.call("GET", "/v1/time-entries", { token });
      expect(res.headers.get("Cache-Control")).toBe("no-store");
    }
  });
});

describe("errors", () => {
  it("answer an unknown route with the error envelope", async () => {
    const res = await h.call("GET", "/v2/time-entries", { token: team.owner.token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: "NOT_FOUND", message: "No route for GET /v2/time-entries" } });
  });

  it("never leak a stack trace or SQL: an unreachable database is 503 with Retry-After", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const { default: app } = await import("../src/app");
    const res = await app.request(
      "/v1/time-entries",
      { headers: { Authorization: `Bearer ${team.owner.token}` } },
      { ...h.env, SQL_HTTP_ENDPOINT: "http://127.0.0.1:9/sql" },
    );
    expect(res.status).toBe(503);
    expect(res.headers.get("Retry-After")).toBe("2");
    expect(await res.json()).toEqual({
      error: { code: "SERVICE_UNAVAILABLE", message: "The database is unreachable; retry shortly" },
    });
    expect(log).toHaveBeenCalledOnce();
    log.mockRestore();
  });

  it("a statement Postgres refused for a reason the API does not expect is a 500 whose log names the SQLSTATE and constraint, not the values", async () => {
    await h.sql("alter table customers add constraint test_no_boom check (name <> 'boom')");
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const body = { name: "boom", email: "secret-address@example.com" };
      const res = await h.call("POST", "/v1/customers", { token: team.owner.token, body });
      expect([res.status, res.body]).toEqual([
        500,
        { error: { code: "INTERNAL_ERROR", message: "An unexpected error occurred" } },
      ]);
      expect(log).toHaveBeenCalledOnce();
      const line = JSON.parse(String(log.mock.calls[0]?.[0]));
      expect(line).toMatchObject({
        level: "error",
        code: "INTERNAL_ERROR",
        database: { code: "23514", constraint: "test_no_boom" },
      });
      // Neither the statement's parameters nor Postgres' detail (the failing row): bodies and secrets stay out of logs.
      expect(String(log.mock.calls[0]?.[0])).not.toContain("secret-address");
      expect(line.database.detail).toBeUndefined();
    } finally {
      log.mockRestore();
      await h.sql("alter table customers drop constraint test_no_boom");
    }
  });
});

describe("the README's table of errors", () => {
  it("lists every error code the API answers with, under its status", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const table = readme.slice(readme.indexOf("| Status | Code"));
    const listed = new Map<string, number>();
    for (const line of table.slice(0, table.indexOf("\n\n")).split("\n")) {
      const [status, codes] = line
        .split("|")
        .slice(1, 3)
        .map((cell) => cell.trim());
      for (const [, code] of codes?.matchAll(/`([A-Z_]+)`/g) ?? []) listed.set(code as string, Number(status));
    }
    const catalog = Object.entries(errorCatalog).map(([code, { status }]) => [code, status]);
    expect(catalog.filter(([code, status]) => listed.get(code as string) !== status)).toEqual([]);
  });
});

describe("validation messages", () => {
  it("say Required for a field not sent, whatever the field, and name the kind of value expected for a wrong one", async () => {
    const token = team.owner.token;
    const project = await h.call("POST", "/v1/projects", { token, body: { name: "Messages" } });
    const cases: [string, string, unknown, Record<string, string[]>][] = [
      ["POST", "/v1/time-entries", {}, { start_time: ["Required"], description: ["Required"] }],
      ["POST", "/v1/invoices", {}, { customer_id: ["Required"], number: ["Required"], date: ["Required"] }],
      ["POST", "/v1/members", { email: "new@example.com" }, { role: ["Required"] }],
      ["DELETE", "/v1/time-entries", {}, { ids: ["Required"] }],
      ["PATCH", `/v1/projects/${project.body.data.id}`, { name: null }, { name: ["Must be a string"] }],
      [
        "POST",
        "/v1/time-entries",
        { start_time: "2026-11-28T09:00:00Z", description: 7 },
        { description: ["Must be a string"] },
      ],
      ["POST", "/v1/webhooks", { url: "https://hooks.example.com/x", events: "*" }, { events: ["Must be an array"] }],
    ];
    for (const [method, path, body, details] of cases) {
      const res = await h.call(method, path, { token, body });
      expect([method, path, res.status, res.body.error?.details]).toEqual([method, path, 400, details]);
    }
    const missing = await h.call("GET", "/v1/time-entries/export", { token });
    expect(missing.body.error.details).toEqual({ format: ["Required"] });
  });

  it("name an enum's values, say one thing of a value that is no timestamp or date, and why a leap second is refused", async () => {
    const token = team.owner.token;
    const cases: [string, Record<string, string[]>][] = [
      ["/v1/invoices?status=Draft", { status: ["Must be draft, sent, paid, overdue or void"] }],
      [
        "/v1/time-entries/summary?start_date=2026-11-01&end_date=2026-11-30&rounding=UP&rounding_minutes=15",
        { rounding: ["Must be up, down or nearest"] },
      ],
      [
        "/v1/time-entries?updated_since=2026-11-28T09:00:00%2B24:00",
        { updated_since: ["Must be an RFC 3339 timestamp with an offset, e.g. 2026-11-28T09:00:00Z"] },
      ],
      [
        "/v1/time-entries?updated_since=2016-12-31t23:59:60.5z",
        { updated_since: ["Must not be a leap second (:60): time in JavaScript and Postgres has none"] },
      ],
      [
        "/v1/time-entries?updated_since=2026-13-45T23:59:60Z",
        { updated_since: ["Must be an RFC 3339 timestamp with an offset, e.g. 2026-11-28T09:00:00Z"] },
      ],
      ["/v1/time-entries?start_date=", { start_date: ["Must be a calendar date, YYYY-MM-DD"] }],
      [
        "/v1/time-entries?start_date=0000-12-31",
        { start_date: ["Must be a calendar date from 0001-01-01 to 9999-12-31"] },
      ],
      [
        "/v1/time-entries?updated_since=9999-12-31T22:00:00-05:00",
        { updated_since: ["Must fall from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z in UTC"] },
      ],
    ];
    for (const [path, details] of cases) {
      const res = await h.call("GET", path, { token });
      expect([path, res.status, res.body.error?.details]).toEqual([path, 400, details]);
    }
  });

  it("answer a cursor longer than any the API issues as INVALID_CURSOR, as any cursor it did not issue", async () => {
    const res = await h.call("GET", `/v1/time-entries?cursor=${"A".repeat(4097)}`, { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { code: "INVALID_CURSOR", message: "The cursor is malformed or was not issued by this API" },
    });
  });
});
