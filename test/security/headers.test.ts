// Response headers and the app shell's guards: CORS only for configured
// origins, 405 with Allow for methods a path does not have (derived from the
// registered routes, so new routes are covered), and the per-caller
// rate limit through a binding shaped like the Workers Rate Limiting API.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import app from "../../src/app";
import { DEFAULT_RATE_LIMIT } from "../../src/lib/config";
import type { Bindings } from "../../src/lib/types";
import { createOrganization, createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { documentedOperations, type Operation } from "../support/openapi-operations";

let h: Harness;
let team: Team;
let operations: Operation[];

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
  operations = await documentedOperations(h);
});
afterAll(() => h?.close());

const ALLOWED = "https://app.example.com";

async function request(method: string, path: string, headers: Record<string, string>, env: Bindings) {
  const res = await app.request(path, { method, headers }, env);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : text };
}

describe("CORS", () => {
  const env = () => ({ ...h.env, CORS_ALLOWED_ORIGINS: ` ${ALLOWED}, https://admin.example.com/ ` });

  it("answers a preflight from an allowed origin with the path's methods and the headers clients send", async () => {
    for (const { path, method } of operations) {
      const res = await request(
        "OPTIONS",
        path.replaceAll(/\{[^}]+\}/g, crypto.randomUUID()),
        { Origin: ALLOWED, "Access-Control-Request-Method": method.toUpperCase() },
        env(),
      );
      expect(res.status, path).toBe(204);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED);
      expect(res.headers.get("Access-Control-Allow-Methods")?.split(", ")).toContain(method.toUpperCase());
      expect(res.headers.get("Access-Control-Allow-Headers")).toBe(
        "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, X-Request-Id",
      );
      expect(res.headers.get("Vary")).toContain("Origin");
    }
  });

  it("lets an allowed origin read the response and the headers it needs", async () => {
    const res = await request(
      "GET",
      "/v1/time-entries",
      { Origin: "https://admin.example.com", Authorization: `Bearer ${team.owner.token}` },
      env(),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://admin.example.com");
    expect(res.headers.get("Access-Control-Expose-Headers")?.split(", ")).toEqual(
      expect.arrayContaining([
        "X-Request-Id",
        "ETag",
        "Location",
        "Retry-After",
        "RateLimit-Policy",
        "Content-Disposition",
      ]),
    );
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("exposes errors to an allowed origin too, so a browser client can read the envelope", async () => {
    const res = await request("GET", "/v1/time-entries", { Origin: ALLOWED }, env());
    expect(res.status).toBe(401);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED);
  });

  it.each([
    ["an unlisted origin", "https://evil.example", `${ALLOWED}`],
    ["a look-alike origin", "https://app.example.com.evil.example", `${ALLOWED}`],
    ["another scheme", "http://app.example.com", `${ALLOWED}`],
    ["the null origin", "null", `${ALLOWED}`],
    ["any origin when none is configured", ALLOWED, ""],
  ])("gives no CORS headers to %s", async (_, origin, configured) => {
    const corsEnv = { ...h.env, CORS_ALLOWED_ORIGINS: configured };
    const preflight = await request(
      "OPTIONS",
      "/v1/time-entries",
      { Origin: origin, "Access-Control-Request-Method": "POST" },
      corsEnv,
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toBeNull();
    const res = await request(
      "GET",
      "/v1/time-entries",
      { Origin: origin, Authorization: `Bearer ${team.owner.token}` },
      corsEnv,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(res.headers.get("Access-Control-Expose-Headers")).toBeNull();
  });

  it.each([
    "app.example.com",
    "https://app.example.com/app",
    "https://app.example.com?x=1",
    "https://user@app.example.com",
    "ftp://app.example.com",
    "*",
    "https://*.example.com",
  ])("refuses a configuration whose origins hold %s: 500 on /v1 and the setting named in the log", async (entry) => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const corsEnv = { ...h.env, CORS_ALLOWED_ORIGINS: `${ALLOWED},${entry}` };
    const res = await request(
      "GET",
      "/v1/me",
      { Origin: ALLOWED, Authorization: `Bearer ${team.owner.token}` },
      corsEnv,
    );
    expect([res.status, res.body]).toEqual([
      500,
      { error: { code: "INTERNAL_ERROR", message: "The service is misconfigured" } },
    ]);
    expect(log).toHaveBeenCalledWith(
      expect.stringContaining("CORS_ALLOWED_ORIGINS must list origins, http(s)://host[:port] each, comma separated"),
    );
    log.mockRestore();
  });

  it("lets a request to an unknown path through its preflight, to a 404 a script can read", async () => {
    const preflight = await request(
      "OPTIONS",
      "/v1/nothing-here",
      { Origin: ALLOWED, "Access-Control-Request-Method": "PUT" },
      env(),
    );
    expect([preflight.status, preflight.headers.get("Allow")]).toEqual([204, null]);
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toBe("PUT");
    expect(preflight.headers.get("Vary")).toBe("Origin, Access-Control-Request-Method");
    // Echoed only when it is a method token.
    const odd = await request(
      "OPTIONS",
      "/v1/nothing-here",
      { Origin: ALLOWED, "Access-Control-Request-Method": "GET, DELETE" },
      env(),
    );
    expect([odd.status, odd.headers.get("Access-Control-Allow-Methods")]).toEqual([204, null]);
    const res = await request(
      "GET",
      "/v1/nothing-here",
      { Origin: ALLOWED, Authorization: `Bearer ${team.owner.token}` },
      env(),
    );
    expect([res.status, res.body.error.code, res.headers.get("Access-Control-Allow-Origin")]).toEqual([
      404,
      "NOT_FOUND",
      ALLOWED,
    ]);
  });

  it("answers a preflight with Allow, and exposes Allow and Accept-Encoding", async () => {
    const preflight = await request(
      "OPTIONS",
      "/v1/me",
      { Origin: ALLOWED, "Access-Control-Request-Method": "GET" },
      env(),
    );
    expect(preflight.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
    const refused = await request("PUT", "/v1/me", { Origin: ALLOWED }, env());
    expect(refused.status).toBe(405);
    expect(refused.headers.get("Access-Control-Expose-Headers")?.split(", ")).toEqual(
      expect.arrayContaining(["Allow", "Accept-Encoding"]),
    );
  });
});

describe("methods a path does not have", () => {
  const otherMethods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

  it("are 405 METHOD_NOT_ALLOWED with Allow listing the documented ones, before authentication", async () => {
    const byPath = new Map<string, string[]>();
    for (const { path, method } of operations) byPath.set(path, [...(byPath.get(path) ?? []), method.toUpperCase()]);
    expect(byPath.size).toBeGreaterThan(1);
    for (const [path, documented] of byPath) {
      const concrete = path.replaceAll(/\{[^}]+\}/g, crypto.randomUUID());
      const allow = [...documented, ...(documented.includes("GET") ? ["HEAD"] : [])].sort();
      for (const method of otherMethods.filter((m) => !documented.includes(m))) {
        for (const token of [undefined, team.owner.token]) {
          const res = await h.call(method, concrete, { token, body: method === "GET" ? undefined : {} });
          expect(res.status, `${method} ${path}`).toBe(405);
          expect(res.body).toEqual({
            error: {
              code: "METHOD_NOT_ALLOWED",
              message: `${method} is not allowed on ${concrete}`,
              details: { allow: [...allow, "OPTIONS"] },
            },
          });
          expect(res.headers.get("Allow")).toBe([...allow, "OPTIONS"].join(", "));
          expect(res.headers.get("Cache-Control"), `${method} ${path}`).toBe("no-store");
        }
      }
    }
  });

  it("include the public paths", async () => {
    const res = await h.call("POST", "/healthz", { body: {} });
    expect(res.status).toBe(405);
    expect(res.headers.get("Allow")).toBe("GET, HEAD, OPTIONS");
    expect((await h.call("DELETE", "/openapi.json")).status).toBe(405);
  });

  it("leave unknown paths to the 404 and answer OPTIONS with Allow", async () => {
    const unknown = await h.call("PUT", "/v2/whatever", { token: team.owner.token, body: {} });
    expect([unknown.status, unknown.headers.get("Cache-Control")]).toEqual([404, "no-store"]);
    const options = await h.call("OPTIONS", "/v1/time-entries");
    expect(options.status).toBe(204);
    expect(options.headers.get("Allow")).toBe("DELETE, GET, HEAD, PATCH, POST, OPTIONS");
  });

  it("are found on a percent-encoded path as the router finds its routes", async () => {
    expect((await h.call("GET", "/v1/%6De", { token: team.owner.token })).status).toBe(200);
    const put = await h.call("PUT", "/v1/%6De", { token: team.owner.token, body: {} });
    expect([put.status, put.body.error?.code, put.headers.get("Allow")]).toEqual([
      405,
      "METHOD_NOT_ALLOWED",
      "GET, HEAD, OPTIONS",
    ]);
    const options = await h.call("OPTIONS", "/v1/%6De");
    expect([options.status, options.headers.get("Allow")]).toEqual([204, "GET, HEAD, OPTIONS"]);
  });

  it("answer HEAD like GET, without a body", async () => {
    const res = await h.call("HEAD", "/v1/time-entries", { token: team.owner.token });
    expect(res.status).toBe(200);
    expect(res.body).toBe("");
  });
});

describe("security headers", () => {
  it("mark every documented operation's answer nosniff and, under /v1, no-store", async () => {
    for (const { path, method } of operations) {
      const res = await h.call(method.toUpperCase(), path.replaceAll(/\{[^}]+\}/g, crypto.randomUUID()), {
        token: team.member.token,
        body: ["post", "patch", "put"].includes(method) ? {} : undefined,
      });
      expect(res.headers.get("X-Content-Type-Options"), `${method} ${path}`).toBe("nosniff");
      if (path.startsWith("/v1/")) expect(res.headers.get("Cache-Control"), `${method} ${path}`).toBe("no-store");
    }
  });
});

