import { afterAll, beforeAll, describe, expect, it } from "vitest";
import app from "../../src/app";
import { TimeEntryPage } from "../../src/routes/time-entries/time-entries.schemas";
import {
  createCustomer,
  createEntry,
  createInvoice,
  createMember,
  createOrganization,
  createProject,
  createTeam,
  type Team,
} from "../support/factories";
import { type Harness, startHarness } from "../support/harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((e) => e.id);

/** Walks every page and returns the ids in order. */
async function allPages(token: string, query: string) {
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await h.call("GET", `/v1/time-entries?${query}${cursor ? `&cursor=${cursor}` : ""}`, { token });
    expect(res.status).toBe(200);
    expect(res.body.meta.count).toBe(res.body.data.length);
    seen.push(...ids(res));
    cursor = res.body.meta.next_cursor;
    pages++;
  } while (cursor && pages < 50);
  return { seen, pages };
}

describe("GET /v1/time-entries ordering and pagination", () => {
  let team: Team;
  const expected: string[] = [];

  beforeAll(async () => {
    team = await createTeam(h);
    // 25 entries, several sharing a start_time so that ties must break by id.
    const created: { id: string; start: string }[] = [];
    for (let i = 0; i < 25; i++) {
      const start = `2026-11-${String(1 + Math.floor(i / 3)).padStart(2, "0")}T09:00:00Z`;
      created.push({ id: await createEntry(h, team.owner, { start, end: start.replace("09:00", "10:00") }), start });
    }
    created.sort((a, b) => (a.start === b.start ? (a.id < b.id ? 1 : -1) : a.start < b.start ? 1 : -1));
    expected.push(...created.map((c) => c.id));
  });

  it("lists newest start_time first, ties by id, in the documented shape", async () => {
    const res = await h.call("GET", "/v1/time-entries?limit=100", { token: team.owner.token });
    expect(res.status).toBe(200);
    expect(TimeEntryPage.parse(res.body)).toEqual(res.body);
    expect(ids(res)).toEqual(expected);
    expect(res.body.meta).toEqual({ count: 25, next_cursor: null });
  });

  // The entries are spliced into the body as Postgres wrote them; the text must be what JSON.stringify writes.
  it("answers compact JSON, exactly as JSON.stringify would write the same page", async () => {
    const own = await createTeam(h);
    const customerId = await createCustomer(h, own.organizationId, 'Acme "Ltd" \\ \u2028 😀');
    const projectId = await createProject(h, own.organizationId, {
      name: 'Roadmap </script> "Q4"\n',
      customerId,
      hourlyRate: "120.50",
      currency: "EUR",
    });
    const invoiceId = await createInvoice(h, own.organizationId, { customerId, number: 'INV "7" \\ \u0007' });
    const other = await createMember(h, own.organizationId, "member", 'Zoë "Q" \\ Tab\t');
    await createEntry(h, other, { projectId, description: 'line\nbreak, "quotes", \u0001 control, ümlaut ✓' });
    await createEntry(h, other, { invoiceId, start: "2026-11-19T09:00:00Z" });
    await createEntry(h, own.owner, {});
    for (const query of ["limit=100", "limit=1", "limit=100&updated_since=2020-01-01T00:00:00Z"]) {
      const res = await app.request(
        `/v1/time-entries?${query}`,
        { headers: { Authorization: `Bearer ${own.owner.token}` } },
        h.env,
      );
      const text = await res.text();
      expect(res.headers.get("Content-Type")).toBe("application/json");
      expect(text).toBe(JSON.stringify(JSON.parse(text)));
      expect(TimeEntryPage.parse(JSON.parse(text))).toEqual(JSON.parse(text));
    }
    const listed = (await h.call("GET", `/v1/time-entries?project_id=${projectId}`, { token: own.owner.token })).body;
    expect(listed.data[0].project).toEqual({
      id: projectId,
      name: 'Roadmap </script> "Q4"\n',
      customer_id: customerId,
      hourly_rate: 120.5,
      currency: "EUR",
      customer: { id: customerId, name: 'Acme "Ltd" \\ \u2028 😀' },
    });
    expect(listed.data[0].user.full_name).toBe('Zoë "Q" \\ Tab\t');
    expect(listed.data[0].description).toBe('line\nbreak, "quotes", \u0001 control, ümlaut ✓');
    const invoiced = (await h.call("GET", "/v1/time-entries?limit=100", { token: own.owner.token })).body.data.find(
      (entry: { invoice_id: string | null }) => entry.invoice_id === invoiceId,
    );
    expect(invoiced.invoice).toEqual({
      id: invoiceId,
      number: 'INV "7" \\ \u0007',
      status: "draft",
      date: "2026-11-30",
      due_date: null,
    });
    // A single entry is read back through the same JSON text.
    const got = await h.call("GET", `/v1/time-entries/${invoiced.id}`, { token: own.owner.token });
    expect(got.body.data).toEqual(invoiced);
  });

  it("defaults to 20 items a page", async () => {
    const res = await h.call("GET", "/v1/time-entries", { token: team.owner.token });
    expect(res.body.meta.count).toBe(20);
    expect(ids(res)).toEqual(expected.slice(0, 20));
    expect(res.body.meta.next_cursor).toEqual(expect.any(String));
  });

  it("walks every page with no gaps and no repeats", async () => {
    for (const limit of [1, 7, 10, 24, 25]) {
      const { seen, pages } = await allPages(team.owner.token, `limit=${limit}`);
      expect(seen).toEqual(expected);
      expect(pages).toBe(Math.ceil(25 / limit));
    }
  });

  it("keeps filters across pages", async () => {
    const { seen } = await allPages(team.owner.token, "limit=2&start_date=2026-11-02&end_date=2026-11-03");
    expect(seen).toEqual(expected.filter((_, i) => i >= 16 && i < 22));
  });

  it.each(["0", "101", "abc", "1.5", "-1", ""])("rejects limit=%s", async (limit) => {
    const res = await h.call("GET", `/v1/time-entries?limit=${limit}`, { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: {
        code: "VALIDATION_ERROR",
        message: "Invalid request query",
        details: { limit: ["Must be a whole number from 1 to 100"] },
      },
    });
  });

  it.each([
    ["garbage", "!!!"],
    ["base64 of something else", Buffer.from("hello").toString("base64url")],
    ["a JSON cursor of the wrong shape", Buffer.from(JSON.stringify(["x", "y"])).toString("base64url")],
    ["a cursor with a bad id", Buffer.from(JSON.stringify(["2026-11-01T09:00:00.000Z", "nope"])).toString("base64url")],
  ])("rejects %s as cursor with INVALID_CURSOR", async (_, cursor) => {
    const res = await h.call("GET", `/v1/time-entries?cursor=${encodeURIComponent(cursor)}`, {
      token: team.owner.token,
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: { code: "INVALID_CURSOR", message: "The cursor is malformed or was not issued by this API" },
    });
  });

  it("rejects an unknown query parameter", async () => {
    const res = await h.call("GET", "/v1/time-entries?sort=asc", { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: "VALIDATION_ERROR",
      message: "Invalid request query",
      details: { sort: ["Unknown field"] },
    });
  });

  it("rejects percent-escapes that are no UTF-8 and a parameter without a name, instead of reading them as text", async () => {
    const notUtf8 = ["Must be percent-encoded UTF-8 (RFC 3986; a % of the text itself is %25)"];
    for (const [query, details] of [
      ["q=caf%E9", { q: notUtf8 }], // Latin-1's é
      ["q=50%", { q: notUtf8 }],
      ["q=%ED%A0%80", { q: notUtf8 }], // a lone surrogate, encoded
      ["limit=1&q%FF=x", { "q%FF": notUtf8 }],
      ["=1", { query: ["Every parameter needs a name: found one starting with ="] }],
      ["=caf%E9", { query: ["Every parameter needs a name: found one starting with ="] }],
    ] as const) {
      const res = await h.call("GET", `/v1/time-entries?${query}`, { token: team.owner.token });
      expect([query, res.status, res.body]).toEqual([
        query,
        400,
        { error: { code: "VALIDATION_ERROR", message: "Invalid request query", details } },
      ]);
    }
    // A fragment is no part of the query (a Request's URL keeps one a client sent; Hono drops it).
    for (const query of ["q=caf%C3%A9", "q=50%25", "q=a+b", "&&limit=1&", "limit", "limit=1#%", "q=caf%C3%A9#=x"]) {
      const res = await h.call("GET", `/v1/time-entries?${query}`, { token: team.owner.token });
      expect([query, res.status]).toEqual([query, query === "limit" ? 400 : 200]);
    }
    const projects = await h.call("GET", "/v1/projects?q=%E9", { token: team.owner.token });
    expect(projects.body.error.details).toEqual({ q: notUtf8 });
  });

  it("rejects a repeated query parameter", async () => {
    const res = await h.call("GET", "/v1/time-entries?limit=1&limit=2", { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({
      code: "VALIDATION_ERROR",
      message: "Invalid request query",
      details: { limit: ["Must be given once"] },
    });
    const twice = await h.call("GET", "/v1/time-entries?user_id=me&user_id=me&limit=500", { token: team.owner.token });
    expect(twice.body.error.details).toEqual({
      user_id: ["Must be given once"],
      limit: ["Must be a whole number from 1 to 100"],
    });
    // A parameter no list takes is unknown, however often it is given.
    const unknown = await h.call("GET", "/v1/time-entries?foo=1&foo=2", { token: team.owner.token });
    expect(unknown.body.error.details).toEqual({ foo: ["Unknown field"] });
  });
});

describe("GET /v1/time-entries filters", () => {
  let team: Team;
  let projectA: string;
  let projectB: string;
  const entry: Record<string, string> = {};

  beforeAll(async () => {
    team = await createTeam(h);
    projectA = await createProject(h, team.organizationId, { name: "A" });
    projectB = await createProject(h, team.organizationId, { name: "B" });
    entry.lateOnOct31 = await createEntry(h, team.owner, {
      start: "2026-10-31T23:59:59.999Z",
      end: "2026-11-01T01:00:00Z",
      description: "Late night deploy",
      projectId: projectA,
    });
    entry.nov1 = await createEntry(h, team.owner, {
      start: "2026-11-01T00:00:00Z",
      end: "2026-11-01T02:00:00Z",
      description: "100% done_ish",
      projectId: projectB,
    });
    entry.nov15 = await createEntry(h, team.member, {
      start: "2026-11-15T12:00:00+05:00",
      end: "2026-11-15T13:00:00+05:00",
      description: "CLIENT call",
      projectId: projectA,
    });
    entry.nov30 = await createEntry(h, team.otherMember, {
      start: "2026-11-30T23:00:00Z",
      end: "2026-11-30T23:30:00Z",
      description: "Weekly 100 percent review",
    });
    entry.dec1 = await createEntry(h, team.admin, {
      start: "2026-12-01T00:00:00Z",
      end: "2026-12-01T01:00:00Z",
      description: "back\\slash and under_score",
    });
  });

  const list = async (query: string, token = team.owner.token) => {
    const res = await h.call("GET", `/v1/time-entries?${query}`, { token });
    expect(res.status).toBe(200);
    return ids(res);
  };

  it("filters by UTC start date, both ends inclusive", async () => {
    expect(await list("start_date=2026-11-01&end_date=2026-11-30")).toEqual([entry.nov30, entry.nov15, entry.nov1]);
    expect(await list("start_date=2026-11-01")).toEqual([entry.dec1, entry.nov30, entry.nov15, entry.nov1]);
    expect(await list("end_date=2026-10-31")).toEqual([entry.lateOnOct31]);
    expect(await list("start_date=2026-11-15&end_date=2026-11-15")).toEqual([entry.nov15]);
  });

  it("rejects an end_date before start_date and dates that are not calendar dates", async () => {
    const reversed = await h.call("GET", "/v1/time-entries?start_date=2026-11-02&end_date=2026-11-01", {
      token: team.owner.token,
    });
    expect(reversed.status).toBe(400);
    expect(reversed.body.error.details).toEqual({ end_date: ["Must not be before start_date"] });
    for (const bad of ["2026-02-30", "2026-11-1", "yesterday", "2026-11-01T00:00:00Z"]) {
      const res = await h.call("GET", `/v1/time-entries?start_date=${bad}`, { token: team.owner.token });
      expect(res.status).toBe(400);
      expect(res.body.error.details).toEqual({ start_date: ["Must be a calendar date, YYYY-MM-DD"] });
    }
  });

  it("accepts a range of 366 days and rejects a longer one, and a user_id over 36 characters", async () => {
    const leapYear = await h.call("GET", "/v1/time-entries?start_date=2028-01-01&end_date=2028-12-31", {
      token: team.owner.token,
    });
    expect(leapYear.status).toBe(200);
    const tooLong = await h.call("GET", "/v1/time-entries?start_date=2026-01-01&end_date=2027-01-02", {
      token: team.owner.token,
    });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.details).toEqual({
      end_date: ["The range from start_date to end_date must cover at most 366 days, both included"],
    });
    const user = await h.call("GET", `/v1/time-entries?user_id=${"a".repeat(37)}`, { token: team.owner.token });
    expect(user.status).toBe(400);
    expect(user.body.error.details).toEqual({ user_id: ['Must be "me" or a user id (UUID)'] });
  });

  it("searches descriptions case-insensitively, with % and _ matching themselves", async () => {
    expect(await list("q=client")).toEqual([entry.nov15]);
    expect(await list("q=LATE%20NIGHT")).toEqual([entry.lateOnOct31]);
    expect(await list(`q=${encodeURIComponent("100%")}`)).toEqual([entry.nov1]);
    expect(await list("q=_")).toEqual([entry.dec1, entry.nov1]);
    expect(await list(`q=${encodeURIComponent("\\")}`)).toEqual([entry.dec1]);
    expect(await list("q=nothing-matches-this")).toEqual([]);
  });

  it("rejects a search over 200 characters", async () => {
    const res = await h.call("GET", `/v1/time-entries?q=${"x".repeat(201)}`, { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body.error.details)).toEqual(["q"]);
  });

  it("filters by project", async () => {
    expect(await list(`project_id=${projectA}`)).toEqual([entry.nov15, entry.lateOnOct31]);
    expect(await list(`project_id=${projectB}`)).toEqual([entry.nov1]);
    expect(await list(`project_id=${crypto.randomUUID()}`)).toEqual([]);
    const res = await h.call("GET", "/v1/time-entries?project_id=nope", { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({ project_id: ["Must be a UUID"] });
  });

  it("combines filters", async () => {
    expect(await list(`project_id=${projectA}&q=call&start_date=2026-11-15`)).toEqual([entry.nov15]);
  });

  it("gives owner and admin the whole organization, and a member only their own entries", async () => {
    const all = [entry.dec1, entry.nov30, entry.nov15, entry.nov1, entry.lateOnOct31];
    expect(await list("")).toEqual(all);
    expect(await list("", team.admin.token)).toEqual(all);
    expect(await list("", team.member.token)).toEqual([entry.nov15]);
    expect(await list("", team.otherMember.token)).toEqual([entry.nov30]);
  });

  it("narrows to one user with user_id=me or a user id", async () => {
    expect(await list("user_id=me")).toEqual([entry.nov1, entry.lateOnOct31]);
    expect(await list("user_id=me", team.member.token)).toEqual([entry.nov15]);
    expect(await list(`user_id=${team.member.id}`)).toEqual([entry.nov15]);
    expect(await list(`user_id=${team.member.id}`, team.admin.token)).toEqual([entry.nov15]);
    expect(await list(`user_id=${team.member.id}`, team.member.token)).toEqual([entry.nov15]);
    expect(await list(`user_id=${team.member.id.toUpperCase()}`, team.member.token)).toEqual([entry.nov15]);
  });

  it("forbids a member from listing someone else's entries", async () => {
    const res = await h.call("GET", `/v1/time-entries?user_id=${team.otherMember.id}`, { token: team.member.token });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      error: { code: "FORBIDDEN", message: "Members can only read their own time entries" },
    });
  });

  it("rejects a user_id that is neither me nor a UUID", async () => {
    const res = await h.call("GET", "/v1/time-entries?user_id=you", { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({ user_id: ['Must be "me" or a user id (UUID)'] });
  });

  it("never shows another organization's entries", async () => {
    const otherOrg = await createOrganization(h, "Other");
    const stranger = await createMember(h, otherOrg, "owner");
    await createEntry(h, stranger, {
      start: "2026-11-15T09:00:00Z",
      end: "2026-11-15T10:00:00Z",
      description: "CLIENT call",
    });
    expect(await list("q=client")).toEqual([entry.nov15]);
    expect(await list(`user_id=${stranger.id}`)).toEqual([]);
    expect(await list("", stranger.token)).toHaveLength(1);
  });
});
