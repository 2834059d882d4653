import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Member } from "../../src/routes/members/members.schemas";
import { createMember, createOrganization, createTeam, createUser, type Team } from "../support/factories";
import { type Harness, isoFromPostgres, startHarness } from "../support/harness";
import { expectNoOpPatch } from "../support/no-op";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

const emailOf = async (userId: string) =>
  (await h.sql("select email from users where id = $1", [userId]))[0]?.email as string;

/** A member as the API shows it, from the database. */
async function memberFromDatabase(organizationId: string, userId: string) {
  const [row] = await h.sql(
    `select m.role, m.status, m.joined_at, m.removed_at, m.version, m.email, m.full_name, m.avatar_url
     from organization_members m where m.organization_id = $1 and m.user_id = $2`,
    [organizationId, userId],
  );
  if (!row) throw new Error("no such membership");
  return {
    id: userId,
    role: row.role,
    status: row.status,
    joined_at: isoFromPostgres(row.joined_at),
    removed_at: row.removed_at ? isoFromPostgres(row.removed_at) : null,
    version: Number(row.version),
    user: { id: userId, email: row.email, full_name: row.full_name, avatar_url: row.avatar_url },
  };
}

describe("GET /v1/members", () => {
  it("lets every member list the active members by name, each exactly as the database holds them", async () => {
    const res = await h.call("GET", "/v1/members", { token: team.member.token });
    expect(res.status).toBe(200);
    const expected = await Promise.all(
      [team.admin, team.otherMember, team.member, team.owner].map((m) => memberFromDatabase(team.organizationId, m.id)),
    );
    expect(res.body).toEqual({ data: expected, meta: { count: 4, next_cursor: null } });
    for (const member of res.body.data) expect(Member.parse(member)).toEqual(member);
  });

  it("pages A to Z by name whatever the case, then id, a user without a name sorting by e-mail address", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner", "Zed");
    // "bea" after "Bea" (the same name's cases in code point order), "abe-…@" before both and "cid" after: byte order
    // would put every lower-case name after "Zed".
    const names = ["Bea", "Bea", "cid", null, "bea"];
    const ids: string[] = [];
    for (const name of names) {
      const userId = await createUser(h);
      await h.sql(
        "insert into organization_members (organization_id, user_id, full_name, email) values ($1, $2, $3, $4)",
        [org, userId, name, `abe-${crypto.randomUUID()}@x.example`],
      );
      ids.push(userId);
    }
    const [bea1, bea2] = [ids[0], ids[1]].sort() as [string, string];
    const expected = [ids[3], bea1, bea2, ids[4], ids[2], owner.id];

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `limit=2&cursor=${cursor}` : "limit=2";
      const res = await h.call("GET", `/v1/members?${query}`, { token: owner.token });
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((m: { id: string }) => m.id));
      cursor = res.body.meta.next_cursor;
    } while (cursor);
    expect(seen).toEqual(expected);
  });

  it("filters by role, by status (active by default, removed, all) and by name or e-mail", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner", "Olga Owner");
    const admin = await createMember(h, org, "admin", "Arno Admin");
    const gone = await createMember(h, org, "member", "Gina Gone");
    await h.sql("update organization_members set status = 'removed', removed_at = now() where user_id = $1", [gone.id]);
    const ids = async (query: string) =>
      (await h.call("GET", `/v1/members?${query}`, { token: owner.token })).body.data.map((m: { id: string }) => m.id);

    expect(await ids("")).toEqual([admin.id, owner.id]);
    expect(await ids("status=removed")).toEqual([gone.id]);
    expect(await ids("status=all")).toEqual([admin.id, gone.id, owner.id]);
    expect(await ids("role=admin")).toEqual([admin.id]);
    expect(await ids("role=member&status=all")).toEqual([gone.id]);
    expect(await ids("q=OLGA")).toEqual([owner.id]);
    expect(await ids(`q=${(await emailOf(admin.id)).slice(0, 12).toUpperCase()}`)).toEqual([admin.id]);
    expect(await ids("q=%25")).toEqual([]);
  });

  it("refuses a bad role, status or cursor and unknown parameters", async () => {
    const res = await h.call("GET", "/v1/members?role=king&status=gone&sort=name", { token: team.owner.token });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({
      role: ["Must be owner, admin or member"],
      status: ["Must be active, removed or all"],
      sort: ["Unknown field"],
    });
    const cursor = await h.call("GET", "/v1/members?cursor=nonsense", { token: team.owner.token });
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.code).toBe("INVALID_CURSOR");
  });
});

