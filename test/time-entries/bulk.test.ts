import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BulkUpdatedTimeEntries } from "../../src/routes/time-entries/time-entries.bulk-schemas";
import {
  createEntry,
  createInvoice,
  createMember,
  createOrganization,
  createProject,
  createTeam,
  type Member,
  type Team,
} from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { eventsOf, subscribe } from "../support/webhooks";

let h: Harness;
let team: Team;
let stranger: Member;
let ratedProject: string;
let otherProject: string;

beforeAll(async () => {
  h = await startHarness();
  stranger = await createMember(h, await createOrganization(h, "Elsewhere"), "owner");
});
afterAll(() => h?.close());

beforeEach(async () => {
  team = await createTeam(h);
  ratedProject = await createProject(h, team.organizationId, { name: "Rated", hourlyRate: "95.00", currency: "EUR" });
  otherProject = await createProject(h, team.organizationId, { name: "Other" });
});

const patch = (token: string, body: unknown) => h.call("PATCH", "/v1/time-entries", { token, body });
const remove = (token: string, body: unknown) => h.call("DELETE", "/v1/time-entries", { token, body });

/** Each entry's row as it is stored, to show that a refused request changed nothing. */
const rows = (ids: string[]) =>
  h.sql(
    `select id, project_id, billable, description, version, updated_at, deleted_at, invoice_id
     from time_entries where id = any($1::uuid[]) order by id`,
    [`{${ids.join(",")}}`],
  );

const get = async (token: string, id: string) => (await h.call("GET", `/v1/time-entries/${id}`, { token })).body;
const sorted = (ids: string[]) => [...ids].sort();

const notFound = (ids: string[]) => ({
  error: { code: "NOT_FOUND", message: "Some time entries were not found", details: { ids: sorted(ids) } },
});
const locked = (ids: string[]) => ({
  error: {
    code: "ENTRY_LOCKED",
    message: "Some time entries are attached to an invoice and cannot be changed",
    details: { ids: sorted(ids) },
  },
});

