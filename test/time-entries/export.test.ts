import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import app from "../../src/app";
import {
  EXPORT_PAGE_BYTES,
  EXPORT_PAGE_SIZE,
  PAGES_AHEAD,
  PAGES_AHEAD_OF_LARGE_PAGES,
} from "../../src/routes/time-entries/export.handlers";
import { csvHeader, csvRow } from "../../src/routes/time-entries/export.schemas";
import { TimeEntry } from "../../src/routes/time-entries/time-entries.schemas";
import {
  createCustomer,
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
import { startSqlProxy } from "../support/races";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

const HEADER =
  "id,start_time,end_time,duration,description,billable,user_id,user_email,user_full_name,project_id,project_name,customer_id,customer_name,hourly_rate,currency,invoice_id,invoice_number";

const exportOf = (query: string, token: string) => h.call("GET", `/v1/time-entries/export?${query}`, { token });

/** RFC 4180 as a spreadsheet reads it: quoted fields may hold commas, doubled quotes and line breaks. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quoted) {
      if (char !== '"') field += char;
      else if (text[i + 1] === '"') field += text[i++];
      else quoted = false;
    } else if (char === '"' && field === "") {
      quoted = true;
    } else if (char === ",") {
      record.push(field);
      field = "";
    } else if (char === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i++;
    } else {
      field += char;
    }
  }
  if (quoted || field !== "" || record.length > 0) throw new Error(`not CRLF-ended CSV: ${JSON.stringify(text)}`);
  return records;
}

/** The CSV as objects keyed by the header row. */
function csvObjects(text: string) {
  const [header, ...rows] = parseCsv(text);
  expect(header?.join(",")).toBe(HEADER);
  return rows.map((row) => {
    expect(row).toHaveLength(header?.length ?? 0);
    return Object.fromEntries((header ?? []).map((name, i) => [name, row[i] as string]));
  });
}

const ndjsonLines = (text: string) => {
  if (text === "") return [];
  expect(text.endsWith("\n")).toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => JSON.parse(line));
};

