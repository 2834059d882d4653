// A statement Postgres aborts as a deadlock's victim (40P01) or on a serialization check (40001) was rolled back
// whole: it is sent again, so the request succeeds; if it keeps losing, a 503 with Retry-After, never a 500.
// A proxy in front of the SQL endpoint answers the first requests with that error, as Neon would relay it.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import app from "../../src/app";
import { TRANSIENT_ATTEMPTS } from "../../src/db/query";
import { createTeam, type Team } from "../support/factories";
import { callWith, type Harness, startHarness } from "../support/harness";
import { startSqlProxy } from "../support/races";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

/** The shared SQL proxy, answering the first `failures` requests with SQLSTATE `code`; `requests` counts all. */
async function failingFirst(failures: number, code: string) {
  const proxy = await startSqlProxy(h.endpoint.url);
  proxy.failNext(failures, code);
  return {
    url: proxy.url,
    get requests() {
      return proxy.failed + proxy.forwarded;
    },
    close: () => proxy.close(),
  };
}

const create = (endpoint: string, description: string) =>
  callWith((init) => app.request("/v1/time-entries", init, { ...h.env, SQL_HTTP_ENDPOINT: endpoint }), "POST", {
    token: team.member.token,
    body: { start_time: "2026-09-01T09:00:00Z", end_time: "2026-09-01T10:00:00Z", description },
  });

const stored = async (description: string) =>
  (await h.sql("select count(*)::int as n from time_entries where description = $1", [description]))[0]?.n;

describe("a statement that loses a deadlock or a serialization check", () => {
  it.each(["40P01", "40001"])("%s is sent again, and the request succeeds once", async (code) => {
    const proxy = await failingFirst(TRANSIENT_ATTEMPTS - 1, code);
    try {
      const description = `retried ${code}`;
      const res = await create(proxy.url, description);
      expect(res.status).toBe(201);
      expect(proxy.requests).toBe(TRANSIENT_ATTEMPTS);
      expect(await stored(description)).toBe("1");
    } finally {
      await proxy.close();
    }
  });

  it("with an Idempotency-Key: the claim is sent again with the write, and a retry of the request replays it", async () => {
    const proxy = await failingFirst(1, "40P01");
    try {
      const key = crypto.randomUUID();
      const call = () =>
        callWith((init) => app.request("/v1/time-entries", init, { ...h.env, SQL_HTTP_ENDPOINT: proxy.url }), "POST", {
          token: team.member.token,
          headers: { "Idempotency-Key": key },
          body: { start_time: "2026-09-02T09:00:00Z", end_time: "2026-09-02T10:00:00Z", description: "keyed" },
        });
      const first = await call();
      expect(first.status).toBe(201);
      const again = await call();
      expect(again.status).toBe(201);
      expect(again.headers.get("idempotent-replayed")).toBe("true");
      expect(again.body).toEqual(first.body);
      expect(await stored("keyed")).toBe("1");
    } finally {
      await proxy.close();
    }
  });

  it("keeps losing: 503 SERVICE_UNAVAILABLE with Retry-After after six attempts, nothing written", async () => {
    expect(TRANSIENT_ATTEMPTS).toBe(6);
    const proxy = await failingFirst(TRANSIENT_ATTEMPTS, "40P01");
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const description = "never written";
      const res = await create(proxy.url, description);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(res.body).toEqual({
        error: {
          code: "SERVICE_UNAVAILABLE",
          message: "The request kept colliding with concurrent ones; retry shortly",
        },
      });
      expect(proxy.requests).toBe(TRANSIENT_ATTEMPTS);
      expect(await stored(description)).toBe("0");
    } finally {
      errors.mockRestore();
      await proxy.close();
    }
  });

  it("any other Postgres error is not sent again", async () => {
    const proxy = await failingFirst(1, "XX000");
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const res = await create(proxy.url, "internal");
      expect(res.status).toBe(500);
      expect(proxy.requests).toBe(1);
    } finally {
      errors.mockRestore();
      await proxy.close();
    }
  });
});

describe("a statement Postgres gives up on for now (a timeout, a restart, too many connections)", () => {
  const busy = [503, "2", { error: { code: "SERVICE_UNAVAILABLE", message: "The database is busy; retry shortly" } }];
  // 53400, a configuration limit, will not pass later: a 500 like any other error.
  const failed = [500, null, { error: { code: "INTERNAL_ERROR", message: "An unexpected error occurred" } }];
  it.each([
    ["55P03", busy],
    ["57014", busy],
    ["57P01", busy],
    ["57P03", busy],
    ["53300", busy],
    ["53400", failed],
  ])("%s: not sent again, answered %j", async (code, expected) => {
    const proxy = await failingFirst(1, code);
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const res = await create(proxy.url, `busy ${code}`);
      expect([res.status, res.headers.get("retry-after"), res.body]).toEqual(expected);
      expect(proxy.requests).toBe(1);
    } finally {
      errors.mockRestore();
      await proxy.close();
    }
  });
});
