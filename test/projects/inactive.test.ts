// An inactive project is kept for its history and takes no new time (drizzle/0021): every write that would put new
// time on it is 409 PROJECT_INACTIVE and writes nothing; its entries stay editable otherwise.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createEntry, createProject, createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { subscribe } from "../support/webhooks";

let h: Harness;
let team: Team;
let inactive: string;
let active: string;
/** A stopped entry on the inactive project, made before it was deactivated. */
let onInactive: string;
/** A stopped entry on the active project. */
let onActive: string;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

beforeEach(async () => {
  team = await createTeam(h);
  inactive = await createProject(h, team.organizationId, { name: "Archived" });
  active = await createProject(h, team.organizationId, { name: "Current" });
  onInactive = await createEntry(h, team.member, {
    projectId: inactive,
    start: "2026-10-01T09:00:00Z",
    end: "2026-10-01T10:00:00Z",
  });
  onActive = await createEntry(h, team.member, {
    projectId: active,
    start: "2026-10-02T09:00:00Z",
    end: "2026-10-02T10:00:00Z",
  });
  const res = await h.call("PATCH", `/v1/projects/${inactive}`, { token: team.admin.token, body: { active: false } });
  expect(res.status).toBe(200);
});

const refused = () => ({
  error: {
    code: "PROJECT_INACTIVE",
    message: "The project is inactive and takes no new time; reactivate it first",
    details: { project_id: inactive },
  },
});

/** Every entry of the team as stored, to show a refusal wrote nothing. */
const entries = () =>
  h.sql(
    "select id, project_id, end_time, description, version from time_entries where organization_id = $1 order by id",
    [team.organizationId],
  );

/** A running entry on the inactive project, started while it was active. */
async function timerStartedBeforeDeactivation() {
  await h.sql("update projects set active = true where id = $1", [inactive]);
  const running = await createEntry(h, team.member, { projectId: inactive, start: "2026-10-05T09:00:00Z", end: null });
  await h.sql("update projects set active = false where id = $1", [inactive]);
  return running;
}