/** Every entry id the list gives for `query`, walking every page. */
async function listIds(query: string, token: string) {
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const res = await h.call("GET", `/v1/time-entries?limit=100&${query}${cursor ? `&cursor=${cursor}` : ""}`, {
      token,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    seen.push(...res.body.data.map((e: { id: string }) => e.id));
    cursor = res.body.meta.next_cursor;
  } while (cursor);
  return seen;
}

describe("GET /v1/time-entries/export?format=csv", () => {
  let team: Team;
  let projectId: string;
  let customerId: string;
  let invoiceId: string;
  let invoiceNumber: string;
  let entryId: string;
  let timerId: string;

  beforeAll(async () => {
    team = await createTeam(h);
    customerId = await createCustomer(h, team.organizationId, "Acme GmbH");
    projectId = await createProject(h, team.organizationId, {
      name: "Website relaunch",
      customerId,
      hourlyRate: "95.50",
      currency: "EUR",
    });
    invoiceNumber = `INV-${crypto.randomUUID().slice(0, 8)}`;
    invoiceId = await createInvoice(h, team.organizationId, { customerId, number: invoiceNumber });
    entryId = await createEntry(h, team.member, {
      projectId,
      start: "2026-11-20T09:00:00+01:00",
      end: "2026-11-20T10:30:00+01:00",
      description: "Sprint planning",
      billable: true,
      invoiceId,
    });
    timerId = await createEntry(h, team.owner, { start: "2026-11-21T08:00:00Z", end: null, description: "Timer" });
  });

  it("answers a header row and one CRLF-ended row per entry, newest first, in the documented columns", async () => {
    const res = await exportOf("format=csv", team.owner.token);
    expect(res.status).toBe(200);
    const profile = async (userId: string) =>
      (
        await h.sql("select email, full_name from organization_members where organization_id = $1 and user_id = $2", [
          team.organizationId,
          userId,
        ])
      )[0];
    const member = await profile(team.member.id);
    const owner = await profile(team.owner.id);
    expect(res.body).toBe(
      [
        HEADER,
        `${timerId},2026-11-21T08:00:00.000Z,,,Timer,false,${team.owner.id},${owner?.email},${owner?.full_name},,,,,,,,`,
        `${entryId},2026-11-20T08:00:00.000Z,2026-11-20T09:30:00.000Z,5400,Sprint planning,true,${team.member.id},${member?.email},${member?.full_name},${projectId},Website relaunch,${customerId},Acme GmbH,95.50,EUR,${invoiceId},${invoiceNumber}`,
        "",
      ].join("\r\n"),
    );
  });

  it("names the file after today's UTC date, and is never cached", async () => {
    const before = new Date().toISOString().slice(0, 10);
    const res = await exportOf("format=csv", team.owner.token);
    const after = new Date().toISOString().slice(0, 10);
    expect(res.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect([
      `attachment; filename="time-entries-${before}.csv"`,
      `attachment; filename="time-entries-${after}.csv"`,
    ]).toContain(res.headers.get("Content-Disposition"));
    expect(res.headers.get("Cache-Control")).toBe("no-store");

    const ndjson = await exportOf("format=json", team.owner.token);
    expect(ndjson.headers.get("Content-Type")).toBe("application/x-ndjson");
    expect(ndjson.headers.get("Content-Disposition")).toMatch(
      /^attachment; filename="time-entries-\d{4}-\d{2}-\d{2}\.ndjson"$/,
    );
    expect(ndjson.headers.get("Cache-Control")).toBe("no-store");
  });

  it("answers HEAD with the headers and no body, in one SQL request", async () => {
    let res: Awaited<ReturnType<typeof h.call>> | undefined;
    const trips = await h.roundTrips(async () => {
      res = await h.call("HEAD", "/v1/time-entries/export?format=csv", { token: team.owner.token });
    });
    expect(res?.status).toBe(200);
    expect(res?.body).toBe("");
    expect(res?.headers.get("Content-Disposition")).toMatch(/^attachment; filename="time-entries-.*\.csv"$/);
    expect(trips).toBe(1);
  });
});

describe("CSV quoting and formula injection", () => {
  let team: Team;
  /** Descriptions, newest first, as the entries are created below. */
  const descriptions = [
    "plain",
    "a, b",
    'say "hi"',
    "line 1\nline 2",
    "line 1\r\nline 2",
    "semi;colon",
    "tab\tinside",
    "=1+1",
    "+41 79 000 00 00",
    "-2",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://evil.example","click")',
    "a=1+1",
    "",
    "ümlaut ✓ 🕒",
  ];

  beforeAll(async () => {
    team = await createTeam(h);
    for (const [i, description] of descriptions.entries()) {
      const hour = String(23 - i).padStart(2, "0");
      await createEntry(h, team.owner, {
        start: `2026-11-20T${hour}:00:00Z`,
        end: `2026-11-20T${hour}:30:00Z`,
        description,
      });
    }
  });

  it("quotes fields with a comma, a quote, CR or LF (and ; or tab), doubling quotes", async () => {
    const res = await exportOf("format=csv", team.owner.token);
    const cell = (text: string) => res.body.split("\r\n").find((line: string) => line.includes(text));
    expect(cell("plain")).toContain(",plain,false,");
    expect(cell("a, b")).toContain(',"a, b",false,');
    expect(cell("hi")).toContain(',"say ""hi""",false,');
    expect(res.body).toContain(',"line 1\nline 2",false,');
    expect(res.body).toContain(',"line 1\r\nline 2",false,');
    expect(cell("semi")).toContain(',"semi;colon",false,');
    expect(cell("inside")).toContain(',"tab\tinside",false,');
  });

  it("prefixes text starting with =, +, -, @, tab or CR with a single quote, and leaves other text as it is", async () => {
    const rows = csvObjects((await exportOf("format=csv", team.owner.token)).body);
    expect(rows.map((row) => row.description)).toEqual([
      "plain",
      "a, b",
      'say "hi"',
      "line 1\nline 2",
      "line 1\r\nline 2",
      "semi;colon",
      "tab\tinside",
      "'=1+1",
      "'+41 79 000 00 00",
      "'-2",
      "'@SUM(A1:A9)",
      "'\t=1+1",
      "'\r=1+1",
      `'=HYPERLINK("http://evil.example","click")`,
      "a=1+1",
      "",
      "ümlaut ✓ 🕒",
    ]);
  });

  it("neutralises names too: user, project, customer and invoice number", async () => {
    const org = await createOrganization(h, "Formulas");
    const user = await createMember(h, org, "owner", "+Eve");
    await h.sql("update organization_members set email = $1 where user_id = $2", [
      `=cmd|'/c calc'!A0${crypto.randomUUID()}@x.example`,
      user.id,
    ]);
    const customerId = await createCustomer(h, org, "@Customer");
    const projectId = await createProject(h, org, {
      name: "=Project",
      customerId,
      hourlyRate: "0",
      currency: "USD",
    });
    const invoiceId = await createInvoice(h, org, { customerId, number: "-1" });
    await createEntry(h, user, { projectId, invoiceId, description: "ok" });
    const [row] = csvObjects((await exportOf("format=csv", user.token)).body);
    expect(row).toMatchObject({
      user_email: expect.stringMatching(/^'=cmd\|'\/c calc'!A0/),
      user_full_name: "'+Eve",
      project_name: "'=Project",
      customer_name: "'@Customer",
      invoice_number: "'-1",
      hourly_rate: "0.00",
      currency: "USD",
    });
  });

  // Postgres writes the CSV (export.queries.ts); csvRow (export.schemas.ts, the documented examples) is the
  // same rules in TypeScript. Each must write what the other does.
  it("writes every record exactly as csvRow writes the list's entry", async () => {
    const res = await exportOf("format=csv", team.owner.token);
    const listed = (await h.call("GET", "/v1/time-entries?limit=100", { token: team.owner.token })).body.data;
    expect(listed).toHaveLength(descriptions.length);
    expect(res.body).toBe(csvHeader + listed.map(csvRow).join(""));
  });

  it("keeps every other character as it is, in UTF-8 without a byte order mark", async () => {
    const res = await h.call("GET", "/v1/time-entries/export?format=csv", { token: team.owner.token });
    expect(res.body.startsWith("id,")).toBe(true);
    expect(res.body).toContain(",ümlaut ✓ 🕒,");
  });
});

describe("who sees what, and the list's filters", () => {
  let team: Team;
  let projectA: string;
  const entry: Record<string, string> = {};

  beforeAll(async () => {
    team = await createTeam(h);
    projectA = await createProject(h, team.organizationId, { name: "A" });
    entry.ownersLate = await createEntry(h, team.owner, {
      start: "2026-10-31T23:30:00Z",
      end: "2026-11-01T00:30:00Z",
      description: "Owner, late",
    });
    entry.owners = await createEntry(h, team.owner, {
      start: "2026-11-01T09:00:00Z",
      end: "2026-11-01T10:00:00Z",
      projectId: projectA,
      description: "Owner call",
    });
    entry.members = await createEntry(h, team.member, {
      start: "2026-11-15T09:00:00Z",
      end: "2026-11-15T10:00:00Z",
      projectId: projectA,
      description: "Member CLIENT call",
    });
    entry.others = await createEntry(h, team.otherMember, {
      start: "2026-11-30T09:00:00Z",
      end: "2026-11-30T10:00:00Z",
      description: "Other",
    });
    const stranger = await createMember(h, await createOrganization(h, "Elsewhere"), "owner");
    await createEntry(h, stranger, {
      start: "2026-11-16T09:00:00Z",
      end: "2026-11-16T10:00:00Z",
      description: "Stranger's client call",
    });
  });

  const csvIds = async (query: string, token: string) => {
    const res = await exportOf(`format=csv&${query}`, token);
    expect(res.status, res.body).toBe(200);
    return csvObjects(res.body).map((row) => row.id);
  };

  it("gives owner and admin the whole organization and a member only their own entries", async () => {
    const all = [entry.others, entry.members, entry.owners, entry.ownersLate];
    expect(await csvIds("", team.owner.token)).toEqual(all);
    expect(await csvIds("", team.admin.token)).toEqual(all);
    expect(await csvIds("", team.member.token)).toEqual([entry.members]);
    expect(await csvIds("", team.otherMember.token)).toEqual([entry.others]);
  });

  it("exports the entries of people with no full name, interleaved with others', in one page", async () => {
    const org = await createOrganization(h, "Unnamed");
    const owner = await createMember(h, org, "owner");
    const unnamed = await createMember(h, org, "member");
    await h.sql("update organization_members set full_name = null where user_id = $1", [unnamed.id]);
    for (const [who, hour] of [
      [unnamed, 12],
      [unnamed, 11],
      [unnamed, 10],
      [owner, 9],
      [unnamed, 8],
    ] as const) {
      await createEntry(h, who, { start: `2026-11-02T${hour}:00:00Z`, end: `2026-11-02T${hour}:30:00Z` });
    }
    const listed = await listIds("", owner.token);
    expect(listed).toHaveLength(5);
    for (const format of ["csv", "json"] as const) {
      let res: Awaited<ReturnType<typeof h.call>> | undefined;
      const trips = await h.roundTrips(async () => {
        res = await exportOf(`format=${format}`, owner.token);
      });
      const rows = format === "csv" ? csvObjects(res?.body) : ndjsonLines(res?.body);
      expect(
        rows.map((row) => row.id),
        format,
      ).toEqual(listed);
      expect(trips, format).toBe(1);
    }
    const csv = csvObjects((await exportOf("format=csv", owner.token)).body);
    expect(csv.filter((row) => row.user_id === unnamed.id).map((row) => row.user_full_name)).toEqual(["", "", "", ""]);
  });

  it("applies the list's filters exactly as the list does", async () => {
    const queries = [
      "start_date=2026-11-01",
      "end_date=2026-10-31",
      "start_date=2026-11-01&end_date=2026-11-15",
      "q=client",
      "q=%25",
      `project_id=${projectA}`,
      "user_id=me",
      `user_id=${team.member.id}`,
      `project_id=${projectA}&q=call&start_date=2026-11-02`,
    ];
    for (const query of queries) {
      const listed = await listIds(query, team.owner.token);
      expect(await csvIds(query, team.owner.token), query).toEqual(listed);
      const lines = ndjsonLines((await exportOf(`format=json&${query}`, team.owner.token)).body);
      expect(
        lines.map((line) => line.id),
        query,
      ).toEqual(listed);
    }
    expect(await csvIds("q=client", team.owner.token)).toEqual([entry.members]);
    expect(await csvIds("start_date=2026-11-01&end_date=2026-11-15", team.owner.token)).toEqual([
      entry.members,
      entry.owners,
    ]);
  });

  it("forbids a member from exporting someone else's entries, as a JSON error", async () => {
    const res = await exportOf(`format=csv&user_id=${team.otherMember.id}`, team.member.token);
    expect(res.status).toBe(403);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(res.headers.get("Content-Disposition")).toBeNull();
    expect(res.body).toEqual({ error: { code: "FORBIDDEN", message: "Members can only read their own time entries" } });
  });

  it("leaves deleted entries out", async () => {
    const doomed = await createEntry(h, team.member, {
      start: "2026-11-10T09:00:00Z",
      end: "2026-11-10T10:00:00Z",
      description: "Doomed",
    });
    expect(await csvIds("", team.member.token)).toEqual([entry.members, doomed]);
    expect((await h.call("DELETE", `/v1/time-entries/${doomed}`, { token: team.member.token })).status).toBe(204);
    expect(await csvIds("", team.member.token)).toEqual([entry.members]);
    const lines = ndjsonLines((await exportOf("format=json", team.member.token)).body);
    expect(lines.map((line) => line.id)).toEqual([entry.members]);
  });
});

describe("GET /v1/time-entries/export?format=json (NDJSON)", () => {
  let team: Team;

  beforeAll(async () => {
    team = await createTeam(h);
    const customerId = await createCustomer(h, team.organizationId, "Acme");
    const projectId = await createProject(h, team.organizationId, {
      name: "P",
      customerId,
      hourlyRate: "120",
      currency: "EUR",
    });
    const invoiceId = await createInvoice(h, team.organizationId, { customerId });
    await createEntry(h, team.member, { projectId, invoiceId, description: 'line\nbreak and "quotes"' });
    await createEntry(h, team.owner, { start: "2026-11-22T09:00:00Z", end: null, description: "=1+1" });
    await createEntry(h, team.admin, {
      start: "2026-11-19T09:00:00Z",
      end: "2026-11-19T10:00:00Z",
      projectId,
      billable: true,
    });
    const withoutCustomer = await createProject(h, team.organizationId, {
      name: 'No "client" ✓',
      hourlyRate: "99.50",
      currency: "USD",
    });
    await createEntry(h, team.admin, {
      start: "2026-11-18T09:00:00Z",
      end: "2026-11-18T09:00:01Z",
      projectId: withoutCustomer,
      description: "\u0001 tab\t back\\slash / ümlaut 🕒 \u2028 \u007f",
    });
  });

  // Postgres writes each line by concatenation (entryJsonText), the list by row_to_json: the same bytes
  // (list.test.ts holds the list's text to JSON.stringify of what it holds).
  it("writes one entry per LF-ended line, each exactly the JSON text the list gives it", async () => {
    const res = await exportOf("format=json", team.owner.token);
    expect(res.status).toBe(200);
    const lines = ndjsonLines(res.body);
    const listed = (await h.call("GET", "/v1/time-entries?limit=100", { token: team.owner.token })).body.data;
    expect(listed).toHaveLength(4);
    expect(res.body).toBe(listed.map((entry: unknown) => `${JSON.stringify(entry)}\n`).join(""));
    for (const line of lines) expect(TimeEntry.parse(line)).toEqual(line);
    expect(listed[3].project).toMatchObject({ hourly_rate: 99.5, customer: null });
    // JSON needs no neutralising: a description is a string value, never a formula.
    expect(lines[0].description).toBe("=1+1");
  });

  it("answers an empty export with no lines, and a CSV with the header row only", async () => {
    const res = await exportOf("format=json&q=nothing-matches", team.owner.token);
    expect(res.status).toBe(200);
    expect(res.body).toBe("");
    expect((await exportOf("format=csv&q=nothing-matches", team.owner.token)).body).toBe(`${HEADER}\r\n`);
  });
});

describe("errors, before anything is streamed", () => {
  let team: Team;

  beforeAll(async () => {
    team = await createTeam(h);
  });

  const expectJsonError = (res: Awaited<ReturnType<typeof h.call>>, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(res.headers.get("Content-Disposition")).toBeNull();
    expect(res.body.error.code).toBe(code);
  };

  it("needs a format: csv or json", async () => {
    const missing = await h.call("GET", "/v1/time-entries/export", { token: team.owner.token });
    expectJsonError(missing, 400, "VALIDATION_ERROR");
    expect(missing.body.error.details).toEqual({ format: ["Required"] });
    const xml = await exportOf("format=xml", team.owner.token);
    expectJsonError(xml, 400, "VALIDATION_ERROR");
    expect(xml.body.error.details).toEqual({ format: ["Must be csv or json"] });
  });

  it("refuses the list's paging parameters and unknown ones, and checks the filters like the list", async () => {
    for (const [query, field] of [
      ["cursor=abc", "cursor"],
      ["limit=10", "limit"],
      ["surprise=1", "surprise"],
      ["project_id=nope", "project_id"],
      ["start_date=2026-11-30&end_date=2026-11-01", "end_date"],
      ["start_date=2025-01-01&end_date=2026-12-31", "end_date"],
      [`q=${"x".repeat(201)}`, "q"],
    ] as const) {
      const res = await exportOf(`format=csv&${query}`, team.owner.token);
      expectJsonError(res, 400, "VALIDATION_ERROR");
      expect(Object.keys(res.body.error.details ?? {}), query).toContain(field);
    }
  });

  it("answers 401 without a token, 403 to a non-member and to an OAuth token without entries:read", async () => {
    expectJsonError(await h.call("GET", "/v1/time-entries/export?format=csv"), 401, "UNAUTHORIZED");
    const outsider = await h.sessionToken(team.owner.id, await createOrganization(h, "Not mine"));
    expectJsonError(await exportOf("format=csv", outsider), 403, "FORBIDDEN");
    const writeOnly = await h.issuer.sign({
      userId: team.owner.id,
      organizationId: team.organizationId,
      scope: "entries:write invoices:read",
    });
    expectJsonError(await exportOf("format=csv", writeOnly), 403, "INSUFFICIENT_SCOPE");
    const reader = await h.issuer.sign({
      userId: team.owner.id,
      organizationId: team.organizationId,
      scope: "entries:read",
    });
    expect((await exportOf("format=csv", reader)).status).toBe(200);
  });
});

/** An export as the chunks it was sent in (each page is enqueued whole, so in-process they are the pages), and its SQL requests. */
async function pagesOf(format: "csv" | "json", token: string) {
  const pages: string[] = [];
  const trips = await h.roundTrips(async () => {
    const res = await app.request(
      `/v1/time-entries/export?format=${format}`,
      { headers: { Authorization: `Bearer ${token}` } },
      h.env,
    );
    const decoder = new TextDecoder();
    for await (const chunk of res.body as ReadableStream<Uint8Array>) pages.push(decoder.decode(chunk));
  });
  return { pages, trips };
}

/**
 * The owner of a new organization with `count` entries, one an hour from 2026-01-01, whose descriptions are their
 * number padded to 3,000 characters with `x` (newest first in an export: `count`, `count - 1`, …).
 */
async function ownerOfLongEntries(name: string, count: number) {
  const org = await createOrganization(h, name);
  const owner = await createMember(h, org, "owner");
  await h.sql(
    `insert into time_entries (organization_id, user_id, start_time, end_time, description)
     select $1, $2, timestamptz '2026-01-01T00:00:00Z' + n * interval '1 hour',
       timestamptz '2026-01-01T00:30:00Z' + n * interval '1 hour', lpad(n::text, 3000, 'x')
     from generate_series(1, $3::int) n`,
    [org, owner.id, String(count)],
  );
  return owner;
}

/**
 * A CSV export whose client reads the first page, waits, then stops: that page, and the SQL requests the export made
 * meanwhile (the first page's and those of the pages read ahead of the client).
 */
async function firstPageThenStop(token: string, readAhead: number) {
  const before = h.endpoint.requests;
  const res = await app.request(
    "/v1/time-entries/export?format=csv",
    { headers: { Authorization: `Bearer ${token}` } },
    h.env,
  );
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  // The pages read ahead are asked for at once: wait until they have reached the endpoint, however busy the machine,
  // then give any further request time to arrive. Only the pages read ahead may.
  for (const started = Date.now(); h.endpoint.requests - before < 1 + readAhead && Date.now() - started < 10_000; ) {
    await pause(20);
  }
  await pause(300);
  await reader.cancel();
  await pause(300);
  return { first, trips: h.endpoint.requests - before };
}

/**
 * Reads an export whose pages start failing, and returns the error the stream ends with: the PAGES_AHEAD pages
 * asked for before the failure may still come (a request already on its way, or a statement running beside the
 * change), the first page asked after it must fail, and the stream with it. A quiet end, or more pages, fail.
 */
async function readsUntilItFails(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<unknown> {
  for (let page = 0; page <= PAGES_AHEAD; page++) {
    const read = await reader.read().catch((error: unknown) => ({ error }));
    if ("error" in read) return read.error;
    expect(read.done, "the export ended quietly instead of failing").toBe(false);
  }
  throw new Error(`the export sent ${PAGES_AHEAD + 1} pages after it started failing`);
}

/** The descriptions an export's pages hold, in order, once each page is checked to stay within EXPORT_PAGE_BYTES. */
function descriptionsOf(format: "csv" | "json", pages: string[]) {
  for (const page of pages) expect(new TextEncoder().encode(page).length).toBeLessThanOrEqual(EXPORT_PAGE_BYTES);
  const text = pages.join("");
  return format === "csv"
    ? csvObjects(text).map((row) => row.description)
    : ndjsonLines(text).map((line) => line.description);
}

describe("exports of many pages", () => {
  let owner: Member;
  let member: Member;
  /** Every entry id of the organization in export order, from SQL. */
  let expected: string[];
  // Two runs of pages read at once and a last page of one entry: the first page, the PAGES_AHEAD asked for at
  // once after it (each ending where the next starts, the last finding where those after it end), the
  // PAGES_AHEAD after that one, and the last.
  const total = (2 * PAGES_AHEAD + 1) * EXPORT_PAGE_SIZE + 1;
  const pageCount = 2 * PAGES_AHEAD + 2;

  beforeAll(async () => {
    const org = await createOrganization(h, "Busy");
    owner = await createMember(h, org, "owner");
    member = await createMember(h, org, "member");
    // Three entries per start_time, so that pages must break ties by id; half the member's, half the owner's.
    await h.sql(
      `insert into time_entries (organization_id, user_id, start_time, end_time, description)
       select $1, case when n % 2 = 0 then $2::uuid else $3::uuid end,
         timestamptz '2026-06-01T00:00:00Z' + (n / 3) * interval '1 hour',
         timestamptz '2026-06-01T00:30:00Z' + (n / 3) * interval '1 hour',
         'Entry ' || n
       from generate_series(1, $4::int) n`,
      [org, owner.id, member.id, String(total)],
    );
    expected = (
      await h.sql("select id from time_entries where organization_id = $1 order by start_time desc, id desc", [org])
    ).map((row) => row.id as string);
  });

  it("streams every entry in order, with no gaps and no repeats, one SQL request per page", async () => {
    expect(expected).toHaveLength(total);
    let csv: Awaited<ReturnType<typeof h.call>> | undefined;
    const trips = await h.roundTrips(async () => {
      csv = await exportOf("format=csv", owner.token);
    });
    expect(csv?.status).toBe(200);
    const ids = csvObjects(csv?.body).map((row) => row.id);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expect(ids).toEqual(expected);
    expect(trips).toBe(pageCount);

    let ndjson: Awaited<ReturnType<typeof h.call>> | undefined;
    const ndjsonTrips = await h.roundTrips(async () => {
      ndjson = await exportOf("format=json", owner.token);
    });
    expect(ndjsonLines(ndjson?.body).map((line) => line.id)).toEqual(expected);
    expect(ndjsonTrips).toBe(pageCount);
  });

  it("pages a member's own entries the same way", async () => {
    const mine = (
      await h.sql("select id from time_entries where user_id = $1 order by start_time desc, id desc", [member.id])
    ).map((row) => row.id);
    expect(mine.length).toBeGreaterThan(EXPORT_PAGE_SIZE);
    const res = await exportOf("format=csv", member.token);
    expect(csvObjects(res.body).map((row) => row.id)).toEqual(mine);
  });

  it("keeps a date range on every page, in the organization's time zone or the one asked for", async () => {
    // The pages after the first read the range between the instants the first resolved (dateRangeBounds).
    const organization = owner.organizationId;
    const [before] = await h.sql("select timezone from organizations where id = $1", [organization]);
    await h.sql("update organizations set timezone = 'Asia/Kolkata' where id = $1", [organization]);
    try {
      const range = "start_date=2026-06-10&end_date=2026-08-10";
      for (const [query, zone] of [
        [range, "Asia/Kolkata"],
        [`${range}&timezone=America/New_York`, "America/New_York"],
      ] as const) {
        const inRange = (
          await h.sql(
            `select id from time_entries where organization_id = $1
               and start_time >= '2026-06-10'::timestamp at time zone $2 and start_time < '2026-08-11'::timestamp at time zone $2
             order by start_time desc, id desc`,
            [organization, zone],
          )
        ).map((row) => row.id as string);
        // Three pages, and entries on both sides of each bound.
        expect(inRange.length, zone).toBeGreaterThan(2 * EXPORT_PAGE_SIZE);
        expect(inRange.length, zone).toBeLessThan(expected.length - 500);
        for (const format of ["csv", "json"] as const) {
          let res: Awaited<ReturnType<typeof h.call>> | undefined;
          const trips = await h.roundTrips(async () => {
            res = await exportOf(`format=${format}&${query}`, owner.token);
          });
          const ids =
            format === "csv"
              ? csvObjects(res?.body).map((row) => row.id)
              : ndjsonLines(res?.body).map((line) => line.id);
          expect(ids, `${zone} ${format}`).toEqual(inRange);
          expect(trips, `${zone} ${format}`).toBe(3);
        }
      }
    } finally {
      await h.sql("update organizations set timezone = $2 where id = $1", [organization, before?.timezone]);
    }
  });

  it("ends a page early rather than pass EXPORT_PAGE_BYTES of text, whatever the descriptions hold", async () => {
    // About 3 MB of CSV, more than one page may carry, in fewer entries than a page takes.
    const writer = await ownerOfLongEntries("Verbose", 1000);
    for (const format of ["csv", "json"] as const) {
      const { pages, trips } = await pagesOf(format, writer.token);
      expect(pages.length, format).toBeGreaterThan(1);
      expect(trips, format).toBe(pages.length);
      expect(descriptionsOf(format, pages)).toEqual(
        Array.from({ length: 1000 }, (_, i) => `${1000 - i}`.padStart(3000, "x")),
      );
    }
  });

  it("goes on to where the page read beside it begins when a page read ahead is cut short by EXPORT_PAGE_BYTES", async () => {
    const org = await createOrganization(h, "Uneven");
    const writer = await createMember(h, org, "owner");
    // Newest first: a page of short entries, 1,000 long ones (3 MB of text) and a page and a half of short ones.
    const long = (n: number) => n > 3000 && n <= 4000;
    await h.sql(
      `insert into time_entries (organization_id, user_id, start_time, end_time, description)
       select $1, $2, timestamptz '2026-01-01T00:00:00Z' + n * interval '1 hour',
         timestamptz '2026-01-01T00:30:00Z' + n * interval '1 hour',
         case when n > 3000 and n <= 4000 then lpad(n::text, 3000, 'x') else 'Entry ' || n end
       from generate_series(1, 6000) n`,
      [org, writer.id],
    );
    const descriptions = Array.from({ length: 6000 }, (_, i) => 6000 - i).map((n) =>
      long(n) ? `${n}`.padStart(3000, "x") : `Entry ${n}`,
    );
    for (const format of ["csv", "json"] as const) {
      const { pages, trips } = await pagesOf(format, writer.token);
      expect(trips, format).toBe(pages.length);
      expect(pages.length, format).toBeGreaterThan(4);
      expect(descriptionsOf(format, pages), format).toEqual(descriptions);
    }
  });

  it("reads at most PAGES_AHEAD pages ahead of the client: a client that stops stops the queries", async () => {
    const { first, trips } = await firstPageThenStop(owner.token, PAGES_AHEAD);
    expect(trips).toBe(1 + PAGES_AHEAD);
    expect(parseCsv(first)).toHaveLength(1 + EXPORT_PAGE_SIZE);
  });

  it("reads at most PAGES_AHEAD_OF_LARGE_PAGES pages ahead once a page comes back cut short by EXPORT_PAGE_BYTES", async () => {
    // Every page is cut short by bytes, and the first finds where three full pages after it end, so that without
    // the limit PAGES_AHEAD pages would be asked for at once.
    const writer = await ownerOfLongEntries("Long-winded", 7000);
    const { first, trips } = await firstPageThenStop(writer.token, PAGES_AHEAD_OF_LARGE_PAGES);
    expect(PAGES_AHEAD_OF_LARGE_PAGES).toBeLessThan(PAGES_AHEAD);
    expect(trips).toBe(1 + PAGES_AHEAD_OF_LARGE_PAGES);
    const entries = parseCsv(first).length - 1;
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThan(EXPORT_PAGE_SIZE);
  });

  it("ends with an error, not a short file, when the database goes away mid-stream", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const proxy = await startSqlProxy(h.endpoint.url);
    try {
      const res = await app.request(
        "/v1/time-entries/export?format=json",
        { headers: { Authorization: `Bearer ${owner.token}` } },
        { ...h.env, SQL_HTTP_ENDPOINT: proxy.url },
      );
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      // A page of NDJSON ends before EXPORT_PAGE_SIZE entries when they may pass EXPORT_PAGE_BYTES.
      expect(ndjsonLines(first).length).toBeGreaterThan(0);
      expect(ndjsonLines(first).length).toBeLessThanOrEqual(EXPORT_PAGE_SIZE);
      await proxy.set("refusing");
      const failure = await readsUntilItFails(reader);
      expect(String((failure as Error).cause)).toContain("Error connecting to database");
      expect(log).toHaveBeenCalledWith(expect.stringContaining("export failed mid-stream"));
    } finally {
      log.mockRestore();
      await proxy.close();
    }
  });

  it("ends with an error when the caller stops being a member mid-stream", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const leaving = await createMember(h, owner.organizationId, "admin");
    try {
      const res = await app.request(
        "/v1/time-entries/export?format=csv",
        { headers: { Authorization: `Bearer ${leaving.token}` } },
        h.env,
      );
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      expect(parseCsv(new TextDecoder().decode((await reader.read()).value))).toHaveLength(1 + EXPORT_PAGE_SIZE);
      await h.sql("delete from organization_members where user_id = $1", [leaving.id]);
      expect(String(await readsUntilItFails(reader))).toContain("You are not a member of this organization");
    } finally {
      log.mockRestore();
    }
  });
});

describe("an export whose caller's role changes", () => {
  it("ends with an error when the caller turns from owner or admin into member, or back, mid-stream", async () => {
    const org = await createOrganization(h, "Reorganized");
    const owner = await createMember(h, org, "owner");
    const changing = await createMember(h, org, "admin");
    // The caller's own entries alone fill more pages than are read ahead of the first.
    const own = (PAGES_AHEAD + 2) * EXPORT_PAGE_SIZE;
    await h.sql(
      `insert into time_entries (organization_id, user_id, start_time, end_time, description)
       select $1, case when n % 2 = 0 then $2::uuid else $3::uuid end,
         timestamptz '2026-06-01T00:00:00Z' + n * interval '1 hour',
         timestamptz '2026-06-01T00:30:00Z' + n * interval '1 hour', 'Entry ' || n
       from generate_series(1, $4::int) n`,
      [org, owner.id, changing.id, String(2 * own)],
    );
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      for (const to of ["member", "admin"]) {
        const res = await app.request(
          "/v1/time-entries/export?format=csv",
          { headers: { Authorization: `Bearer ${changing.token}` } },
          h.env,
        );
        const reader = (res.body as ReadableStream<Uint8Array>).getReader();
        expect(parseCsv(new TextDecoder().decode((await reader.read()).value))).toHaveLength(1 + EXPORT_PAGE_SIZE);
        await h.sql("update organization_members set role = $2 where user_id = $1", [changing.id, to]);
        expect(String(await readsUntilItFails(reader)), `to ${to}`).toContain(
          "Your role in the organization changed during the export",
        );
      }
      // Between owner and admin nothing the export reads changes.
      const res = await app.request(
        "/v1/time-entries/export?format=csv",
        { headers: { Authorization: `Bearer ${changing.token}` } },
        h.env,
      );
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      await h.sql("update organization_members set role = 'owner' where user_id = $1", [changing.id]);
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
        text += new TextDecoder().decode(chunk.value);
      expect(parseCsv(text)).toHaveLength(1 + 2 * own);
      // Nor with user_id=me, whose rows are the caller's own whatever the role.
      const mine = await app.request(
        "/v1/time-entries/export?format=csv&user_id=me",
        { headers: { Authorization: `Bearer ${changing.token}` } },
        h.env,
      );
      const ownReader = (mine.body as ReadableStream<Uint8Array>).getReader();
      let ownText = new TextDecoder().decode((await ownReader.read()).value);
      await h.sql("update organization_members set role = 'member' where user_id = $1", [changing.id]);
      for (let chunk = await ownReader.read(); !chunk.done; chunk = await ownReader.read())
        ownText += new TextDecoder().decode(chunk.value);
      expect(parseCsv(ownText)).toHaveLength(1 + own);
    } finally {
      log.mockRestore();
    }
  });
});
