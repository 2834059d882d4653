// The Worker as it ships: the minified bundle from `npm run build`, in workerd,
// with wrangler.toml's bindings, its SQL going over real HTTP to the local
// Neon endpoint. Every route group, both token kinds, the error envelope, the
// one-round-trip rule and the scheduled handler (if any) are checked here, on
// the Workers runtime rather than in Node.
import createClient from "openapi-fetch";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import app from "../../src/app";
import type { paths } from "../../src/client/api-types";
import { EXPORT_PAGE_SIZE, PAGES_AHEAD } from "../../src/routes/time-entries/export.handlers";
import { missingEventScopes } from "../../src/webhooks/event-types";
import { SWEEP_CRON } from "../../src/webhooks/sweeper";
import {
  createCustomer,
  createEntry,
  createMember,
  createOrganization,
  createProject,
  createTeam,
  type Member,
  type Team,
} from "../support/factories";
import { insertDelivery, subscribe } from "../support/webhooks";
import { cronTriggers, startWorkerdHarness, type WorkerdHarness } from "./workerd-harness";

let h: WorkerdHarness;
let team: Team;

beforeAll(async () => {
  h = await startWorkerdHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

type RouteGroup = {
  /** The collection's path in /openapi.json. */
  path: string;
  /** A valid body for POST on the collection; omitted for read-only groups. */
  create?: () => Promise<Record<string, unknown>>;
  /** A valid body for PATCH on one item. */
  patch?: Record<string, unknown>;
  /** `changes` for PATCH on the collection itself (bulk edit, `{ids, changes}`); DELETE with `{ids}` then follows. */
  bulk?: Record<string, unknown>;
  /** A single resource (GET answers one object), not a list. */
  single?: true;
  /** What GET answers after DELETE: 404 (`gone`, the default) or the resource with `status: removed` (offboarding). */
  deleted?: "gone" | "removed";
  /** Fields only the POST answers with (a webhook's secret). */
  shownOnce?: string[];
};

const unique = () => crypto.randomUUID().slice(0, 8);

/**
 * One line per route group: a collection in /openapi.json without its line here fails the first test. A line
 * may come before its routes do; it runs once the collection is in the document.
 */
const routeGroups: RouteGroup[] = [
  {
    path: "/v1/time-entries",
    create: async () => ({
      start_time: "2026-11-28T09:00:00+01:00",
      end_time: "2026-11-28T10:30:00+01:00",
      description: "In workerd",
    }),
    patch: { description: "Patched in workerd" },
    bulk: { description: "Bulk-edited in workerd", billable: true },
  },
  { path: "/v1/customers", create: async () => ({ name: `Customer ${unique()}` }), patch: { name: "Renamed" } },
  { path: "/v1/projects", create: async () => ({ name: `Project ${unique()}` }), patch: { active: false } },
  {
    path: "/v1/invoices",
    create: async () => ({
      customer_id: await createCustomer(h, team.organizationId),
      number: `INV-${unique()}`,
      date: "2026-11-30",
    }),
    patch: { due_date: "2026-12-14" },
  },
  {
    path: "/v1/members",
    create: async () => ({ email: `${unique()}@workerd.example`, full_name: "In Workerd", role: "member" }),
    patch: { role: "admin" },
    deleted: "removed",
  },
  { path: "/v1/organizations/current", single: true },
  {
    path: "/v1/webhooks",
    create: async () => ({ url: `https://hooks.example.com/${unique()}`, events: ["invoice.status_changed"] }),
    patch: { description: "Patched in workerd" },
    shownOnce: ["secret"],
  },
  { path: "/v1/me", single: true },
];

/**
 * The route groups of an OpenAPI document: its collections (`/v1/<name>`), and the single resources that have no
 * collection (`/v1/organizations/current`).
 */
const collectionsOf = (document: { paths: Record<string, unknown> }) => {
  const paths = Object.keys(document.paths);
  return paths
    .filter((path) => /^\/v1\/[^/]+$/.test(path) || (path.endsWith("/current") && !paths.includes(path.slice(0, -8))))
    .sort();
};

// Known when the tests are collected: the app's document (the same code as the bundle's, checked below).
const documented = collectionsOf(await (await app.request("/openapi.json")).json());

type Operation = { method: string; path: string; scopes: string[] };

async function documentedOperations(): Promise<Operation[]> {
  const { body } = await h.call("GET", "/openapi.json");
  return Object.entries(
    body.paths as Record<string, Record<string, { security?: Record<string, string[]>[] }>>,
  ).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({
      method: method.toUpperCase(),
      path,
      scopes: operation.security?.flatMap((requirement) => Object.values(requirement).flat()) ?? [],
    })),
  );
}

