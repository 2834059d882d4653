import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { demo, seedDemo } from "../dev/seed";
import { type Harness, startHarness } from "./support/harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

describe("npm start's demo data", () => {
  // `npm start` in the small hours (UTC): the demo's running timer must still have started already.
  const seededAt = new Date(`${new Date().toISOString().slice(0, 10)}T00:30:00.000Z`);

  it("seeds once and shows a draft invoice with attached entries and its amount", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(seededAt);
    try {
      expect(await seedDemo(h.env.DATABASE_URL as string, h.env.SQL_HTTP_ENDPOINT)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    expect(await seedDemo(h.env.DATABASE_URL as string, h.env.SQL_HTTP_ENDPOINT)).toBe(false);
    const [owner] = demo.users;
    const token = await h.sessionToken(owner.id, demo.organizationId);

    const res = await h.call("GET", `/v1/invoices/${demo.invoiceId}`, { token });

    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      number: "INV-DEMO-001",
      status: "draft",
      customer: { name: "Acme GmbH" },
      summary: {
        entry_count: 2,
        total_seconds: 23400,
        billable_seconds: 23400,
        amounts: [{ currency: "EUR", amount: "780.00" }],
      },
    });
    const entries = await h.call("GET", "/v1/time-entries?limit=100", { token });
    expect(entries.body.data).toHaveLength(9);
  });

  it("has a running timer that started before the seed ran, so that stopping it works at any time of day", async () => {
    const grace = demo.users[1];
    const token = await h.sessionToken(grace.id, demo.organizationId);

    const current = await h.call("GET", "/v1/time-entries/current", { token });

    expect(current.body.data).toMatchObject({ description: "Accessibility fixes", end_time: null });
    expect(Date.parse(current.body.data.start_time)).toBeLessThan(seededAt.getTime());
    const stopped = await h.call("POST", `/v1/time-entries/${current.body.data.id}/stop`, { token });
    expect(stopped.status).toBe(200);
  });

  it("shows a removed member whose hours stay on record and whose token is refused", async () => {
    const [owner] = demo.users;
    const token = await h.sessionToken(owner.id, demo.organizationId);
    const removed = demo.removedUser;

    const members = await h.call("GET", "/v1/members?status=removed", { token });
    expect(members.body.data).toEqual([
      expect.objectContaining({
        id: removed.id,
        status: "removed",
        user: expect.objectContaining({ full_name: removed.name }),
      }),
    ]);
    const hours = await h.call("GET", `/v1/time-entries?user_id=${removed.id}`, { token });
    expect(hours.body.data.map((entry: { description: string }) => entry.description)).toEqual([
      "Handover notes",
      "Search prototype",
    ]);
    const theirs = await h.call("GET", "/v1/time-entries", {
      token: await h.sessionToken(removed.id, demo.organizationId),
    });
    expect(theirs.status).toBe(403);
  });

  it("shows every member joined before the first hour they recorded", async () => {
    const token = await h.sessionToken(demo.users[0].id, demo.organizationId);
    const members = await h.call("GET", "/v1/members?status=all", { token });
    const entries = await h.call("GET", "/v1/time-entries?limit=100", { token });
    expect(members.body.data.map((member: { role: string; status: string }) => [member.role, member.status])).toEqual([
      ["owner", "active"], // Ada, then by name
      ["member", "removed"], // Alan
      ["member", "active"], // Grace
      ["admin", "active"], // Katherine
    ]);
    for (const member of members.body.data as { id: string; joined_at: string }[]) {
      const starts = (entries.body.data as { user_id: string; start_time: string }[])
        .filter((entry) => entry.user_id === member.id)
        .map((entry) => Date.parse(entry.start_time));
      expect(starts.length).toBeGreaterThan(0);
      expect(Date.parse(member.joined_at)).toBeLessThan(Math.min(...starts));
    }
  });
});

describe("npm start on a database an older version seeded", () => {
  it("adds the demo people the organization lacks, so every token it prints works, and nothing else", async () => {
    const older = await startHarness();
    try {
      const [ada, grace, katherine] = demo.users;
      await older.sql("insert into organizations (id, name) values ($1, 'Demo Studio')", [demo.organizationId]);
      await older.sql("insert into users (id, email) values ($1, $2)", [ada.id, ada.email]);
      await older.sql("insert into organization_members (organization_id, user_id, role) values ($1, $2, 'owner')", [
        demo.organizationId,
        ada.id,
      ]);
      expect(await seedDemo(older.env.DATABASE_URL as string, older.env.SQL_HTTP_ENDPOINT)).toBe(false);
      const members = await older.sql(
        "select user_id, role, status from organization_members where organization_id = $1 order by user_id",
        [demo.organizationId],
      );
      expect(members).toEqual(
        [
          { user_id: ada.id, role: "owner", status: "active" },
          { user_id: grace.id, role: grace.role, status: "active" },
          { user_id: katherine.id, role: katherine.role, status: "active" },
          { user_id: demo.removedUser.id, role: demo.removedUser.role, status: "removed" },
        ].sort((a, b) => (a.user_id < b.user_id ? -1 : 1)),
      );
      const token = await older.sessionToken(katherine.id, demo.organizationId);
      expect((await older.call("GET", "/v1/me", { token })).status).toBe(200);
      expect(await older.sql("select id from time_entries")).toEqual([]);
    } finally {
      await older.close();
    }
  });
});