describe("an inactive project takes no new time", () => {
  it("an entry or a timer created on it is 409 PROJECT_INACTIVE, for members and owners alike, and writes nothing", async () => {
    // Subscribed, so that a write that happened would have left its events.
    await subscribe(h, team.organizationId);
    const before = await entries();
    for (const [token, end_time] of [
      [team.member.token, "2026-10-03T10:00:00Z"],
      [team.member.token, undefined],
      [team.owner.token, "2026-10-03T10:00:00Z"],
    ] as const) {
      const res = await h.call("POST", "/v1/time-entries", {
        token,
        body: { project_id: inactive, start_time: "2026-10-03T09:00:00Z", end_time, description: "New time" },
        headers: { "Idempotency-Key": crypto.randomUUID() },
      });
      expect([res.status, res.body]).toEqual([409, refused()]);
    }
    expect(await entries()).toEqual(before);
    expect(
      await h.sql("select count(*)::text as n from webhook_events where organization_id = $1", [team.organizationId]),
    ).toEqual([{ n: "0" }]);
  });

  it("moving an entry to it, alone or in bulk, and making one of its entries run again are 409, and change nothing", async () => {
    const before = await entries();
    const attempts = [
      h.call("PATCH", `/v1/time-entries/${onActive}`, { token: team.member.token, body: { project_id: inactive } }),
      h.call("PATCH", "/v1/time-entries", {
        token: team.member.token,
        body: { ids: [onActive, onInactive], changes: { project_id: inactive } },
      }),
      h.call("PATCH", `/v1/time-entries/${onInactive}`, { token: team.member.token, body: { end_time: null } }),
      h.call("POST", `/v1/time-entries/${onInactive}/restart`, { token: team.member.token }),
    ];
    for (const res of await Promise.all(attempts)) expect([res.status, res.body]).toEqual([409, refused()]);
    expect(await entries()).toEqual(before);
  });

  it("its entries stay editable otherwise: described, shortened, kept on it (its own project_id given back), in bulk, deleted", async () => {
    const edit = await h.call("PATCH", `/v1/time-entries/${onInactive}`, {
      token: team.member.token,
      body: { project_id: inactive, description: "Corrected", end_time: "2026-10-01T09:45:00Z" },
    });
    expect([edit.status, edit.body.data?.description, edit.body.data?.project?.id]).toEqual([
      200,
      "Corrected",
      inactive,
    ]);
    const bulk = await h.call("PATCH", "/v1/time-entries", {
      token: team.member.token,
      body: { ids: [onInactive], changes: { project_id: inactive, billable: true } },
    });
    expect([bulk.status, bulk.body.data?.[0]?.billable]).toEqual([200, true]);
    const moved = await h.call("PATCH", `/v1/time-entries/${onInactive}`, {
      token: team.member.token,
      body: { project_id: active },
    });
    expect(moved.status).toBe(200);
    const removed = await h.call("DELETE", `/v1/time-entries/${onActive}`, { token: team.member.token });
    expect(removed.status).toBe(204);
  });

  it("none of its entries grows: a stopped one made longer, a running one started earlier are 409, and change nothing", async () => {
    const running = await timerStartedBeforeDeactivation();
    const before = await entries();
    for (const [id, body] of [
      [onInactive, { end_time: "2026-10-01T10:00:01Z" }],
      [onInactive, { start_time: "2026-10-01T08:59:59Z" }],
      [onInactive, { start_time: "2026-10-01T08:00:00Z", end_time: "2026-10-01T12:00:00Z" }],
      [running, { start_time: "2026-10-05T08:00:00Z" }],
      // Stopped past the time it has run (since 2026-10-05, two months or so): years of time it never ran.
      [running, { start_time: "2026-10-05T09:30:00Z", end_time: "2030-01-01T00:00:00Z" }],
      [running, { end_time: "2099-10-05T10:00:00Z" }],
    ] as const) {
      const res = await h.call("PATCH", `/v1/time-entries/${id}`, { token: team.member.token, body });
      expect([JSON.stringify(body), res.status, res.body]).toEqual([JSON.stringify(body), 409, refused()]);
    }
    const stop = await h.call("POST", `/v1/time-entries/${running}/stop`, {
      token: team.member.token,
      body: { end_time: "2099-10-05T10:00:00Z" },
    });
    expect([stop.status, stop.body]).toEqual([409, refused()]);
    expect(await entries()).toEqual(before);
  });

  it("a new timer's stop_running stops one running on it at most a minute past the time it has run", async () => {
    await h.sql("update projects set active = true where id = $1", [inactive]);
    const running = await createEntry(h, team.member, {
      projectId: inactive,
      start: new Date(Date.now() - 10 * 60_000).toISOString(),
      end: null,
    });
    await h.sql("update projects set active = false where id = $1", [inactive]);
    const start = (minutesFromNow: number) =>
      h.call("POST", "/v1/time-entries", {
        token: team.member.token,
        body: {
          project_id: active,
          start_time: new Date(Date.now() + minutesFromNow * 60_000).toISOString(),
          description: "Next",
          stop_running: true,
        },
      });
    const ahead = await start(5);
    expect([ahead.status, ahead.body]).toEqual([409, refused()]);
    const now = await start(0);
    expect(now.status).toBe(201);
    const [stopped] = await h.sql("select end_time is not null as stopped from time_entries where id = $1", [running]);
    expect(stopped).toEqual({ stopped: "t" });
  });

  it("its entries may move in time at the same length, and a running one may start later", async () => {
    const running = await timerStartedBeforeDeactivation();
    const moved = await h.call("PATCH", `/v1/time-entries/${onInactive}`, {
      token: team.member.token,
      body: { start_time: "2026-10-08T14:00:00Z", end_time: "2026-10-08T15:00:00Z" },
    });
    expect([moved.status, moved.body.data?.duration]).toEqual([200, 3600]);
    const later = await h.call("PATCH", `/v1/time-entries/${running}`, {
      token: team.member.token,
      body: { start_time: "2026-10-05T09:30:00Z" },
    });
    expect([later.status, later.body.data?.start_time]).toEqual([200, "2026-10-05T09:30:00.000Z"]);
    // Stopped with a start corrected earlier, and no longer than the time it has run.
    const corrected = await h.call("PATCH", `/v1/time-entries/${running}`, {
      token: team.member.token,
      body: { start_time: "2026-10-05T08:59:00Z", end_time: "2026-10-05T09:05:00Z" },
    });
    expect([corrected.status, corrected.body.data?.duration]).toEqual([200, 360]);
  });

  it("a timer running on it when it was deactivated can still be stopped", async () => {
    const project = await createProject(h, team.organizationId, { name: "Closing" });
    const running = await createEntry(h, team.member, { projectId: project, start: "2026-10-05T09:00:00Z", end: null });
    await h.call("PATCH", `/v1/projects/${project}`, { token: team.admin.token, body: { active: false } });
    const stop = await h.call("POST", `/v1/time-entries/${running}/stop`, {
      token: team.member.token,
      body: { end_time: "2026-10-05T10:00:00Z" },
    });
    expect([stop.status, stop.body.data?.end_time]).toEqual([200, "2026-10-05T10:00:00.000Z"]);
  });

  it("takes time again once reactivated", async () => {
    await h.call("PATCH", `/v1/projects/${inactive}`, { token: team.admin.token, body: { active: true } });
    const res = await h.call("POST", "/v1/time-entries", {
      token: team.member.token,
      body: {
        project_id: inactive,
        start_time: "2026-10-03T09:00:00Z",
        end_time: "2026-10-03T10:00:00Z",
        description: "Back",
      },
    });
    expect(res.status).toBe(201);
  });

  it("is the database's rule: an entry put on it in SQL by hand is refused too", async () => {
    await expect(
      h.sql(
        `insert into time_entries (organization_id, user_id, project_id, start_time, end_time, description)
         values ($1, $2, $3, '2026-10-03T09:00:00Z', '2026-10-03T10:00:00Z', 'by hand')`,
        [team.organizationId, team.member.id, inactive],
      ),
    ).rejects.toThrow(/project .* is inactive/);
    await expect(h.sql("update time_entries set project_id = $1 where id = $2", [inactive, onActive])).rejects.toThrow(
      /project .* is inactive/,
    );
    await h.sql("update time_entries set description = 'by hand' where id = $1", [onInactive]);
  });
});