/** A stand-in for the Workers Rate Limiting binding: `limit` requests per key, counted until reset. */
function fakeLimiter(limit: number) {
  const counts = new Map<string, number>();
  const keys: string[] = [];
  return {
    keys,
    binding: {
      async limit({ key }: { key: string }) {
        keys.push(key);
        const count = (counts.get(key) ?? 0) + 1;
        counts.set(key, count);
        return { success: count <= limit };
      },
    },
  };
}

describe("rate limiting per caller", () => {
  it("answers 429 RATE_LIMITED with Retry-After and RateLimit-Policy over the limit", async () => {
    const limiter = fakeLimiter(3);
    const env = { ...h.env, RATE_LIMITER: limiter.binding, RATE_LIMIT_REQUESTS: "3", RATE_LIMIT_PERIOD_SECONDS: "10" };
    const auth = { Authorization: `Bearer ${team.member.token}` };
    for (let i = 0; i < 3; i++) {
      const ok = await request("GET", "/v1/time-entries", auth, env);
      expect(ok.status).toBe(200);
      expect(ok.headers.get("RateLimit-Policy")).toBe('"per-caller";q=3;w=10');
      expect(ok.headers.get("RateLimit")).toBeNull();
    }
    const res = await request("GET", "/v1/time-entries", auth, env);
    expect(res.status).toBe(429);
    expect(res.body).toEqual({
      error: { code: "RATE_LIMITED", message: "Too many requests for this user; retry in 10 seconds" },
    });
    expect(res.headers.get("Retry-After")).toBe("10");
    expect(res.headers.get("RateLimit-Policy")).toBe('"per-caller";q=3;w=10');
    expect(res.headers.get("RateLimit")).toBe('"per-caller";r=0;t=10');
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("counts each user of an organization apart, and each OAuth client apart from the user's session", async () => {
    const limiter = fakeLimiter(2);
    const env = { ...h.env, RATE_LIMITER: limiter.binding };
    const oauth = await h.issuer.sign({
      userId: team.admin.id,
      organizationId: team.organizationId,
      scope: "entries:read",
      clientId: "payroll-sync",
    });
    const call = async (token: string) => {
      const res = await request("GET", "/v1/time-entries", { Authorization: `Bearer ${token}` }, env);
      return [res.status, res.status === 429 ? res.body.error.message : null];
    };
    const owner = team.owner.token;
    expect([await call(owner), await call(owner), await call(owner)]).toEqual([
      [200, null],
      [200, null],
      [429, "Too many requests for this user; retry in 60 seconds"],
    ]);
    // The owner spent their quota; the member and the admin did not.
    expect(await call(team.member.token)).toEqual([200, null]);
    expect([await call(oauth), await call(oauth), await call(oauth)]).toEqual([
      [200, null],
      [200, null],
      [429, "Too many requests for this user through this client; retry in 60 seconds"],
    ]);
    expect(await call(team.admin.token)).toEqual([200, null]);
    const other = await createTeam(h);
    expect(await call(other.owner.token)).toEqual([200, null]);
    const session = (member: { id: string }, organizationId = team.organizationId) =>
      `org:${organizationId}:user:${member.id}`;
    const client = `${session(team.admin)}:client:payroll-sync`;
    expect(limiter.keys).toEqual([
      ...Array(3).fill(session(team.owner)),
      session(team.member),
      ...Array(3).fill(client),
      session(team.admin),
      session(other.owner, other.organizationId),
    ]);
  });

  it("counts only authenticated callers: a bad token is 401 and costs the organization nothing", async () => {
    const limiter = fakeLimiter(1);
    const env = { ...h.env, RATE_LIMITER: limiter.binding };
    const forged = await h.sessionToken(team.owner.id, team.organizationId);
    const res = await request("GET", "/v1/time-entries", { Authorization: `Bearer ${forged}x` }, env);
    expect(res.status).toBe(401);
    expect(limiter.keys).toEqual([]);
  });

  it("applies to a token for an organization the caller is not in before any database work", async () => {
    const limiter = fakeLimiter(0);
    const env = { ...h.env, RATE_LIMITER: limiter.binding };
    const token = await h.sessionToken(team.owner.id, await createOrganization(h));
    const trips = await h.roundTrips(async () => {
      expect((await request("GET", "/v1/time-entries", { Authorization: `Bearer ${token}` }, env)).status).toBe(429);
    });
    expect(trips).toBe(0);
  });

  it("lets requests through when the binding fails, and logs it", async () => {
    const env = {
      ...h.env,
      RATE_LIMITER: {
        limit: async () => {
          throw new Error("limiter down");
        },
      },
    };
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      const res = await request("GET", "/v1/time-entries", { Authorization: `Bearer ${team.owner.token}` }, env);
      expect(res.status).toBe(200);
    } finally {
      console.error = original;
    }
    expect(JSON.stringify(errors)).toContain("limiter down");
  });

  it("is off without the binding", async () => {
    for (let i = 0; i < 5; i++) {
      const res = await h.call("GET", "/v1/time-entries", { token: team.owner.token });
      expect(res.status).toBe(200);
      expect(res.headers.get("RateLimit-Policy")).toBeNull();
    }
  });

  it("announces the policy on errors after authentication too", async () => {
    const env = { ...h.env, RATE_LIMITER: fakeLimiter(100).binding };
    const res = await request(
      "GET",
      `/v1/time-entries/${crypto.randomUUID()}`,
      { Authorization: `Bearer ${team.owner.token}` },
      env,
    );
    expect(res.status).toBe(404);
    expect(res.headers.get("RateLimit-Policy")).toBe('"per-caller";q=600;w=60');
  });

  it("is configured in wrangler.toml, with the policy the headers announce", () => {
    const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
    const block = /\[\[ratelimits\]\]([\s\S]*?)(?:\n\[|$)/.exec(toml)?.[1] ?? "";
    expect(block).toMatch(/^name = "RATE_LIMITER"$/m);
    expect(block).toMatch(/^namespace_id = "\d+"$/m);
    const simple = /^simple = \{ limit = (\d+), period = (\d+) \}$/m.exec(block);
    expect(simple?.slice(1).map(Number)).toEqual([DEFAULT_RATE_LIMIT.requests, DEFAULT_RATE_LIMIT.periodSeconds]);
  });

  it("is documented on every /v1 operation: 429 with Retry-After and RateLimit-Policy", async () => {
    const { body } = await h.call("GET", "/openapi.json");
    for (const { path, method } of operations.filter((o) => o.path.startsWith("/v1/"))) {
      const response = body.paths[path][method].responses["429"];
      expect(response, `${method} ${path}`).toBeDefined();
      expect(Object.keys(response.headers)).toEqual(
        expect.arrayContaining(["Retry-After", "RateLimit-Policy", "RateLimit", "X-Request-Id"]),
      );
      expect(response.content["application/json"].examples.RATE_LIMITED).toBeDefined();
    }
  });
});
