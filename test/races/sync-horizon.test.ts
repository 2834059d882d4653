// The sync feed never lets a client's mark pass a change still being written: an entry's updated_at is its writing
// transaction's start, so a write that waits (on a lock, here) commits with a time older than changes committed
// meanwhile. Following the README (keep the greatest updated_at received as the next updated_since), a client must
// still receive it. PostgreSQL server only (test/support/interleave.ts).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEntry, createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { databaseUrlOf, transaction, waitingOnLocks } from "../support/interleave";
import { onPostgres } from "../support/postgres";

let h: Harness;
let team: Team;
let url: string;

beforeAll(async () => {
  h = await startHarness();
  if (onPostgres()) url = await databaseUrlOf(h);
  team = await createTeam(h);
});
afterAll(() => h?.close());

type Change = { id: string; updated_at?: string; deleted_at?: string; description?: string };

/** A sync client: every change after its mark, all pages, then the greatest time received as its next mark. */
async function follow(mark: string) {
  const received: Change[] = [];
  let cursor = "";
  do {
    const res = await h.call(
      "GET",
      `/v1/time-entries?updated_since=${encodeURIComponent(mark)}&include_deleted=true&limit=100${cursor}`,
      { token: team.owner.token },
    );
    expect(res.status).toBe(200);
    received.push(...res.body.data);
    cursor = res.body.meta.next_cursor ? `&cursor=${res.body.meta.next_cursor}` : "";
  } while (cursor);
  const times = received.map((change) => (change.updated_at ?? change.deleted_at) as string);
  return { received, mark: [mark, ...times].sort().at(-1) as string };
}

const create = (description: string) =>
  h.call("POST", "/v1/time-entries", {
    token: team.owner.token,
    body: { start_time: "2026-10-01T09:00:00Z", end_time: "2026-10-01T10:00:00Z", description },
  });

describe.skipIf(!onPostgres())("the sync feed while a write is in progress (Postgres server)", () => {
  it("holds back what committed after the start of a write still running, so the mark never passes it", async () => {
    const held = await createEntry(h, team.owner, { description: "before" });
    let client = await follow("2000-01-01T00:00:00Z");

    const other = await transaction(url);
    await other.query(
      "update time_entries set description = 'held', version = version + 1, updated_at = now() where id = $1",
      [held],
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const meanwhile = (await create("committed meanwhile")).body.data.id as string;
    const during = await follow(client.mark);
    expect(during.received.map((change) => change.id)).not.toContain(meanwhile);
    client = during;

    await other.end("commit");
    const after = await follow(client.mark);
    expect(after.received.map((change) => [change.id, change.description])).toEqual([
      [held, "held"],
      [meanwhile, "committed meanwhile"],
    ]);
  });

  it("a PATCH waiting on a lock reaches a client that synced while it waited", async () => {
    const waiting = await createEntry(h, team.owner, { description: "old" });
    let client = await follow("2000-01-01T00:00:00Z");

    const lock = await transaction(url);
    await lock.query("select id from time_entries where id = $1 for update", [waiting]);
    const patch = h.call("PATCH", `/v1/time-entries/${waiting}`, {
      token: team.owner.token,
      body: { description: "new" },
    });
    await waitingOnLocks(h, 1);
    const meanwhile = (await create("after the patch began")).body.data.id as string;
    const deleted = (await create("deleted meanwhile")).body.data.id as string;
    expect((await h.call("DELETE", `/v1/time-entries/${deleted}`, { token: team.owner.token })).status).toBe(204);
    client = await follow(client.mark);
    expect(client.received).toEqual([]);

    await lock.end("commit");
    expect((await patch).status).toBe(200);
    const after = await follow(client.mark);
    expect(after.received.map((change) => [change.id, change.description ?? "tombstone"])).toEqual([
      [waiting, "new"],
      [meanwhile, "after the patch began"],
      [deleted, "tombstone"],
    ]);
  });

  it("cuts the horizon to the millisecond, as updated_at is stored rounded to one", async () => {
    const written = await createEntry(h, team.owner, { description: "w" });
    const committed = await createEntry(h, team.owner, { description: "a" });
    let client = await follow("2000-01-01T00:00:00Z");
    // A writer whose start rounds down to its millisecond (under half of it past): its updated_at is then below its
    // start, at the very millisecond a change committed meanwhile can be stamped with.
    let other = await transaction(url);
    let start = "";
    for (;;) {
      const { rows } = await other.query(
        "select now()::text as start, extract(microseconds from now())::int % 1000 as micros",
      );
      if (rows[0].micros > 0 && rows[0].micros < 500) {
        start = rows[0].start;
        break;
      }
      await other.end("rollback");
      other = await transaction(url);
    }
    await other.query(
      "update time_entries set description = 'W', version = version + 1, updated_at = now() where id = $1",
      [written],
    );
    await h.sql(
      "update time_entries set description = 'A', version = version + 1, updated_at = date_trunc('milliseconds', $2::timestamptz) where id = $1",
      [committed, start],
    );
    client = await follow(client.mark);
    await other.end("commit");
    const after = await follow(client.mark);
    expect(client.received).toEqual([]);
    expect(after.received.map((change) => change.description).sort()).toEqual(["A", "W"]);
  });
});
