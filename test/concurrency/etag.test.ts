// Optimistic concurrency (RFC 9110): every entry, project, customer and invoice
// carries its `version`, responses with one of them carry `ETag: "<version>"`,
// and PATCH and DELETE with an `If-Match` that names no current version are
// 412 PRECONDITION_FAILED with nothing changed, decided in the write itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCustomer, createEntry, createInvoice, createProject, createTeam, type Team } from "../support/factories";
import { type CallOptions, type Harness, startHarness } from "../support/harness";
import { documentedOperations } from "../support/openapi-operations";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

type Resource = {
  name: string;
  path: string;
  table: string;
  /** A fresh row of this resource in `owner`'s organization (by default ours), made in SQL; returns its id. */
  make: (owner?: Team) => Promise<string>;
  /** A valid PATCH body and the column it changes, with its value in SQL text. */
  change: { body: Record<string, unknown>; column: string; value: string };
  token: () => string;
};

const resources: Resource[] = [
  {
    name: "time entry",
    path: "/v1/time-entries",
    table: "time_entries",
    make: (owner = team) => createEntry(h, owner.member),
    change: { body: { description: "Changed" }, column: "description", value: "Changed" },
    token: () => team.member.token,
  },
  {
    name: "project",
    path: "/v1/projects",
    table: "projects",
    make: (owner = team) => createProject(h, owner.organizationId),
    change: { body: { name: "Renamed" }, column: "name", value: "Renamed" },
    token: () => team.admin.token,
  },
  {
    name: "customer",
    path: "/v1/customers",
    table: "customers",
    make: (owner = team) => createCustomer(h, owner.organizationId),
    change: { body: { notes: "Changed" }, column: "notes", value: "Changed" },
    token: () => team.admin.token,
  },
  {
    name: "invoice",
    path: "/v1/invoices",
    table: "invoices",
    make: (owner = team) => createInvoice(h, owner.organizationId),
    change: { body: { due_date: "2026-12-31" }, column: "due_date::text", value: "2026-12-31" },
    token: () => team.owner.token,
  },
];

const call = (resource: Resource, method: string, id: string, options: CallOptions = {}) =>
  h.call(method, `${resource.path}/${id}`, { token: resource.token(), ...options });

const row = async (resource: Resource, id: string) =>
  (await h.sql(`select version, ${resource.change.column} as changed from ${resource.table} where id = $1`, [id]))[0];

const preconditionFailed = (
  name: string,
  message = `The ${name} has changed: If-Match does not match its current ETag`,
) => ({
  error: { code: "PRECONDITION_FAILED", message },
});

