// The local endpoint must answer exactly as Neon's SQL-over-HTTP does, as seen
// by the real driver: raw values parsed by the driver, batches as one
// transaction, Postgres errors with their SQLSTATE.
import { mkdtempSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NeonDbError, type NeonQueryFunction, neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_DRIVER_URL, openDevDatabase } from "../dev/database";
import { latencyFromEnv } from "../dev/sql-http-endpoint";
import { type Harness, startHarness } from "./support/harness";

let h: Harness;
let sql: NeonQueryFunction<false, false>;

beforeAll(async () => {
  h = await startHarness();
  neonConfig.fetchEndpoint = h.endpoint.url;
  sql = neon(LOCAL_DRIVER_URL);
});
afterAll(() => h?.close());

describe("the local Neon SQL-over-HTTP endpoint", () => {
  it("returns raw text that the driver parses by type", async () => {
    const [row] = await sql`select 1::int4 as i, 9007199254740993::int8 as big, 1.50::numeric as n, true as b,
      null::text as nothing, '{"a":[1]}'::jsonb as j, array[1,2]::int4[] as arr, 'x' as t`;
    expect(row).toEqual({
      i: 1,
      big: "9007199254740993",
      n: "1.50",
      b: true,
      nothing: null,
      j: { a: [1] },
      arr: [1, 2],
      t: "x",
    });
  });

  it("takes parameters as text, as the driver sends them", async () => {
    const [row] = await sql`select ${42}::int + 1 as answer, ${true}::boolean as flag, ${{ k: "v" }}::jsonb as doc,
      ${new Date("2026-11-28T09:00:00Z")}::timestamptz = '2026-11-28T09:00:00Z' as same_instant`;
    expect(row).toEqual({ answer: 43, flag: true, doc: { k: "v" }, same_instant: true });
  });

  it("serves every session in UTC", async () => {
    const [row] =
      await sql`select current_setting('TimeZone') as tz, '2026-11-28T10:00:00+01:00'::timestamptz::text as ts`;
    expect(row).toEqual({ tz: "UTC", ts: "2026-11-28 09:00:00+00" });
  });

  it("answers in array mode and with full results when asked", async () => {
    const rows = await sql.query("select 1 as a, 'b' as b", [], { arrayMode: true });
    expect(rows).toEqual([[1, "b"]]);
    const full = await sql.query("select 1 as a", [], { fullResults: true });
    expect(full).toMatchObject({ rowCount: 1, fields: [{ name: "a", dataTypeID: 23 }], rows: [{ a: 1 }] });
  });

  it("tags full results with the statement's command, a WITH's and a commented or parenthesized one's too", async () => {
    const command = async (query: string) => (await sql.query(query, [], { fullResults: true })).command;
    expect(await command("with a as (select 1 as x where (true) and true) select * from a")).toBe("SELECT");
    expect(await command("with a as (select 1) update users set email = email where false")).toBe("UPDATE");
    expect(await command("(select 1)")).toBe("SELECT");
    expect(await command("/* why */ -- and how\nselect 1")).toBe("SELECT");
    expect(await command("with \"a(\" as (select ')') select 1")).toBe("SELECT");
    expect(await command("(with a as (select 1) select * from a)")).toBe("SELECT");
    expect(await command("with a as (select 1) /* then */ (select * from a) union all (select 2)")).toBe("SELECT");
    expect(await command("with a(n) as (values (1)) delete from users where false")).toBe("DELETE");
  });

  it("runs a batch as one transaction: all of it or none", async () => {
    await sql`create table if not exists endpoint_probe (id int primary key)`;
    const results = await sql.transaction([
      sql`insert into endpoint_probe values (1)`,
      sql`select count(*)::int as n from endpoint_probe`,
    ]);
    expect(results[1]).toEqual([{ n: 1 }]);

    await expect(
      sql.transaction([sql`insert into endpoint_probe values (2)`, sql`insert into endpoint_probe values (1)`]),
    ).rejects.toBeInstanceOf(NeonDbError);
    const [after] = await sql`select count(*)::int as n from endpoint_probe`;
    expect(after).toEqual({ n: 1 });
  });

  it("applies the batch isolation level and read-only flag", async () => {
    const [level] = await sql.transaction([sql`select current_setting('transaction_isolation') as level`], {
      isolationLevel: "Serializable",
    });
    expect(level).toEqual([{ level: "serializable" }]);
    await expect(
      sql.transaction([sql`insert into endpoint_probe values (3)`], { readOnly: true }),
    ).rejects.toMatchObject({ code: "25006" });
  });

  it("reports Postgres errors with their SQLSTATE, constraint and detail", async () => {
    const error = await sql`insert into endpoint_probe values (1)`.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NeonDbError);
    expect(error).toMatchObject({ code: "23505", constraint: "endpoint_probe_pkey", severity: "ERROR" });
    expect((error as NeonDbError).detail).toContain("already exists");
  });

  it("refuses anything but POST /sql, and bodies that are not queries", async () => {
    expect((await fetch(h.endpoint.url.replace("/sql", "/other"), { method: "POST" })).status).toBe(404);
    expect((await fetch(h.endpoint.url)).status).toBe(404);
    const headers = { "Neon-Connection-String": LOCAL_DRIVER_URL };
    const bad = await fetch(h.endpoint.url, { method: "POST", headers, body: "{not json" });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ message: "Request body is not JSON" });
    const wrong = await fetch(h.endpoint.url, { method: "POST", headers, body: JSON.stringify({ sql: "select 1" }) });
    expect(wrong.status).toBe(400);
  });

  it("runs nothing a web page could send: no Neon-Connection-String, or a host that is no loopback name", async () => {
    const { port } = new URL(h.endpoint.url);
    const post = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const body = JSON.stringify({ query: "insert into endpoint_csrf_probe values (1)", params: [] });
        const req = request({ host: "127.0.0.1", port, path: "/sql", method: "POST", headers }, (res) => {
          let text = "";
          res
            .on("data", (chunk) => (text += chunk))
            .on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on("error", reject).end(body);
      });
    await sql`create table endpoint_csrf_probe (n int)`;
    const neonHeader = { "Neon-Connection-String": LOCAL_DRIVER_URL };
    // A cross-site form or text/plain fetch: no custom header.
    const blind = await post({ "Content-Type": "text/plain", Origin: "https://evil.example" });
    expect(blind).toEqual({
      status: 403,
      body: JSON.stringify({ message: "A Neon-Connection-String header is required, as the Neon driver sends it" }),
    });
    // A page rebound to 127.0.0.1 is same-origin to itself and may send any header, but names its own host.
    for (const host of [`evil.example:${port}`, "127.0.0.1.evil.example", "localhost.evil.example:80"]) {
      expect((await post({ ...neonHeader, Host: host })).status).toBe(403);
    }
    expect(await sql`select count(*)::int as n from endpoint_csrf_probe`).toEqual([{ n: 0 }]);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "[::1]"]) {
      expect((await post({ ...neonHeader, Host: host })).status).toBe(200);
    }
    expect(await sql`select count(*)::int as n from endpoint_csrf_probe`).toEqual([{ n: 3 }]);
  });

  it("serves npm start's endpoint to the Worker that knows its connection string only, not to any user of the machine", async () => {
    const database = await openDevDatabase({ dataDir: mkdtempSync(join(tmpdir(), "endpoint-secret-")) });
    try {
      expect(database.databaseUrl).toMatch(/^postgresql:\/\/local:[0-9a-f]{48}@localhost\/local$/);
      const ask = (connectionString: string) =>
        fetch(database.sqlHttpEndpoint as string, {
          method: "POST",
          headers: { "Neon-Connection-String": connectionString },
          body: JSON.stringify({ query: "select 1 as one", params: [] }),
        });
      const guessed = await ask(LOCAL_DRIVER_URL);
      expect([guessed.status, await guessed.json()]).toEqual([
        403,
        {
          message:
            "The Neon-Connection-String is not this endpoint's (npm start gives the Worker its own in .data/worker-vars.env)",
        },
      ]);
      expect((await ask(database.databaseUrl)).status).toBe(200);
      // As the driver sends it, with parameters of its own.
      expect((await ask(`${database.databaseUrl}?application_name=neon`)).status).toBe(200);
    } finally {
      await database.close();
    }
  });

  it("counts every request it serves", async () => {
    const trips = await h.roundTrips(async () => {
      await sql`select 1`;
      await sql.transaction([sql`select 1`, sql`select 2`]);
    });
    expect(trips).toBe(2);
  });

  // SQL_HTTP_LATENCY_MS: the network to a database in another region, which loopback lacks.
  it("waits latencyMs before every answer, errors included", async () => {
    h.endpoint.latencyMs = 80;
    try {
      for (const statement of [() => sql`select 1`, () => sql`select 1 / 0`.catch(() => undefined)]) {
        const started = performance.now();
        await statement();
        expect(performance.now() - started).toBeGreaterThanOrEqual(79);
      }
    } finally {
      h.endpoint.latencyMs = 0;
    }
  });

  it("takes its delay from SQL_HTTP_LATENCY_MS: milliseconds, 0 when unset or empty", () => {
    expect(latencyFromEnv(undefined)).toBe(0);
    expect(latencyFromEnv(" ")).toBe(0);
    expect(latencyFromEnv("25")).toBe(25);
    expect(latencyFromEnv("2.5")).toBe(2.5);
    for (const wrong of ["-1", "fast", "Infinity"])
      expect(() => latencyFromEnv(wrong), wrong).toThrow(/SQL_HTTP_LATENCY_MS/);
  });
});
