// A timer that another request starts while this one runs, forced into one interleaving (test/support/interleave.ts):
// the one-timer rule answers, whichever of the database's guards meets it first (PostgreSQL server only).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEntry, createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { databaseUrlOf, transaction, waitingOnLocks } from "../support/interleave";
import { onPostgres } from "../support/postgres";

let h: Harness;
let url: string;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  if (onPostgres()) url = await databaseUrlOf(h);
});
afterAll(() => h?.close());

/**
 * Starts `request` while another transaction starts a timer for `userId` at 09:00, committed once the request waits:
 * with `prevent_overlaps` on, on the lock that serialises the member's writes (past the request's snapshot, inside
 * the overlap trigger); off, on the one-timer index.
 */
async function behindATimerOf(userId: string, preventOverlaps: boolean, request: () => ReturnType<Harness["call"]>) {
  await h.sql("update organizations set prevent_overlaps = $2 where id = $1", [team.organizationId, preventOverlaps]);
  const other = await transaction(url);
  const [timer] = (
    await other.query(
      `insert into time_entries (organization_id, user_id, start_time, description)
       values ($1, $2, '2026-11-28T09:00:00Z', 'Started meanwhile') returning id`,
      [team.organizationId, userId],
    )
  ).rows as { id: string }[];
  const pending = request();
  await waitingOnLocks(h, 1);
  await other.end("commit");
  return { res: await pending, timerId: timer?.id as string };
}

const timerAlreadyRunning = (runningEntryId: string) => ({
  error: {
    code: "TIMER_ALREADY_RUNNING",
    message: "A timer is already running for this user; stop it first",
    details: { running_entry_id: runningEntryId },
  },
});

const runningOf = (userId: string) =>
  h.sql("select id from time_entries where user_id = $1 and end_time is null and deleted_at is null", [userId]);

describe.skipIf(!onPostgres())("a timer started meanwhile, with prevent_overlaps on (Postgres server)", () => {
  it("a start is 409 TIMER_ALREADY_RUNNING naming it, not OVERLAP", async () => {
    team = await createTeam(h);
    const { res, timerId } = await behindATimerOf(team.member.id, true, () =>
      h.call("POST", "/v1/time-entries", {
        token: team.member.token,
        body: { start_time: "2026-11-28T10:00:00Z", description: "Second timer" },
      }),
    );
    expect([res.status, res.body]).toEqual([409, timerAlreadyRunning(timerId)]);
    expect(await runningOf(team.member.id)).toEqual([{ id: timerId }]);
  });

  it("a start with stop_running stops it at the new start, as it would have after it", async () => {
    team = await createTeam(h);
    const { res, timerId } = await behindATimerOf(team.member.id, true, () =>
      h.call("POST", "/v1/time-entries", {
        token: team.member.token,
        body: { start_time: "2026-11-28T10:00:00Z", description: "Next timer", stop_running: true },
      }),
    );
    expect(res.status).toBe(201);
    expect(await runningOf(team.member.id)).toEqual([{ id: res.body.data.id }]);
    const stopped = await h.sql(
      "select id from time_entries where user_id = $1 and end_time = '2026-11-28T10:00:00Z'",
      [team.member.id],
    );
    expect(stopped).toEqual([{ id: timerId }]);
  });

  it("a restart is 409 TIMER_ALREADY_RUNNING naming it", async () => {
    team = await createTeam(h);
    const entry = await createEntry(h, team.member);
    const { res, timerId } = await behindATimerOf(team.member.id, true, () =>
      h.call("POST", `/v1/time-entries/${entry}/restart`, { token: team.member.token }),
    );
    expect([res.status, res.body]).toEqual([409, timerAlreadyRunning(timerId)]);
    expect(await runningOf(team.member.id)).toEqual([{ id: timerId }]);
  });

  it("making a stopped entry run again is 409 TIMER_ALREADY_RUNNING naming it", async () => {
    team = await createTeam(h);
    const entry = await createEntry(h, team.member);
    const { res, timerId } = await behindATimerOf(team.member.id, true, () =>
      h.call("PATCH", `/v1/time-entries/${entry}`, { token: team.member.token, body: { end_time: null } }),
    );
    expect([res.status, res.body]).toEqual([409, timerAlreadyRunning(timerId)]);
    expect(await runningOf(team.member.id)).toEqual([{ id: timerId }]);
  });

  it("a stopped entry that overlaps it is still 409 OVERLAP", async () => {
    team = await createTeam(h);
    const { res, timerId } = await behindATimerOf(team.member.id, true, () =>
      h.call("POST", "/v1/time-entries", {
        token: team.member.token,
        body: { start_time: "2026-11-28T10:00:00Z", end_time: "2026-11-28T11:00:00Z", description: "Logged" },
      }),
    );
    expect([res.status, res.body.error.code, res.body.error.details]).toEqual([
      409,
      "OVERLAP",
      { overlapping_entry_id: timerId },
    ]);
  });
});

describe.skipIf(!onPostgres())(
  "a running entry moved to a member whose timer starts meanwhile (Postgres server)",
  () => {
    for (const preventOverlaps of [false, true]) {
      it(`is 409 naming that member's timer, not the entry moved (prevent_overlaps ${preventOverlaps})`, async () => {
        team = await createTeam(h);
        const moved = await h.call("POST", "/v1/time-entries", {
          token: team.owner.token,
          body: { start_time: "2026-11-28T08:00:00Z", description: "Whose timer" },
        });
        expect(moved.status).toBe(201);
        const { res, timerId } = await behindATimerOf(team.member.id, preventOverlaps, () =>
          h.call("PATCH", `/v1/time-entries/${moved.body.data.id}`, {
            token: team.owner.token,
            body: { user_id: team.member.id },
          }),
        );
        expect([res.status, res.body]).toEqual([409, timerAlreadyRunning(timerId)]);
        expect(await runningOf(team.owner.id)).toEqual([{ id: moved.body.data.id }]);
      });
    }
  },
);
