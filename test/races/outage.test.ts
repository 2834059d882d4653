// The SQL endpoint goes away in the middle of a run of writes: requests during
// the outage are 503 SERVICE_UNAVAILABLE with Retry-After and write nothing,
// the ones before and after are whole, and the API recovers by itself.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import app from "../../src/app";
import type { Bindings } from "../../src/lib/types";
import { createMember, createOrganization, type Member } from "../support/factories";
import { type ApiResponse, type Harness, startHarness } from "../support/harness";
import { onPostgres } from "../support/postgres";
import { startSqlProxy } from "../support/races";

let h: Harness;
let member: Member;
let proxy: Awaited<ReturnType<typeof startSqlProxy>>;
let env: Bindings;

beforeAll(async () => {
  h = await startHarness();
  member = await createMember(h, await createOrganization(h, "Outage"), "owner");
  proxy = await startSqlProxy(h.endpoint.url);
  env = { ...h.env, SQL_HTTP_ENDPOINT: proxy.url };
});
afterAll(async () => {
  await proxy?.close();
  await h?.close();
});

/** Calls the app with the database behind the switchable proxy. */
async function callThroughProxy(method: string, path: string, body?: unknown): Promise<ApiResponse> {
  const headers: Record<string, string> = { Authorization: `Bearer ${member.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await app.request(
    path,
    { method, headers, body: body === undefined ? undefined : JSON.stringify(body) },
    env,
  );
  return { status: res.status, headers: res.headers, body: await res.json() };
}

const record = (description: string) =>
  callThroughProxy("POST", "/v1/time-entries", {
    start_time: "2026-11-28T09:00:00Z",
    end_time: "2026-11-28T10:00:00Z",
    description,
  });

function expectUnavailable(res: ApiResponse) {
  expect(res.body).toEqual({
    error: { code: "SERVICE_UNAVAILABLE", message: "The database is unreachable; retry shortly" },
  });
  expect(res.status).toBe(503);
  expect(res.headers.get("Retry-After")).toBe("2");
}

const rowsWith = (prefix: string) =>
  h.sql("select description from time_entries where description like $1 order by description", [`${prefix}%`]);

describe(`the SQL endpoint going away mid-run (${onPostgres() ? "Postgres server" : "PGlite"})`, () => {
  it.each(["refusing", "gone"] as const)(
    "%s: 503 with Retry-After during the outage, nothing half-written, recovery when it returns",
    async (outage) => {
      const log = vi.spyOn(console, "error").mockImplementation(() => {});
      const run = `${outage}-${crypto.randomUUID().slice(0, 8)}-`;
      const results: { description: string; res: ApiResponse }[] = [];
      // Four writers at once, five writes each; the endpoint goes away after the
      // sixth answer and comes back after the fourteenth.
      let answered = 0;
      const writer = async (w: number) => {
        for (let i = 0; i < 5; i++) {
          const description = `${run}${w}-${i}`;
          const res = await record(description);
          results.push({ description, res });
          answered++;
          if (answered === 6) await proxy.set(outage);
          if (answered === 14) await proxy.set("up");
        }
      };
      try {
        await Promise.all([0, 1, 2, 3].map(writer));
      } finally {
        await proxy.set("up");
        log.mockRestore();
      }

      const statuses = results.map((r) => r.res.status);
      expect(statuses.filter((s) => s !== 201 && s !== 503)).toEqual([]);
      const failed = results.filter((r) => r.res.status === 503);
      expect(failed.length).toBeGreaterThan(0);
      for (const { res } of failed) expectUnavailable(res);
      // Every 201 is in the database exactly as answered; no 503 left a row.
      const created = results.filter((r) => r.res.status === 201).map((r) => r.description);
      expect((await rowsWith(run)).map((row) => row.description)).toEqual(created.sort());
      for (const { description, res } of results.filter((r) => r.res.status === 201)) {
        expect(res.body.data.description).toBe(description);
      }
      expect(proxy.refused).toBeGreaterThan(0);

      // Recovered: the next request works with no restart of anything.
      const after = await record(`${run}after`);
      expect(after.status).toBe(201);
      expect(await rowsWith(`${run}after`)).toEqual([{ description: `${run}after` }]);
    },
  );

  it("reads are 503 too while it is away, and the first read after it returns is 200", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const list = () => callThroughProxy("GET", "/v1/time-entries");
    try {
      await proxy.set("gone");
      expectUnavailable(await list());
      await proxy.set("up");
      expect((await list()).status).toBe(200);
    } finally {
      await proxy.set("up");
      log.mockRestore();
    }
  });
});