describe("PATCH /v1/time-entries", () => {
  it("sets project and description on every entry and answers them in the order of ids, as GET shows them", async () => {
    const mine = await createEntry(h, team.member, { start: "2026-11-02T09:00:00Z", end: "2026-11-02T10:00:00Z" });
    const theirs = await createEntry(h, team.otherMember, {
      start: "2026-11-03T09:00:00Z",
      end: "2026-11-03T11:00:00Z",
    });
    const owners = await createEntry(h, team.owner, { start: "2026-11-01T09:00:00Z", end: "2026-11-01T09:30:00Z" });
    const before = await rows([mine, theirs, owners]);
    const ids = [mine, theirs, owners];

    const res = await patch(team.owner.token, {
      ids,
      changes: { project_id: ratedProject, description: "Invoiced work" },
    });

    expect(res.status).toBe(200);
    expect(BulkUpdatedTimeEntries.parse(res.body)).toEqual(res.body);
    const expected = await Promise.all(ids.map(async (id) => (await get(team.owner.token, id)).data));
    expect(res.body).toEqual({ data: expected, meta: { count: 3 } });
    expect(res.body.data.map((e: { id: string }) => e.id)).toEqual(ids);
    expect(res.body.data[1]).toMatchObject({
      id: theirs,
      user_id: team.otherMember.id,
      project_id: ratedProject,
      description: "Invoiced work",
      duration: 7200,
      // Not given: unchanged, although the new project has a rate.
      billable: false,
      project: { id: ratedProject, name: "Rated", hourly_rate: 95, currency: "EUR", customer: null },
    });
    const after = await rows([mine, theirs, owners]);
    for (const [i, row] of after.entries()) {
      const old = before[i];
      expect(Number(row.version)).toBe(Number(old?.version) + 1);
      expect(row.updated_at).not.toBe(old?.updated_at);
      expect(row).toMatchObject({ project_id: ratedProject, billable: "f", description: "Invoiced work" });
    }
  });

  it("leaves the entries that already have every given value as they are: same version, no event", async () => {
    await subscribe(h, team.organizationId, { events: ["*"] });
    const same = await createEntry(h, team.member, { projectId: otherProject, description: "Same" });
    const other = await createEntry(h, team.member, { projectId: otherProject, description: "Other" });
    const [sameBefore, otherBefore] = [await get(team.member.token, same), await get(team.member.token, other)];
    const res = await patch(team.member.token, {
      ids: [other, same],
      changes: { project_id: otherProject.toUpperCase(), description: "Same" },
    });
    expect(res.status).toBe(200);
    expect(res.body.data[1]).toEqual(sameBefore.data);
    expect(res.body.data[0]).toMatchObject({ description: "Same", version: otherBefore.data.version + 1 });
    expect(res.body.meta).toEqual({ count: 2 });
    expect(await get(team.member.token, same)).toEqual(sameBefore);
    const events = await eventsOf(h, team.organizationId);
    expect(events.map((event) => [event.type, event.data.id])).toEqual([["time_entry.updated", other]]);
  });

  it("sets billable only, and clears the project with project_id null without touching billable", async () => {
    const a = await createEntry(h, team.member, { projectId: ratedProject, billable: true });
    const b = await createEntry(h, team.member, { projectId: otherProject, billable: false });

    const billable = await patch(team.member.token, { ids: [a, b], changes: { billable: true } });
    expect(billable.status).toBe(200);
    expect(billable.body.data.map((e: { billable: boolean }) => e.billable)).toEqual([true, true]);
    expect(billable.body.data.map((e: { project_id: string }) => e.project_id)).toEqual([ratedProject, otherProject]);

    const cleared = await patch(team.member.token, { ids: [b, a], changes: { project_id: null } });
    expect(cleared.status).toBe(200);
    expect(cleared.body.meta).toEqual({ count: 2 });
    expect(cleared.body.data.map((e: { id: string; project_id: null; project: null; billable: boolean }) => e)).toEqual(
      [
        expect.objectContaining({ id: b, project_id: null, project: null, billable: true }),
        expect.objectContaining({ id: a, project_id: null, project: null, billable: true }),
      ],
    );
  });

  it("accepts an empty description and 3000 characters, refuses 3001 and a NUL character on changes.description", async () => {
    const id = await createEntry(h, team.member, { description: "Before" });
    expect((await patch(team.member.token, { ids: [id], changes: { description: "" } })).body.data[0].description).toBe(
      "",
    );
    const longest = await patch(team.member.token, { ids: [id], changes: { description: "é".repeat(3000) } });
    expect(longest.status).toBe(200);
    const before = await rows([id]);
    for (const [description, message] of [
      ["é".repeat(3001), "Must be at most 3000 characters"],
      ["a\u0000b", "Must not contain the NUL character"],
    ] as const) {
      const res = await patch(team.member.token, { ids: [id], changes: { description } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: {
          code: "VALIDATION_ERROR",
          message: "Invalid request body",
          details: { "changes.description": [message] },
        },
      });
    }
    expect(await rows([id])).toEqual(before);
  });

  it("lets owner and admin change anyone's entries", async () => {
    const ids = [
      await createEntry(h, team.member),
      await createEntry(h, team.otherMember),
      await createEntry(h, team.owner),
    ];
    for (const caller of [team.owner, team.admin]) {
      const res = await patch(caller.token, { ids, changes: { description: `By ${caller.role}` } });
      expect(res.status).toBe(200);
      expect(res.body.data.map((e: { description: string }) => e.description)).toEqual(
        Array(3).fill(`By ${caller.role}`),
      );
    }
  });

  it("limits a member to their own entries: a colleague's id is 404 listing it, and nothing changes", async () => {
    const mine = await createEntry(h, team.member);
    const colleagues = await createEntry(h, team.otherMember);
    const owners = await createEntry(h, team.owner);
    const before = await rows([mine, colleagues, owners]);

    const res = await patch(team.member.token, { ids: [mine, colleagues, owners], changes: { billable: true } });

    expect(res.status).toBe(404);
    expect(res.body).toEqual(notFound([colleagues, owners]));
    expect(await rows([mine, colleagues, owners])).toEqual(before);
  });

  it("answers another organization's ids, deleted entries and unknown ids alike: 404 listing exactly them, sorted", async () => {
    const mine = await createEntry(h, team.member);
    const foreign = await createEntry(h, stranger);
    const deleted = await createEntry(h, team.member);
    await h.sql("update time_entries set deleted_at = now(), project_id = null where id = $1", [deleted]);
    const unknown = crypto.randomUUID();
    const before = await rows([mine, foreign, deleted]);

    const res = await patch(team.owner.token, { ids: [unknown, mine, foreign, deleted], changes: { billable: true } });

    expect(res.status).toBe(404);
    expect(res.body).toEqual(notFound([unknown, foreign, deleted]));
    expect(await rows([mine, foreign, deleted])).toEqual(before);

    const onlyForeign = await patch(team.owner.token, { ids: [foreign], changes: { billable: true } });
    const onlyUnknown = await patch(team.owner.token, { ids: [unknown], changes: { billable: true } });
    expect(onlyForeign.status).toBe(404);
    expect(JSON.stringify(onlyForeign.body).replace(foreign, "<id>")).toBe(
      JSON.stringify(onlyUnknown.body).replace(unknown, "<id>"),
    );
    expect(await rows([foreign])).toEqual(before.filter((row) => row.id === foreign));
  });

  it("refuses entries on an invoice: 409 ENTRY_LOCKED listing them, sorted, and nothing changes", async () => {
    const invoiceId = await createInvoice(h, team.organizationId);
    const free = await createEntry(h, team.member);
    const lockedIds = [
      await createEntry(h, team.member, { invoiceId }),
      await createEntry(h, team.otherMember, { invoiceId }),
    ];
    const before = await rows([free, ...lockedIds]);

    const res = await patch(team.owner.token, { ids: [free, ...lockedIds], changes: { project_id: otherProject } });

    expect(res.status).toBe(409);
    expect(res.body).toEqual(locked(lockedIds));
    expect(await rows([free, ...lockedIds])).toEqual(before);
  });

  it("decides mixed failures in order: 404 before 409 before an unknown project, writing nothing", async () => {
    const invoiceId = await createInvoice(h, team.organizationId);
    const free = await createEntry(h, team.member);
    const onInvoice = await createEntry(h, team.member, { invoiceId });
    const unknown = crypto.randomUUID();
    const theirProject = await createProject(h, stranger.organizationId);
    const before = await rows([free, onInvoice]);

    const all = await patch(team.owner.token, {
      ids: [free, onInvoice, unknown],
      changes: { project_id: theirProject },
    });
    expect(all.status).toBe(404);
    expect(all.body).toEqual(notFound([unknown]));

    const lockedAndProject = await patch(team.owner.token, {
      ids: [free, onInvoice],
      changes: { project_id: theirProject },
    });
    expect(lockedAndProject.status).toBe(409);
    expect(lockedAndProject.body).toEqual(locked([onInvoice]));

    for (const projectId of [theirProject, crypto.randomUUID()]) {
      const project = await patch(team.owner.token, {
        ids: [free],
        changes: { project_id: projectId, billable: true },
      });
      expect(project.status).toBe(400);
      expect(project.body).toEqual({
        error: {
          code: "VALIDATION_ERROR",
          message: "Invalid changes.project_id",
          details: { "changes.project_id": ["No such project in this organization"] },
        },
      });
    }
    expect(await rows([free, onInvoice])).toEqual(before);
  });

  it("takes 100 ids in one request and refuses 101", async () => {
    const ids = (
      await h.sql(
        `insert into time_entries (organization_id, user_id, start_time, end_time, description)
         select $1, $2, timestamptz '2026-10-01T00:00:00Z' + n * interval '1 hour',
           timestamptz '2026-10-01T00:30:00Z' + n * interval '1 hour', 'Batch ' || n
         from generate_series(1, 100) n
         returning id`,
        [team.organizationId, team.member.id],
      )
    ).map((row) => row.id as string);

    const hundred = await patch(team.member.token, { ids, changes: { project_id: otherProject } });
    expect(hundred.status).toBe(200);
    expect(hundred.body.meta).toEqual({ count: 100 });
    expect(hundred.body.data.map((e: { id: string }) => e.id)).toEqual(ids);
    const [{ changed } = {}] = await h.sql("select count(*)::text as changed from time_entries where project_id = $1", [
      otherProject,
    ]);
    expect(changed).toBe("100");

    const before = await rows(ids);
    const tooMany = await patch(team.member.token, { ids: [...ids, crypto.randomUUID()], changes: { billable: true } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toEqual({
      code: "VALIDATION_ERROR",
      message: "Invalid request body",
      details: { ids: ["Give 1 to 100 ids"] },
    });
    expect(await rows(ids)).toEqual(before);
  });

  it("refuses malformed bodies with 400 naming the field: duplicates, no ids, no changes, unknown fields", async () => {
    const id = await createEntry(h, team.member);
    const before = await rows([id]);
    const cases: [unknown, Record<string, string[]>][] = [
      [{ ids: [id, id], changes: { billable: true } }, { ids: ["Must not repeat an id"] }],
      [{ ids: [id, id.toUpperCase()], changes: { billable: true } }, { ids: ["Must not repeat an id"] }],
      [{ ids: [], changes: { billable: true } }, { ids: ["Give 1 to 100 ids"] }],
      [{ ids: ["not-a-uuid"], changes: { billable: true } }, { "ids.0": ["Must be a UUID"] }],
      [{ ids: [id], changes: {} }, { changes: ["Provide at least one field to change"] }],
      [
        { ids: [id], changes: { start_time: "2026-11-28T09:00:00Z" } },
        { "changes.start_time": ["Unknown field"], changes: ["Provide at least one field to change"] },
      ],
      [{ ids: [id], changes: { user_id: team.owner.id, billable: true } }, { "changes.user_id": ["Unknown field"] }],
      [{ ids: [id], changes: { billable: "yes" } }, { "changes.billable": ["Must be true or false"] }],
      [{ ids: [id], changes: { billable: true }, dry_run: true }, { dry_run: ["Unknown field"] }],
      [{ ids: [id] }, { changes: ["Required"] }],
      [{ ids: [id], changes: null }, { changes: ["Must be an object"] }],
      [{ changes: { billable: true } }, { ids: ["Required"] }],
    ];
    for (const [body, details] of cases) {
      const res = await patch(team.member.token, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error, JSON.stringify(body)).toEqual({
        code: "VALIDATION_ERROR",
        message: "Invalid request body",
        details,
      });
    }
    expect(await rows([id])).toEqual(before);
  });

  it("takes ids in any case and lists them in lower case", async () => {
    const id = await createEntry(h, team.member);
    const unknown = crypto.randomUUID();
    const ok = await patch(team.member.token, { ids: [id.toUpperCase()], changes: { billable: true } });
    expect(ok.status).toBe(200);
    expect(ok.body.data[0].id).toBe(id);
    const missing = await patch(team.member.token, { ids: [unknown.toUpperCase()], changes: { billable: true } });
    expect(missing.body).toEqual(notFound([unknown]));
  });

  it("is 403 for a token whose user is not a member of the organization", async () => {
    const id = await createEntry(h, team.member);
    const outsider = await h.sessionToken(stranger.id, team.organizationId);
    const res = await patch(outsider, { ids: [id], changes: { billable: true } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("FORBIDDEN");
  });

  it("costs one round trip when it succeeds and when it is refused", async () => {
    const id = await createEntry(h, team.member);
    const onInvoice = await createEntry(h, team.member, { invoiceId: await createInvoice(h, team.organizationId) });
    for (const [ids, status] of [
      [[id], 200],
      [[id, crypto.randomUUID()], 404],
      [[id, onInvoice], 409],
    ] as const) {
      const trips = await h.roundTrips(async () => {
        expect((await patch(team.member.token, { ids, changes: { description: "x" } })).status).toBe(status);
      });
      expect(trips).toBe(1);
    }
  });
});

describe("DELETE /v1/time-entries", () => {
  it("deletes every entry: 204, tombstones exactly like the single delete, then gone from GET and the list", async () => {
    const a = await createEntry(h, team.member, { projectId: ratedProject });
    const b = await createEntry(h, team.otherMember, { end: null });
    const keep = await createEntry(h, team.member);
    const before = await rows([a, b]);

    const res = await remove(team.admin.token, { ids: [a, b] });

    expect(res.status).toBe(204);
    expect(res.body).toBe("");
    const after = await h.sql(
      `select id, deleted_at is not null as gone, deleted_at = updated_at as same_instant, project_id, version
       from time_entries where id = any($1::uuid[]) order by id`,
      [`{${[a, b].join(",")}}`],
    );
    expect(after).toEqual(
      sorted([a, b]).map((id) => ({
        id,
        gone: "t",
        same_instant: "t",
        project_id: null,
        version: String(Number(before.find((row) => row.id === id)?.version) + 1),
      })),
    );
    for (const id of [a, b]) {
      expect((await h.call("GET", `/v1/time-entries/${id}`, { token: team.owner.token })).status).toBe(404);
    }
    const list = await h.call("GET", "/v1/time-entries?limit=100", { token: team.owner.token });
    expect(list.body.data.map((entry: { id: string }) => entry.id)).toEqual([keep]);
    // The running timer that was deleted no longer holds its user's slot.
    expect((await h.call("GET", "/v1/time-entries/current", { token: team.otherMember.token })).body).toEqual({
      data: null,
    });

    const again = await remove(team.admin.token, { ids: [a, keep] });
    expect(again.status).toBe(404);
    expect(again.body).toEqual(notFound([a]));
    expect((await h.call("GET", `/v1/time-entries/${keep}`, { token: team.owner.token })).status).toBe(200);
  });

  it("limits a member to their own entries, refuses locked, foreign and unknown ids, and deletes nothing then", async () => {
    const invoiceId = await createInvoice(h, team.organizationId);
    const mine = await createEntry(h, team.member);
    const colleagues = await createEntry(h, team.otherMember);
    const onInvoice = await createEntry(h, team.member, { invoiceId });
    const foreign = await createEntry(h, stranger);
    const unknown = crypto.randomUUID();
    const before = await rows([mine, colleagues, onInvoice, foreign]);

    const member = await remove(team.member.token, { ids: [mine, colleagues] });
    expect(member.status).toBe(404);
    expect(member.body).toEqual(notFound([colleagues]));

    const mixed = await remove(team.owner.token, { ids: [onInvoice, foreign, mine, unknown] });
    expect(mixed.status).toBe(404);
    expect(mixed.body).toEqual(notFound([foreign, unknown]));

    const lockedOnly = await remove(team.owner.token, { ids: [mine, onInvoice] });
    expect(lockedOnly.status).toBe(409);
    expect(lockedOnly.body).toEqual(locked([onInvoice]));

    expect(await rows([mine, colleagues, onInvoice, foreign])).toEqual(before);
  });

  it("refuses duplicates, 101 ids and unknown fields with 400", async () => {
    const id = await createEntry(h, team.member);
    const cases: [unknown, Record<string, string[]>][] = [
      [{ ids: [id, id] }, { ids: ["Must not repeat an id"] }],
      [{ ids: Array.from({ length: 101 }, () => crypto.randomUUID()) }, { ids: ["Give 1 to 100 ids"] }],
      [{ ids: [id], changes: { billable: true } }, { changes: ["Unknown field"] }],
    ];
    for (const [body, details] of cases) {
      const res = await remove(team.member.token, body);
      expect(res.status).toBe(400);
      expect(res.body.error).toEqual({ code: "VALIDATION_ERROR", message: "Invalid request body", details });
    }
    expect((await rows([id]))[0]?.deleted_at).toBeNull();
  });

  it("costs one round trip when it succeeds and when it is refused", async () => {
    const onInvoice = await createEntry(h, team.member, { invoiceId: await createInvoice(h, team.organizationId) });
    for (const [ids, status] of [
      [[await createEntry(h, team.member)], 204],
      [[crypto.randomUUID()], 404],
      [[onInvoice], 409],
    ] as const) {
      const trips = await h.roundTrips(async () => {
        expect((await remove(team.member.token, { ids })).status).toBe(status);
      });
      expect(trips).toBe(1);
    }
  });
});
