// Concurrent changes and their webhook events: each event is written by the statement that makes its change, so
// concurrency can neither lose an event nor write one for a change that lost. Meaningful on a real Postgres server
// (TEST_BACKEND=postgres); on PGlite the requests are serialised but must give the same answers.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createEntry, createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { onPostgres } from "../support/postgres";
import { concurrently } from "../support/races";
import { eventsOf, subscribe } from "../support/webhooks";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());
beforeEach(async () => {
  team = await createTeam(h);
  await subscribe(h, team.organizationId);
  await subscribe(h, team.organizationId, { events: ["time_entry.updated"] });
});

describe(`webhook events of concurrent changes (${onPostgres() ? "Postgres server" : "PGlite"})`, () => {
  it("20 concurrent changes write 20 events, each with its own change and one delivery per subscription", async () => {
    const id = await createEntry(h, team.member);
    const responses = await concurrently(20, (i) =>
      h.call("PATCH", `/v1/time-entries/${id}`, { token: team.member.token, body: { description: `writer ${i}` } }),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const events = await eventsOf(h, team.organizationId);
    expect(events).toHaveLength(20);
    expect(events.every((event) => event.type === "time_entry.updated" && event.deliveries === 2)).toBe(true);
    // Versions 2 to 21, once each: every event is the state its own statement wrote, and each names the value
    // it replaced, so that the chain of previous descriptions is the order the writes committed in.
    const byVersion = events.map((event) => event.data).sort((a, b) => a.version - b.version);
    expect(byVersion.map((data) => data.version)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    const previous = new Map(events.map((event) => [event.data.version, event.previous_attributes.description]));
    for (const [i, data] of byVersion.entries()) {
      expect(previous.get(data.version)).toBe(i === 0 ? "Work" : byVersion[i - 1]?.description);
    }
  });

  it("20 concurrent creates by different members write 20 created events", async () => {
    const members = [team.owner, team.admin, team.member, team.otherMember];
    const responses = await concurrently(20, (i) =>
      h.call("POST", "/v1/time-entries", {
        token: (members[i % members.length] as (typeof members)[number]).token,
        body: {
          start_time: `2026-11-${String(i + 1).padStart(2, "0")}T09:00:00Z`,
          end_time: `2026-11-${String(i + 1).padStart(2, "0")}T10:00:00Z`,
          description: `entry ${i}`,
        },
      }),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    const events = await eventsOf(h, team.organizationId);
    expect(events.map((event) => event.data.id).sort()).toEqual(responses.map((r) => r.body.data.id).sort());
    for (const res of responses) {
      expect(events.find((event) => event.data.id === res.body.data.id)?.data).toEqual(res.body.data);
    }
  });

  it("of 10 writers with the same If-Match only the winner writes an event", async () => {
    const id = await createEntry(h, team.member);
    const responses = await concurrently(10, (i) =>
      h.call("PATCH", `/v1/time-entries/${id}`, {
        token: team.member.token,
        body: { description: `writer ${i}` },
        headers: { "If-Match": '"1"' },
      }),
    );
    const winner = responses.find((r) => r.status === 200);
    expect(responses.filter((r) => r.status === 412)).toHaveLength(9);
    const events = await eventsOf(h, team.organizationId);
    expect(events.map((event) => event.data)).toEqual([winner?.body.data]);
  });

  it("of 20 concurrent timer starts only the one that started writes events", async () => {
    const responses = await concurrently(20, (i) =>
      h.call("POST", "/v1/time-entries", {
        token: team.member.token,
        body: { start_time: "2026-11-28T09:00:00Z", description: `start ${i}` },
      }),
    );
    const created = responses.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    const events = await eventsOf(h, team.organizationId);
    expect(events.map((event) => [event.type, event.data.id])).toEqual([
      ["time_entry.created", created[0]?.body.data.id],
      ["timer.started", created[0]?.body.data.id],
    ]);
  });
});