async function scopesOf(method: string, path: string) {
  const operation = (await documentedOperations()).find((op) => op.method === method && op.path === path);
  if (!operation) throw new Error(`${method} ${path} is not in /openapi.json`);
  return operation.scopes.join(" ");
}

const oauthToken = (scope: string) =>
  h.issuer.sign({ userId: team.owner.id, organizationId: team.organizationId, scope });

const idOf = (body: { data?: { id?: string } }) => {
  const id = body.data?.id;
  if (!id) throw new Error(`no id in ${JSON.stringify(body)}`);
  return id;
};

describe("the built Worker in workerd", () => {
  it("has a route group line for every collection in /openapi.json", async () => {
    const served = collectionsOf(await h.call("GET", "/openapi.json").then((res) => res.body));
    expect(served).toEqual(documented);
    expect(documented.filter((path) => !routeGroups.some((group) => group.path === path))).toEqual([]);
  });

  it("serves the public endpoints", async () => {
    const health = await h.call("GET", "/healthz");
    expect(health).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(health.headers.get("Cache-Control")).toBe("no-store");
    const docs = await h.call("GET", "/docs");
    expect(docs.status).toBe(200);
    expect(docs.body).toContain('src="/docs/scalar.js"');
    const asset = await fetch(new URL("/docs/scalar.js", h.url));
    expect(asset.status).toBe(200);
    expect(asset.headers.get("Content-Type")).toContain("javascript");
    expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
  });

  describe.each(routeGroups.filter((group) => documented.includes(group.path)))("$path", (group) => {
    it("lists with a session token, in one SQL request", async () => {
      let res: Awaited<ReturnType<typeof h.call>> | undefined;
      const trips = await h.roundTrips(async () => {
        res = await h.call("GET", group.single ? group.path : `${group.path}?limit=5`, { token: team.owner.token });
      });
      expect(res?.status).toBe(200);
      expect(Array.isArray(res?.body.data)).toBe(!group.single);
      expect(res?.headers.get("Cache-Control")).toBe("no-store");
      expect(trips).toBe(1);
    });

    it("lists with an OAuth access token carrying the documented scope", async () => {
      const token = await oauthToken(await scopesOf("GET", group.path));
      const res = await h.call("GET", group.single ? group.path : `${group.path}?limit=5`, { token });
      expect(res.status).toBe(200);
      expect(Array.isArray(res.body.data)).toBe(!group.single);
    });

    it.runIf(group.create)("creates (OAuth), reads, patches (session) and deletes (OAuth) an item", async () => {
      const create = group.create as NonNullable<RouteGroup["create"]>;
      const body = await create();
      // A subscription's events need the read scopes of their data too (test/webhooks/event-scopes.test.ts).
      const events = (body as { events?: string[] }).events ?? [];
      const writer = await oauthToken(
        [await scopesOf("POST", group.path), ...missingEventScopes(events, [])].join(" ").trim(),
      );
      const created = await h.call("POST", group.path, { token: writer, body });
      expect(created.status).toBe(201);
      const item = `${group.path}/${idOf(created.body)}`;
      expect(created.headers.get("Location")).toContain(item);

      expect(created.headers.get("ETag")).toBe('"1"');

      const read = await h.call("GET", item, { token: team.owner.token });
      expect(read.status).toBe(200);
      const shownOnce = group.shownOnce ?? [];
      expect(read.body.data).toEqual(
        Object.fromEntries(Object.entries(created.body.data).filter(([field]) => !shownOnce.includes(field))),
      );
      let etag = read.headers.get("ETag") ?? "";
      expect(etag).toBe('"1"');

      if (group.patch) {
        const headers = { "If-Match": etag };
        const patched = await h.call("PATCH", item, { token: team.owner.token, body: group.patch, headers });
        expect(patched.status).toBe(200);
        expect(patched.body.data).toMatchObject(group.patch);
        etag = patched.headers.get("ETag") ?? "";
        expect(etag).toBe('"2"');
        const stale = await h.call("DELETE", item, { token: writer, headers });
        expect(stale.status).toBe(412);
        expect(stale.body.error.code).toBe("PRECONDITION_FAILED");
      }

      const deleted = await h.call("DELETE", item, { token: writer, headers: { "If-Match": etag } });
      expect(deleted.status).toBe(204);
      const gone = await h.call("GET", item, { token: team.owner.token });
      if (group.deleted === "removed") {
        expect(gone.status).toBe(200);
        expect(gone.body.data.status).toBe("removed");
      } else {
        expect(gone.status).toBe(404);
        expect(gone.body.error.code).toBe("NOT_FOUND");
      }
    });

    it.runIf(group.bulk)("bulk-edits (session) and bulk-deletes (OAuth) items, in one SQL request each", async () => {
      const create = group.create as NonNullable<RouteGroup["create"]>;
      const ids: string[] = [];
      for (let i = 0; i < 2; i++) {
        ids.push(idOf((await h.call("POST", group.path, { token: team.owner.token, body: await create() })).body));
      }
      let edited: Awaited<ReturnType<typeof h.call>> | undefined;
      const editTrips = await h.roundTrips(async () => {
        edited = await h.call("PATCH", group.path, { token: team.owner.token, body: { ids, changes: group.bulk } });
      });
      expect(edited?.status).toBe(200);
      expect(edited?.body.meta).toEqual({ count: 2 });
      expect(edited?.body.data.map((item: { id: string }) => item.id)).toEqual(ids);
      for (const item of edited?.body.data ?? []) expect(item).toMatchObject(group.bulk as object);
      expect(editTrips).toBe(1);

      const writer = await oauthToken(await scopesOf("DELETE", group.path));
      let deleted: Awaited<ReturnType<typeof h.call>> | undefined;
      const deleteTrips = await h.roundTrips(async () => {
        deleted = await h.call("DELETE", group.path, { token: writer, body: { ids } });
      });
      expect(deleted?.status).toBe(204);
      expect(deleteTrips).toBe(1);
      for (const id of ids)
        expect((await h.call("GET", `${group.path}/${id}`, { token: team.owner.token })).status).toBe(404);
    });
  });

  it("sends pages and bulk answers whose text goes beyond ASCII as the same characters in UTF-8", async () => {
    const org = await createOrganization(h, "Beyond ASCII in workerd");
    const owner = await createMember(h, org, "owner", 'Zoë "Q" Müller');
    const customer = "Bäckerei Müller — Köln";
    const project = "Überstunden 🙂 \\ Ärger";
    const description = 'Café — Überstunden 🙂 "quoted" \\ tab\t';
    const customerId = await createCustomer(h, org, customer);
    const projectId = await createProject(h, org, { name: project, customerId });
    const entryId = await createEntry(h, { id: owner.id, organizationId: org }, { projectId, description });

    const list = await h.call("GET", "/v1/time-entries", { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.headers.get("Content-Type")).toBe("application/json");
    const entries = list.body.data as { description: string; user: { full_name: string } }[];
    expect(entries.map((entry) => [entry.description, entry.user.full_name])).toEqual([
      [description, 'Zoë "Q" Müller'],
    ]);
    const bulk = await h.call("PATCH", "/v1/time-entries", {
      token: owner.token,
      body: { ids: [entryId], changes: { billable: false } },
    });
    expect(bulk.status).toBe(200);
    expect(bulk.headers.get("Content-Type")).toBe("application/json");
    expect((bulk.body.data as { description: string }[]).map((entry) => entry.description)).toEqual([description]);
    type Named = { name?: string; user?: { full_name: string } };
    const namesIn = async (path: string, nameOf: (item: Named) => unknown) => {
      const page = await h.call("GET", path, { token: owner.token });
      expect([page.status, page.headers.get("Content-Type")]).toEqual([200, "application/json"]);
      return (page.body.data as Named[]).map(nameOf);
    };
    expect(await namesIn("/v1/projects", (item) => item.name)).toEqual([project]);
    expect(await namesIn("/v1/customers", (item) => item.name)).toEqual([customer]);
    expect(await namesIn("/v1/members", (item) => item.user?.full_name)).toEqual(['Zoë "Q" Müller']);
  });
});

describe("a typed openapi-fetch client", () => {
  it("talks to the Worker with the generated types", async () => {
    const client = createClient<paths>({
      baseUrl: h.url.origin,
      headers: { Authorization: `Bearer ${team.owner.token}` },
    });
    const { data, error, response } = await client.GET("/v1/time-entries", { params: { query: { limit: 1 } } });
    expect(response.status).toBe(200);
    expect(error).toBeUndefined();
    expect(data?.meta.count).toBe(data?.data.length);
  });
});

describe("scheduled handler", () => {
  const crons: string[] = cronTriggers();

  it.runIf(crons.length > 0).each(crons)("runs for the cron trigger %s", async (cron) => {
    const result = await h.worker.scheduled({ cron, scheduledTime: new Date() });
    expect(result.outcome).toBe("ok");
  });

  it.runIf(crons.length > 0)(
    "purges tombstones older than 30 days, Idempotency-Key answers older than 24 hours, webhook events older than 30 days with their deliveries, and expired previous secrets",
    async () => {
      const tombstone = (description: string, age: string) =>
        h.sql(
          `insert into time_entries (organization_id, user_id, start_time, end_time, description, deleted_at)
         values ($1, $2, '2026-01-01T09:00:00Z', '2026-01-01T10:00:00Z', $3, now() - $4::interval)`,
          [team.organizationId, team.member.id, description, age],
        );
      await tombstone("scheduled-old", "31 days");
      await tombstone("scheduled-young", "29 days");
      const insert = (key: string, age: string) =>
        h.sql(
          `insert into idempotency_keys (organization_id, user_id, key, request_hash, response_status, created_at)
         values ($1, $2, $3, 'hash', 201, now() - $4::interval)`,
          [team.organizationId, team.member.id, key, age],
        );
      await insert("scheduled-old", "25 hours");
      await insert("scheduled-young", "23 hours");
      const { id: subscription } = await subscribe(h, team.organizationId, { active: false });
      const event = (type: string, age: string) =>
        insertDelivery(h, { organizationId: team.organizationId, id: subscription }, { type, age });
      await event("scheduled.old", "31 days");
      await event("scheduled.young", "29 days");
      const rotated = async (expiresIn: string) => {
        const { id } = await subscribe(h, team.organizationId, { active: false });
        await h.sql(
          `update webhook_subscriptions set previous_secret = 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', previous_secret_expires_at = now() + $2::interval
           where id = $1`,
          [id, expiresIn],
        );
        return id;
      };
      const expired = await rotated("-1 minute");
      const signing = await rotated("1 hour");
      const secretsOf = () =>
        h.sql(
          "select id, previous_secret, version from webhook_subscriptions where id = any($1::uuid[]) order by id = $2 desc",
          [`{${expired},${signing}}`, expired],
        );
      const [expiredBefore, signingBefore] = await secretsOf();
      const purge = crons.find((cron) => cron !== SWEEP_CRON) as string;
      const result = await h.worker.scheduled({ cron: purge, scheduledTime: new Date() });
      expect(result.outcome).toBe("ok");
      const events = await h.sql(
        "select e.type, count(d.id)::int as deliveries from webhook_events e left join webhook_deliveries d on d.event_id = e.id where e.type like 'scheduled.%' group by e.type",
      );
      expect(events).toEqual([{ type: "scheduled.young", deliveries: "1" }]);
      // Cleared without a new version: the API shows neither column.
      expect(await secretsOf()).toEqual([
        { id: expired, previous_secret: null, version: expiredBefore?.version },
        {
          id: signing,
          previous_secret: "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
          version: signingBefore?.version,
        },
      ]);
      await h.sql("delete from webhook_subscriptions where id = any($1::uuid[])", [
        `{${subscription},${expired},${signing}}`,
      ]);
      const left = await h.sql("select key from idempotency_keys where key like 'scheduled-%' order by key");
      expect(left).toEqual([{ key: "scheduled-young" }]);
      const entries = await h.sql("select description from time_entries where description like 'scheduled-%'");
      expect(entries).toEqual([{ description: "scheduled-young" }]);
    },
  );

  it.runIf(crons.length === 0)("has none, as wrangler.toml declares no cron trigger", async () => {
    const result = await h.worker.scheduled({ cron: "* * * * *", scheduledTime: new Date() });
    expect(result.outcome).toBe("exception");
    expect(h.logs().map((log) => log.message)).toContainEqual(expect.stringContaining("lack a handler"));
  });
});

/** The owner of an organization with more pages of entries than are read ahead, set by the export test. */
let exporter: Member | undefined;

// Not a collection, so not a route group: the one operation that streams, page by page, from a pull.
describe("the streamed export in workerd", () => {
  it("streams a CSV and an NDJSON export of PAGES_AHEAD + 2 pages, one SQL request per page", async () => {
    const org = await createOrganization(h, "Export in workerd");
    const owner = await createMember(h, org, "owner");
    exporter = owner;
    const total = (PAGES_AHEAD + 1) * EXPORT_PAGE_SIZE + 1;
    await h.sql(
      `insert into time_entries (organization_id, user_id, start_time, end_time, description)
       select $1, $2, timestamptz '2026-01-01T00:00:00Z' + n * interval '1 hour',
         timestamptz '2026-01-01T00:30:00Z' + n * interval '1 hour', '=Entry ' || n
       from generate_series(1, $3::int) n`,
      [org, owner.id, String(total)],
    );
    const expected = (
      await h.sql("select id from time_entries where organization_id = $1 order by start_time desc, id desc", [org])
    ).map((row) => row.id);

    let csv: Awaited<ReturnType<typeof h.call>> | undefined;
    const trips = await h.roundTrips(async () => {
      csv = await h.call("GET", "/v1/time-entries/export?format=csv", { token: owner.token });
    });
    expect(csv?.status).toBe(200);
    expect(csv?.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(csv?.headers.get("Content-Disposition")).toMatch(/^attachment; filename="time-entries-[\d-]{10}\.csv"$/);
    expect(csv?.headers.get("Cache-Control")).toBe("no-store");
    const rows: string[] = csv?.body.split("\r\n") ?? [];
    expect(rows).toHaveLength(total + 2); // the header, the entries, and the empty string after the last CRLF
    expect(rows.slice(1, -1).map((row) => row.split(",")[0])).toEqual(expected);
    expect(rows[1]).toContain(`,'=Entry ${total},`);
    expect(trips).toBe(PAGES_AHEAD + 2);

    const token = await h.issuer.sign({ userId: owner.id, organizationId: org, scope: "entries:read" });
    const ndjson = await h.call("GET", "/v1/time-entries/export?format=json", { token });
    expect(ndjson.headers.get("Content-Type")).toBe("application/x-ndjson");
    const lines = (ndjson.body as string)
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.id)).toEqual(expected);
    expect(lines[0].description).toBe(`=Entry ${total}`);
  });

  it("answers a request without format as a JSON 400, before streaming anything", async () => {
    const res = await h.call("GET", "/v1/time-entries/export", { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "VALIDATION_ERROR", details: { format: ["Required"] } });
  });
});