describe("GET /v1/members/{userId}", () => {
  it("answers the member with an ETag; another organization's user is 404 like an unknown id", async () => {
    const res = await h.call("GET", `/v1/members/${team.admin.id}`, { token: team.member.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe('"1"');
    expect(res.body).toEqual({ data: await memberFromDatabase(team.organizationId, team.admin.id) });

    const stranger = await createMember(h, await createOrganization(h), "owner");
    for (const id of [stranger.id, crypto.randomUUID()]) {
      const missing = await h.call("GET", `/v1/members/${id}`, { token: team.owner.token });
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ error: { code: "NOT_FOUND", message: "Member not found" } });
    }
  });
});

describe("POST /v1/members", () => {
  it("creates the user record for an address nobody has, and answers 201 with Location and ETag", async () => {
    const email = `New.Person-${crypto.randomUUID()}@Example.com`;
    const res = await h.call("POST", "/v1/members", {
      token: team.admin.token,
      body: { email, full_name: "New Person", role: "member" },
    });
    expect(res.status).toBe(201);
    const id = res.body.data.id;
    expect(res.headers.get("Location")).toBe(`/v1/members/${id}`);
    expect(res.headers.get("ETag")).toBe('"1"');
    expect(res.body).toEqual({ data: await memberFromDatabase(team.organizationId, id) });
    expect(res.body.data).toMatchObject({ role: "member", status: "active", removed_at: null, version: 1 });
    expect(res.body.data.user).toEqual({ id, email, full_name: "New Person", avatar_url: null });

    // The identity provider signs tokens for the new id; they work at once.
    const token = await h.sessionToken(id, team.organizationId);
    expect((await h.call("GET", "/v1/me", { token })).body.data.role).toBe("member");
  });

  it("adds an existing user found by e-mail address in any case, as this organization gives them", async () => {
    const elsewhereOrg = await createOrganization(h);
    const elsewhere = await createMember(h, elsewhereOrg, "owner", "Their Own Name");
    await h.sql("update organization_members set avatar_url = 'https://elsewhere.example/a.png' where user_id = $1", [
      elsewhere.id,
    ]);
    const theirs = await memberFromDatabase(elsewhereOrg, elsewhere.id);
    const email = (await emailOf(elsewhere.id)).toUpperCase();
    const res = await h.call("POST", "/v1/members", {
      token: team.owner.token,
      body: { email, full_name: "Our Name For Them", role: "admin" },
    });
    expect(res.status).toBe(201);
    expect(res.body.data.id).toBe(elsewhere.id);
    // Nothing of the other organization's shows (name, avatar, the address's case), and nothing of it changed.
    expect(res.body.data.user).toEqual({ id: elsewhere.id, email, full_name: "Our Name For Them", avatar_url: null });
    expect(await memberFromDatabase(elsewhereOrg, elsewhere.id)).toEqual(theirs);
    expect(await h.sql("select count(*) from users where lower(email) = lower($1)", [email])).toEqual([{ count: "1" }]);

    const third = await createMember(h, await createOrganization(h), "owner");
    const unnamed = await h.call("POST", "/v1/members", {
      token: third.token,
      body: { email: email.toLowerCase(), role: "member" },
    });
    expect(unnamed.body.data.user).toEqual({
      id: elsewhere.id,
      email: email.toLowerCase(),
      full_name: null,
      avatar_url: null,
    });
  });

  it("answers 409 ALREADY_MEMBER for an active member, naming them, and changes nothing", async () => {
    const res = await h.call("POST", "/v1/members", {
      token: team.owner.token,
      body: { email: (await emailOf(team.member.id)).toUpperCase(), role: "admin" },
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "ALREADY_MEMBER", details: { user_id: team.member.id } });
    expect((await memberFromDatabase(team.organizationId, team.member.id)).role).toBe("member");
  });

  it("lets only an owner add an owner, and a member add nobody", async () => {
    const owner = { email: `o-${crypto.randomUUID()}@example.com`, role: "owner" };
    const byAdmin = await h.call("POST", "/v1/members", { token: team.admin.token, body: owner });
    expect(byAdmin.status).toBe(403);
    expect(byAdmin.body.error.code).toBe("FORBIDDEN");
    const byMember = await h.call("POST", "/v1/members", {
      token: team.member.token,
      body: { email: `m-${crypto.randomUUID()}@example.com`, role: "member" },
    });
    expect(byMember.body).toEqual({ error: { code: "FORBIDDEN", message: "Only owners and admins can add members" } });
    // Neither refused request left a user behind.
    expect(await h.sql("select count(*) from users where email = $1", [owner.email])).toEqual([{ count: "0" }]);
    const byOwner = await h.call("POST", "/v1/members", { token: team.owner.token, body: owner });
    expect(byOwner.status).toBe(201);
    expect(byOwner.body.data.role).toBe("owner");
  });

  it("honours Idempotency-Key: a retry replays the first answer and adds nobody twice", async () => {
    const email = `retry-${crypto.randomUUID()}@example.com`;
    const send = () =>
      h.call("POST", "/v1/members", {
        token: team.owner.token,
        body: { email, role: "member" },
        headers: { "Idempotency-Key": `add-${email}` },
      });
    const first = await send();
    const retry = await send();
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.headers.get("Location")).toBe(first.headers.get("Location"));
    expect(retry.body).toEqual(first.body);
    expect(await h.sql("select count(*) from users where email = $1", [email])).toEqual([{ count: "1" }]);
  });

  it("takes every address format: email lets a client send, = and | in the local part included", async () => {
    for (const local of ["=cmd", "|pipe", "o'brien+tag"]) {
      const email = `${local}-${crypto.randomUUID()}@example.com`;
      const res = await h.call("POST", "/v1/members", { token: team.owner.token, body: { email, role: "member" } });
      expect([email, res.status, res.body.data?.user.email]).toEqual([email, 201, email]);
    }
  });

  it("refuses a bad e-mail address, a bad role, a blank name and unknown fields", async () => {
    const res = await h.call("POST", "/v1/members", {
      token: team.owner.token,
      body: { email: "nobody", full_name: " ", role: "king", status: "active" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual({
      email: ["Must be an e-mail address"],
      full_name: ["Must not be blank"],
      role: ["Must be owner, admin or member"],
      status: ["Unknown field"],
    });
  });
});

describe("PATCH /v1/members/{userId}", () => {
  it("changes a role with If-Match, bumping the version; a stale ETag is 412 and changes nothing", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner");
    const member = await createMember(h, org, "member");
    const res = await h.call("PATCH", `/v1/members/${member.id}`, {
      token: owner.token,
      body: { role: "admin" },
      headers: { "If-Match": '"1"' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe('"2"');
    expect(res.body).toEqual({ data: await memberFromDatabase(org, member.id) });
    expect(res.body.data).toMatchObject({ role: "admin", version: 2 });
    // The new role holds on the member's very next request.
    expect((await h.call("GET", "/v1/me", { token: member.token })).body.data.role).toBe("admin");

    const stale = await h.call("PATCH", `/v1/members/${member.id}`, {
      token: owner.token,
      body: { role: "member" },
      headers: { "If-Match": '"1"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe("PRECONDITION_FAILED");
    expect((await memberFromDatabase(org, member.id)).role).toBe("admin");
  });

  it("refuses what the caller may never do with 403 before a stale If-Match's 412", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner");
    const admin = await createMember(h, org, "admin");
    const member = await createMember(h, org, "member");
    const colleague = await createMember(h, org, "member");
    const stale = { "If-Match": '"99"' };
    const demoteOwner = await h.call("PATCH", `/v1/members/${owner.id}`, {
      token: admin.token,
      body: { role: "member" },
      headers: stale,
    });
    expect(demoteOwner.status).toBe(403);
    expect(demoteOwner.body.error.code).toBe("FORBIDDEN");
    const removeColleague = await h.call("DELETE", `/v1/members/${colleague.id}`, {
      token: member.token,
      headers: stale,
    });
    expect(removeColleague.status).toBe(403);
    expect(removeColleague.body).toEqual({
      error: { code: "FORBIDDEN", message: "Members can only remove themselves" },
    });
    // Someone else is anyone but themselves to a member: an id that names nobody too, on PATCH and DELETE alike.
    const nobody = crypto.randomUUID();
    expect((await h.call("DELETE", `/v1/members/${nobody}`, { token: member.token })).body).toEqual({
      error: { code: "FORBIDDEN", message: "Members can only remove themselves" },
    });
    expect(
      (await h.call("PATCH", `/v1/members/${nobody}`, { token: member.token, body: { full_name: "X" } })).body,
    ).toEqual({
      error: { code: "FORBIDDEN", message: "Members can only change their own name and avatar" },
    });
    expect((await h.call("DELETE", `/v1/members/${nobody}`, { token: admin.token })).status).toBe(404);
    const removeOwner = await h.call("DELETE", `/v1/members/${owner.id}`, { token: admin.token, headers: stale });
    expect(removeOwner.status).toBe(403);
    // What they may do, on a stale copy, is 412.
    const removeSelf = await h.call("DELETE", `/v1/members/${member.id}`, { token: member.token, headers: stale });
    expect(removeSelf.status).toBe(412);
  });

  it("lets an admin manage members and admins but never touch an owner or grant owner", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner");
    const admin = await createMember(h, org, "admin");
    const member = await createMember(h, org, "member");
    const patch = (target: string, role: string, token = admin.token) =>
      h.call("PATCH", `/v1/members/${target}`, { token, body: { role } });

    expect((await patch(member.id, "admin")).status).toBe(200);
    expect((await patch(member.id, "member")).status).toBe(200);
    for (const [target, role] of [
      [owner.id, "member"],
      [member.id, "owner"],
    ] as const) {
      const res = await patch(target, role);
      expect(res.status).toBe(403);
      expect(res.body.error).toEqual({
        code: "FORBIDDEN",
        message: "Only an owner can change an owner or grant the owner role; admins manage the others",
      });
    }
    const byMember = await patch(admin.id, "member", member.token);
    expect(byMember.body).toEqual({
      error: { code: "FORBIDDEN", message: "Members can only change their own name and avatar" },
    });
    expect((await patch(member.id, "owner", owner.token)).body.data.role).toBe("owner");
    expect((await memberFromDatabase(org, owner.id)).role).toBe("owner");
  });

  it("keeps an active owner: demoting the last one is 409 LAST_OWNER, demoting one of two is fine", async () => {
    const org = await createOrganization(h);
    const first = await createMember(h, org, "owner");
    const last = await h.call("PATCH", `/v1/members/${first.id}`, { token: first.token, body: { role: "admin" } });
    expect(last.status).toBe(409);
    expect(last.body.error).toEqual({
      code: "LAST_OWNER",
      message: "The organization must keep at least one active owner; make someone else owner first",
    });
    const second = await createMember(h, org, "owner");
    expect(
      (await h.call("PATCH", `/v1/members/${first.id}`, { token: second.token, body: { role: "admin" } })).status,
    ).toBe(200);
    const now = await h.call("PATCH", `/v1/members/${second.id}`, { token: second.token, body: { role: "member" } });
    expect(now.body.error.code).toBe("LAST_OWNER");
  });

  it("changes nothing when asked for the role a member has, but refuses it to whom it would refuse the change", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner");
    const admin = await createMember(h, org, "admin");
    const member = await createMember(h, org, "member");
    await expectNoOpPatch(h, {
      path: `/v1/members/${member.id}`,
      token: admin.token,
      organizationId: org,
      same: { role: "member" },
      change: { role: "admin" },
      changedEvent: "member.updated",
    });
    // An admin may not touch an owner, nor a member change anyone: 403 even when nothing would change.
    const ownerAsOwner = await h.call("PATCH", `/v1/members/${owner.id}`, {
      token: admin.token,
      body: { role: "owner" },
    });
    expect([ownerAsOwner.status, ownerAsOwner.body.error?.code]).toEqual([403, "FORBIDDEN"]);
    const plain = await createMember(h, org, "member");
    const byMember = await h.call("PATCH", `/v1/members/${admin.id}`, { token: plain.token, body: { role: "admin" } });
    expect(byMember.status).toBe(403);
    await h.call("DELETE", `/v1/members/${plain.id}`, { token: owner.token });
    const removed = await h.call("PATCH", `/v1/members/${plain.id}`, { token: owner.token, body: { role: "member" } });
    expect([removed.status, removed.body.error?.code]).toEqual([409, "MEMBER_REMOVED"]);
  });

  it("answers 409 MEMBER_REMOVED for a removed member and 404 for another organization's", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner");
    const gone = await createMember(h, org, "member");
    await h.call("DELETE", `/v1/members/${gone.id}`, { token: owner.token });
    const removed = await h.call("PATCH", `/v1/members/${gone.id}`, { token: owner.token, body: { role: "admin" } });
    expect(removed.status).toBe(409);
    expect(removed.body.error.code).toBe("MEMBER_REMOVED");
    const foreign = await h.call("PATCH", `/v1/members/${team.member.id}`, {
      token: owner.token,
      body: { role: "admin" },
    });
    expect(foreign.status).toBe(404);
    expect((await memberFromDatabase(team.organizationId, team.member.id)).role).toBe("member");
  });

  it("treats a removed former owner as any removed member: 409 to an admin's PATCH and DELETE, reinstated by POST", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner");
    const admin = await createMember(h, org, "admin");
    const former = await createMember(h, org, "owner");
    expect((await h.call("DELETE", `/v1/members/${former.id}`, { token: owner.token })).status).toBe(204);
    const patched = await h.call("PATCH", `/v1/members/${former.id}`, { token: admin.token, body: { role: "member" } });
    const deleted = await h.call("DELETE", `/v1/members/${former.id}`, { token: admin.token });
    for (const res of [patched, deleted]) expect([res.status, res.body.error?.code]).toEqual([409, "MEMBER_REMOVED"]);
    const [{ email }] = (await h.sql("select email from users where id = $1", [former.id])) as [{ email: string }];
    const asOwner = await h.call("POST", "/v1/members", { token: admin.token, body: { email, role: "owner" } });
    expect([asOwner.status, asOwner.body.error?.code]).toEqual([403, "FORBIDDEN"]);
    const back = await h.call("POST", "/v1/members", { token: admin.token, body: { email, role: "admin" } });
    expect([back.status, back.body.data?.role, back.body.data?.status]).toEqual([201, "admin", "active"]);
    // Active again as an admin, they are no owner to protect: the admin may change them.
    const changed = await h.call("PATCH", `/v1/members/${former.id}`, { token: admin.token, body: { role: "member" } });
    expect([changed.status, changed.body.data?.role]).toEqual([200, "member"]);
  });
});