describe.each(resources)("$name", (resource) => {
  it("GET carries the version in the body and as a strong ETag", async () => {
    const id = await resource.make();
    const res = await call(resource, "GET", id);
    expect(res.status).toBe(200);
    expect(res.body.data.version).toBe(1);
    expect(res.headers.get("ETag")).toBe('"1"');
  });

  it("PATCH bumps the version, and its answer carries the new ETag", async () => {
    const id = await resource.make();
    const res = await call(resource, "PATCH", id, { body: resource.change.body });
    expect(res.status).toBe(200);
    expect(res.body.data.version).toBe(2);
    expect(res.headers.get("ETag")).toBe('"2"');
    const again = await call(resource, "GET", id);
    expect(again.headers.get("ETag")).toBe('"2"');
    expect(await row(resource, id)).toEqual({ version: "2", changed: resource.change.value });
  });

  it("PATCH with If-Match naming the current version changes the resource", async () => {
    const id = await resource.make();
    const res = await call(resource, "PATCH", id, { body: resource.change.body, headers: { "If-Match": '"1"' } });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe('"2"');
    expect(await row(resource, id)).toEqual({ version: "2", changed: resource.change.value });
  });

  it("PATCH with a stale If-Match is 412 PRECONDITION_FAILED and changes nothing", async () => {
    const id = await resource.make();
    await h.sql(`update ${resource.table} set updated_at = now() where id = $1`, [id]); // someone else: version 2
    const before = await row(resource, id);
    const res = await call(resource, "PATCH", id, { body: resource.change.body, headers: { "If-Match": '"1"' } });
    expect(res.status).toBe(412);
    expect(res.body).toEqual(preconditionFailed(resource.name));
    expect(before?.version).toBe("2");
    expect(await row(resource, id)).toEqual(before);
  });

  it("If-Match takes a list (empty elements allowed), and matches when any tag names the current version", async () => {
    const id = await resource.make();
    const res = await call(resource, "PATCH", id, {
      body: resource.change.body,
      headers: { "If-Match": '"7", W/"9", , "1"' },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.version).toBe(2);
    const spaced = await call(resource, "PATCH", id, {
      body: resource.change.body,
      headers: { "If-Match": ' ,"7" ,, W/"9" ,\t, "2" ,' },
    });
    expect([spaced.status, spaced.body.data?.version]).toEqual([200, 2]);
  });

  it("If-Match: * matches any version", async () => {
    const id = await resource.make();
    await h.sql(`update ${resource.table} set updated_at = now() where id = $1`, [id]);
    const res = await call(resource, "PATCH", id, { body: resource.change.body, headers: { "If-Match": "*" } });
    expect(res.status).toBe(200);
    expect(res.body.data.version).toBe(3);
  });

  it("a weak tag never matches (strong comparison), nor does a tag that is no version", async () => {
    const id = await resource.make();
    for (const tag of ['W/"1"', '"01"', '"abc"', '""', '"é"']) {
      const res = await call(resource, "PATCH", id, { body: resource.change.body, headers: { "If-Match": tag } });
      expect(res.status, tag).toBe(412);
      expect(res.body, tag).toEqual(preconditionFailed(resource.name));
    }
    expect((await row(resource, id))?.version).toBe("1");
  });

  it("a malformed If-Match is 400 VALIDATION_ERROR and changes nothing", async () => {
    const id = await resource.make();
    for (const value of ["1", "'1'", '"1', "W/1", '"1" "2"', "**", '"1", *', " ", "", '"a b"']) {
      const res = await call(resource, "PATCH", id, { body: resource.change.body, headers: { "If-Match": value } });
      expect(res.status, value).toBe(400);
      expect(res.body, value).toEqual({
        error: {
          code: "VALIDATION_ERROR",
          message: "Invalid request header",
          details: { "If-Match": ['Must be * or a comma-separated list of entity tags, e.g. "3"'] },
        },
      });
    }
    const long = await call(resource, "PATCH", id, {
      body: resource.change.body,
      headers: { "If-Match": `"1"${" ".repeat(1000)}x` },
    });
    // Too long and malformed: one message.
    expect([long.status, long.body.error.details], "over 1000 characters").toEqual([
      400,
      { "If-Match": ['Must be * or a comma-separated list of entity tags, e.g. "3"'] },
    ]);
    const del = await call(resource, "DELETE", id, { headers: { "If-Match": "3" } });
    expect(del.status).toBe(400);
    expect((await row(resource, id))?.version).toBe("1");
  });

  it("an unknown or foreign id is 404 before If-Match is looked at", async () => {
    const foreign = await resource.make(await createTeam(h));
    for (const id of [crypto.randomUUID(), foreign]) {
      for (const method of ["PATCH", "DELETE"]) {
        const res = await call(resource, method, id, {
          body: method === "PATCH" ? resource.change.body : undefined,
          headers: { "If-Match": '"999"' },
        });
        expect(res.status, `${method} ${id}`).toBe(404);
        expect(res.body.error.code).toBe("NOT_FOUND");
      }
    }
  });

  it("DELETE with a stale If-Match is 412 and the row is still there; with the current one it deletes", async () => {
    const id = await resource.make();
    await h.sql(`update ${resource.table} set updated_at = now() where id = $1`, [id]);
    const stale = await call(resource, "DELETE", id, { headers: { "If-Match": '"1"' } });
    expect(stale.status).toBe(412);
    expect(stale.body).toEqual(preconditionFailed(resource.name));
    const live = resource.table === "time_entries" ? " and deleted_at is null" : "";
    expect(await h.sql(`select version from ${resource.table} where id = $1${live}`, [id])).toEqual([{ version: "2" }]);

    const current = await call(resource, "DELETE", id, { headers: { "If-Match": '"1", "2"' } });
    expect(current.status).toBe(204);
    expect(await h.sql(`select id from ${resource.table} where id = $1${live}`, [id])).toEqual([]);
  });
  it("If-None-Match naming the current version (weak comparison) or * is 412 and changes nothing", async () => {
    const id = await resource.make();
    const namesIt = `The ${resource.name} is at a version If-None-Match names: its current ETag`;
    for (const tag of ['"1"', 'W/"1"', '"7", "1"']) {
      const res = await call(resource, "PATCH", id, { body: resource.change.body, headers: { "If-None-Match": tag } });
      expect(res.status, tag).toBe(412);
      expect(res.body, tag).toEqual(preconditionFailed(resource.name, namesIt));
    }
    const exists = `The ${resource.name} exists: If-None-Match: * holds only where there is none`;
    const any = await call(resource, "PATCH", id, { body: resource.change.body, headers: { "If-None-Match": "*" } });
    expect(any.status).toBe(412);
    expect(any.body).toEqual(preconditionFailed(resource.name, exists));
    const both = await call(resource, "PATCH", id, {
      body: resource.change.body,
      headers: { "If-Match": '"1"', "If-None-Match": '"1"' },
    });
    expect(both.status, "If-Match and If-None-Match are both evaluated").toBe(412);
    expect(both.body, "the 412 names the header that failed").toEqual(preconditionFailed(resource.name, namesIt));
    const staleAndOther = await call(resource, "PATCH", id, {
      body: resource.change.body,
      headers: { "If-Match": '"7"', "If-None-Match": '"8"' },
    });
    expect(staleAndOther.body).toEqual(preconditionFailed(resource.name));
    const staleAndStar = await call(resource, "DELETE", id, { headers: { "If-Match": '"7"', "If-None-Match": "*" } });
    expect(staleAndStar.body, "If-Match is evaluated first (RFC 9110 §13.2.2)").toEqual(
      preconditionFailed(resource.name),
    );
    const anyAndStar = await call(resource, "PATCH", id, {
      body: resource.change.body,
      headers: { "If-Match": "*", "If-None-Match": '"1"' },
    });
    expect(anyAndStar.body, "beside If-Match: * only If-None-Match can fail").toEqual(
      preconditionFailed(resource.name, namesIt),
    );
    const del = await call(resource, "DELETE", id, { headers: { "If-None-Match": "*" } });
    expect(del.status).toBe(412);
    expect(del.body).toEqual(preconditionFailed(resource.name, exists));
    expect((await row(resource, id))?.version).toBe("1");
    const other = await call(resource, "PATCH", id, {
      body: resource.change.body,
      headers: { "If-Match": '"1"', "If-None-Match": '"2", W/"3"' },
    });
    expect(other.status).toBe(200);
    expect(other.headers.get("ETag")).toBe('"2"');
  });

  it("If-None-Match: * on an unknown id is still 404, and a malformed If-None-Match is 400", async () => {
    const missing = await call(resource, "DELETE", crypto.randomUUID(), { headers: { "If-None-Match": "*" } });
    expect(missing.status).toBe(404);
    const id = await resource.make();
    const malformed = await call(resource, "PATCH", id, {
      body: resource.change.body,
      headers: { "If-None-Match": "1" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details).toEqual({
      "If-None-Match": ['Must be * or a comma-separated list of entity tags, e.g. "3"'],
    });
  });
});

describe("ETag on every answer that carries one resource", () => {
  it("POST create answers with the new resource's ETag, as do timers and GET current", async () => {
    const created = await h.call("POST", "/v1/time-entries", {
      token: team.otherMember.token,
      body: { start_time: "2026-11-28T09:00:00Z", description: "Timer" },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("ETag")).toBe('"1"');
    const id = created.body.data.id;

    const current = await h.call("GET", "/v1/time-entries/current", { token: team.otherMember.token });
    expect(current.headers.get("ETag")).toBe('"1"');

    const stopped = await h.call("POST", `/v1/time-entries/${id}/stop`, {
      token: team.otherMember.token,
      body: { end_time: "2026-11-28T10:00:00Z" },
    });
    expect(stopped.status).toBe(200);
    expect(stopped.body.data.version).toBe(2);
    expect(stopped.headers.get("ETag")).toBe('"2"');

    const none = await h.call("GET", "/v1/time-entries/current", { token: team.otherMember.token });
    expect(none.body).toEqual({ data: null });
    expect(none.headers.get("ETag")).toBeNull();

    const restarted = await h.call("POST", `/v1/time-entries/${id}/restart`, { token: team.otherMember.token });
    expect(restarted.status).toBe(201);
    expect(restarted.headers.get("ETag")).toBe('"1"');
  });

  it('POST of a project, customer and invoice answers with ETag "1"', async () => {
    const customer = await h.call("POST", "/v1/customers", { token: team.owner.token, body: { name: "New" } });
    const project = await h.call("POST", "/v1/projects", { token: team.owner.token, body: { name: "New" } });
    const invoice = await h.call("POST", "/v1/invoices", {
      token: team.owner.token,
      body: { customer_id: customer.body.data.id, number: crypto.randomUUID().slice(0, 12), date: "2026-11-30" },
    });
    for (const res of [customer, project, invoice]) {
      expect(res.status).toBe(201);
      expect(res.body.data.version).toBe(1);
      expect(res.headers.get("ETag")).toBe('"1"');
    }
  });

  it("attaching and detaching entries bumps the invoice's version, and the answer carries its ETag", async () => {
    const invoiceId = await createInvoice(h, team.organizationId);
    const entryId = await createEntry(h, team.member);
    const attached = await h.call("POST", `/v1/invoices/${invoiceId}/time-entries`, {
      token: team.owner.token,
      body: { time_entry_ids: [entryId] },
    });
    expect(attached.status).toBe(200);
    expect(attached.body.data.version).toBe(2);
    expect(attached.headers.get("ETag")).toBe('"2"');
    const detached = await h.call("DELETE", `/v1/invoices/${invoiceId}/time-entries`, {
      token: team.owner.token,
      body: { time_entry_ids: [entryId] },
    });
    expect(detached.status).toBe(200);
    expect(detached.headers.get("ETag")).toBe('"3"');
    // The entry changed twice too (attached, then released): its old ETag no longer matches.
    const entry = await h.call("PATCH", `/v1/time-entries/${entryId}`, {
      token: team.member.token,
      body: { description: "x" },
      headers: { "If-Match": '"1"' },
    });
    expect(entry.status).toBe(412);
  });

  it("lists carry each item's version, and no ETag", async () => {
    const id = await createProject(h, team.organizationId, { name: "Listed version" });
    await h.sql("update projects set active = true where id = $1", [id]);
    const res = await h.call("GET", "/v1/projects?q=Listed%20version", { token: team.member.token });
    expect(res.body.data.map((p: { version: number }) => p.version)).toEqual([2]);
    expect(res.headers.get("ETag")).toBeNull();
  });

  it("a replayed POST (Idempotency-Key) carries the ETag of the first answer", async () => {
    const request = {
      token: team.owner.token,
      body: { name: "Idempotent" },
      headers: { "Idempotency-Key": crypto.randomUUID() },
    };
    const first = await h.call("POST", "/v1/customers", request);
    const replay = await h.call("POST", "/v1/customers", request);
    expect(replay.headers.get("Idempotent-Replayed")).toBe("true");
    expect(replay.headers.get("ETag")).toBe(first.headers.get("ETag"));
    expect(replay.headers.get("ETag")).toBe('"1"');
  });
});

describe("where 412 stands among the other answers", () => {
  it("a stale If-Match on an invoiced entry is 412, not 409 ENTRY_LOCKED: the client's view is out of date", async () => {
    const invoiceId = await createInvoice(h, team.organizationId);
    const entryId = await createEntry(h, team.member, { invoiceId });
    await h.sql("update time_entries set updated_at = now() where id = $1", [entryId]);
    const stale = await h.call("PATCH", `/v1/time-entries/${entryId}`, {
      token: team.member.token,
      body: { description: "x" },
      headers: { "If-Match": '"1"' },
    });
    expect(stale.status).toBe(412);
    const current = await h.call("DELETE", `/v1/time-entries/${entryId}`, {
      token: team.member.token,
      headers: { "If-Match": '"2"' },
    });
    expect(current.status).toBe(409);
    expect(current.body.error.code).toBe("ENTRY_LOCKED");
  });

  it("a stale If-Match with an unknown project_id is 412; with the current one, 400 on project_id", async () => {
    const entryId = await createEntry(h, team.member);
    const body = { project_id: crypto.randomUUID() };
    const stale = await h.call("PATCH", `/v1/time-entries/${entryId}`, {
      token: team.member.token,
      body,
      headers: { "If-Match": '"5"' },
    });
    expect(stale.status).toBe(412);
    const current = await h.call("PATCH", `/v1/time-entries/${entryId}`, {
      token: team.member.token,
      body,
      headers: { "If-Match": '"1"' },
    });
    expect(current.status).toBe(400);
    expect(current.body.error.details).toEqual({ project_id: ["No such project in this organization"] });
  });

  it("a body that fails validation is 400 whatever If-Match says (nothing reaches the database)", async () => {
    const entryId = await createEntry(h, team.member);
    const res = await h.call("PATCH", `/v1/time-entries/${entryId}`, {
      token: team.member.token,
      body: { billable: "yes" },
      headers: { "If-Match": '"5"' },
    });
    expect(res.status).toBe(400);
  });

  it("a member is 403 on a project whatever If-Match says", async () => {
    const projectId = await createProject(h, team.organizationId);
    const res = await h.call("PATCH", `/v1/projects/${projectId}`, {
      token: team.member.token,
      body: { name: "x" },
      headers: { "If-Match": '"5"' },
    });
    expect(res.status).toBe(403);
  });

  it("a stale If-Match on a sent invoice is 412 before 409 INVOICE_NOT_DRAFT and INVALID_STATUS_TRANSITION", async () => {
    const invoiceId = await createInvoice(h, team.organizationId, { status: "paid" });
    for (const [method, body] of [
      ["PATCH", { status: "draft" }],
      ["PATCH", { number: "X" }],
      ["DELETE", undefined],
    ] as const) {
      const res = await h.call(method, `/v1/invoices/${invoiceId}`, {
        token: team.owner.token,
        body,
        headers: { "If-Match": '"2"' },
      });
      expect(res.status, `${method} ${JSON.stringify(body)}`).toBe(412);
    }
  });

  it("a conditional write costs one SQL request, whether it passes or fails", async () => {
    const id = await createEntry(h, team.member);
    for (const [tag, status] of [
      ['"9"', 412],
      ['"1"', 200],
    ] as const) {
      const trips = await h.roundTrips(async () => {
        const res = await h.call("PATCH", `/v1/time-entries/${id}`, {
          token: team.member.token,
          body: { description: "y" },
          headers: { "If-Match": tag },
        });
        expect(res.status).toBe(status);
      });
      expect(trips).toBe(1);
    }
  });
});

describe("a write that takes no precondition", () => {
  it("refuses If-Match and If-None-Match (400, before any SQL) rather than writing unconditionally, and says so", async () => {
    const unconditional = (await documentedOperations(h)).filter(
      ({ method, operation }) =>
        method !== "get" && !(operation.parameters ?? []).some((parameter) => parameter.name === "If-Match"),
    );
    const names = unconditional.map(({ method, path }) => `${method.toUpperCase()} ${path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        "POST /v1/time-entries",
        "PATCH /v1/time-entries",
        "DELETE /v1/time-entries",
        "POST /v1/invoices/{id}/time-entries",
        "POST /v1/webhooks/{id}/ping",
      ]),
    );
    for (const { method, path, operation } of unconditional) {
      const url = path.replace(/\{\w+\}/g, () => crypto.randomUUID());
      expect(Object.keys(operation.responses), `${method} ${path}`).toContain("400");
      expect(operation.description, `${method} ${path}`).toContain(
        "This write is unconditional: `If-Match`, `If-None-Match` or `If-Unmodified-Since` is 400 `VALIDATION_ERROR`.",
      );
      for (const [name, value] of [
        ["If-Match", '"1"'],
        ["If-None-Match", "*"],
      ] as const) {
        const { trips, result } = await h.counted(() =>
          h.call(method.toUpperCase(), url, { token: team.owner.token, body: {}, headers: { [name]: value } }),
        );
        expect([result.status, trips], `${method} ${path} ${name}`).toEqual([400, 0]);
        expect(result.body).toEqual({
          error: {
            code: "VALIDATION_ERROR",
            message: "Invalid request header",
            details: { [name]: ["Not taken by this operation, which is unconditional"] },
          },
        });
      }
    }
  });

  it("refuses If-Unmodified-Since everywhere and If-Match on reads (400, before any SQL), and says so", async () => {
    const refusal = (details: Record<string, string[]>) => ({
      error: { code: "VALIDATION_ERROR", message: "Invalid request header", details },
    });
    const sendIfMatch = "Not taken: send If-Match with the resource's ETag";
    const since = "Sat, 01 Jan 2000 00:00:00 GMT";
    for (const { method, path, operation } of await documentedOperations(h)) {
      const name = `${method.toUpperCase()} ${path}`;
      const url = path.replace(/\{\w+\}/g, () => crypto.randomUUID());
      const send = (headers: Record<string, string>) =>
        h.counted(() =>
          h.call(method.toUpperCase(), url, {
            token: team.owner.token,
            body: method === "get" ? undefined : {},
            headers,
          }),
        );
      expect(Object.keys(operation.responses), name).toContain("400");
      const dated = await send({ "If-Unmodified-Since": since });
      expect([dated.result.status, dated.trips, dated.result.body], name).toEqual([
        400,
        0,
        refusal({ "If-Unmodified-Since": [sendIfMatch] }),
      ]);
      const takesIfMatch = (operation.parameters ?? []).some((parameter) => parameter.name === "If-Match");
      if (takesIfMatch) {
        expect(operation.parameters?.find((p) => p.name === "If-Match")?.description, name).toContain(
          "`If-Unmodified-Since` is not taken: 400 `VALIDATION_ERROR` without `If-Match`",
        );
      }
      if (method !== "get") continue;
      expect(operation.description, name).toContain(
        "`If-Match` or `If-Unmodified-Since` is 400 `VALIDATION_ERROR`: a read takes no precondition.",
      );
      const matched = await send({ "If-Match": "*" });
      expect([matched.result.status, matched.trips, matched.result.body], name).toEqual([
        400,
        0,
        refusal({ "If-Match": ["Not taken by a read, which changes nothing"] }),
      ]);
    }
  });

  it("ignores If-Unmodified-Since beside an If-Match, which decides (RFC 9110 §13.1.4)", async () => {
    const project = await createProject(h, team.organizationId);
    const patch = (ifMatch: string) =>
      h.call("PATCH", `/v1/projects/${project}`, {
        token: team.owner.token,
        body: { name: `Dated ${ifMatch}` },
        headers: { "If-Match": ifMatch, "If-Unmodified-Since": "Sat, 01 Jan 2000 00:00:00 GMT" },
      });
    expect((await patch('"1"')).status).toBe(200);
    expect([(await patch('"1"')).status, (await patch('"1"')).body.error?.code]).toEqual([412, "PRECONDITION_FAILED"]);
  });
});