describe("errors in workerd", () => {
  it("refuses a request without a token with 401, the envelope and a challenge, before any SQL", async () => {
    let res: Awaited<ReturnType<typeof h.call>> | undefined;
    const trips = await h.roundTrips(async () => {
      res = await h.call("GET", "/v1/time-entries");
    });
    expect(res?.status).toBe(401);
    expect(res?.body.error.code).toBe("UNAUTHORIZED");
    expect(res?.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
    expect(res?.headers.get("X-Request-Id")).toBeTruthy();
    expect(trips).toBe(0);
  });

  it("answers an invalid body with 400 VALIDATION_ERROR and English messages per field", async () => {
    const res = await h.call("POST", "/v1/time-entries", {
      token: team.owner.token,
      body: { start_time: "yesterday", description: "x", surprise: true },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("VALIDATION_ERROR");
    expect(Object.keys(res.body.error.details)).toEqual(expect.arrayContaining(["start_time"]));
    expect(JSON.stringify(res.body.error.details)).toMatch(/[A-Z][a-z]+ /);
    expect(res.body.error.details.start_time).toEqual([
      "Must be an RFC 3339 timestamp with an offset, e.g. 2026-11-28T09:00:00Z",
    ]);
    const leap = await h.call("POST", "/v1/time-entries", {
      token: team.owner.token,
      body: { start_time: "2016-12-31T23:59:60Z" },
    });
    expect(leap.body.error.details.start_time).toEqual([
      "Must not be a leap second (:60): time in JavaScript and Postgres has none",
    ]);
  });

  it("reads a project rate's decimals from the body's text (JSON.parse's source text access, which workerd has)", async () => {
    const res = await h.call("POST", "/v1/projects", {
      token: team.owner.token,
      body: '{"name":"Floated","hourly_rate":19.999999999999999,"currency":"EUR"}',
    });
    expect([res.status, res.body.error?.details]).toEqual([400, { hourly_rate: ["Must have at most 2 decimals"] }]);
  });

  it("never sees an empty If-Match or If-Unmodified-Since: workerd drops a conditional header whose value is blank (the README warns of it)", async () => {
    const project = await h.call("POST", "/v1/projects", { token: team.owner.token, body: { name: "Guarded" } });
    let version = 1;
    for (const header of ["If-Match", "If-None-Match", "If-Unmodified-Since"]) {
      for (const value of ["", " "]) {
        version++;
        const res = await h.call("PATCH", `/v1/projects/${project.body.data.id}`, {
          token: team.owner.token,
          body: { name: `Changed ${version}` },
          headers: { [header]: value },
        });
        // Under Node the same request is 400 (test/concurrency/etag.test.ts): here the Worker gets no such header.
        expect([header, JSON.stringify(value), res.status, res.body.data?.version]).toEqual([
          header,
          JSON.stringify(value),
          200,
          version,
        ]);
      }
    }
  });

  it("takes an entity tag holding a byte that is no UTF-8 (a Latin-1 é, read as U+FFFD) for one that matches nothing: 412", async () => {
    const project = await h.call("POST", "/v1/projects", { token: team.owner.token, body: { name: "Tagged" } });
    const res = await h.call("PATCH", `/v1/projects/${project.body.data.id}`, {
      token: team.owner.token,
      body: { name: "Retagged" },
      headers: { "If-Match": '"\u00e9"' },
    });
    expect([res.status, res.body.error?.code]).toEqual([412, "PRECONDITION_FAILED"]);
  });

  it("refuses an OAuth token without the needed scope with 403 INSUFFICIENT_SCOPE", async () => {
    const res = await h.call("POST", "/v1/time-entries", {
      token: await oauthToken("entries:read"),
      body: { start_time: "2026-11-28T09:00:00Z", end_time: "2026-11-28T10:00:00Z", description: "x" },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("INSUFFICIENT_SCOPE");
    expect(res.headers.get("WWW-Authenticate")).toContain('error="insufficient_scope"');
  });

  // Last in the file: it closes the SQL endpoint for good.
  it("answers 503 with Retry-After when the database cannot be reached, and aborts an export under way", async () => {
    if (!exporter) throw new Error("the export test seeds the entries this test needs");
    // workerd reads a stream ahead as fast as the socket takes it, so the statements of the pages read
    // ahead are held at the endpoint until the database has gone away: the export is surely mid-stream then.
    const run = h.backend.query.bind(h.backend);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let statements = 0;
    h.backend.query = async (query) => {
      if (++statements > 1) await held;
      return run(query);
    };
    try {
      const started = await fetch(new URL("/v1/time-entries/export?format=json", h.url), {
        headers: { Authorization: `Bearer ${exporter.token}` },
      });
      expect(started.status).toBe(200);
      const reader = (started.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let received = "";
      while (received.split("\n").length <= EXPORT_PAGE_SIZE) {
        const chunk = await reader.read();
        if (chunk.done) throw new Error("the export ended after its first page");
        received += decoder.decode(chunk.value, { stream: true });
      }
      expect(received.split("\n")).toHaveLength(EXPORT_PAGE_SIZE + 1);
      await vi.waitFor(() => expect(statements).toBe(1 + PAGES_AHEAD));
      await h.endpoint.close();
      const rest = (async () => {
        for (;;) if ((await reader.read()).done) return "ended";
      })();
      // Not a quiet end: the transfer breaks, so the client cannot take a short file for the whole export.
      await expect(rest).rejects.toThrow();
    } finally {
      release();
      h.backend.query = run;
    }

    const res = await h.call("GET", "/v1/time-entries", { token: team.owner.token });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("SERVICE_UNAVAILABLE");
    expect(res.headers.get("Retry-After")).toBeTruthy();
  });
});
