import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEntry, createMember, createOrganization, createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { expectNoOpPatch } from "../support/no-op";
import { eventsOf } from "../support/webhooks";

let h: Harness;
let team: Team;
beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

/** The membership's profile and version, as the database holds them. */
async function profileOf(organizationId: string, userId: string) {
  const [row] = await h.sql(
    "select email, full_name, avatar_url, version from organization_members where organization_id = $1 and user_id = $2",
    [organizationId, userId],
  );
  if (!row) throw new Error("no such membership");
  return {
    email: row.email as string,
    full_name: row.full_name,
    avatar_url: row.avatar_url,
    version: Number(row.version),
  };
}

describe("a person as each organization knows them", () => {
  it("shows each organization its own name and address for the same person: members, me, entries, summary, export", async () => {
    const theirs = await createMember(h, await createOrganization(h), "owner", "Grace at Theirs");
    const address = (await h.sql("select email from users where id = $1", [theirs.id]))[0]?.email as string;
    const added = await h.call("POST", "/v1/members", {
      token: team.owner.token,
      body: { email: address.toUpperCase(), full_name: "Grace at Ours", role: "member" },
    });
    expect(added.status).toBe(201);
    const ours = { id: theirs.id, organizationId: team.organizationId };
    const token = await h.sessionToken(ours.id, ours.organizationId);
    await createEntry(h, ours, { start: "2026-11-03T09:00:00Z", end: "2026-11-03T10:00:00Z", description: "Ours" });
    await createEntry(h, theirs, { start: "2026-11-03T09:00:00Z", end: "2026-11-03T10:00:00Z", description: "Theirs" });
    const ourProfile = { id: ours.id, full_name: "Grace at Ours", email: address.toUpperCase(), avatar_url: null };
    const theirProfile = { id: ours.id, full_name: "Grace at Theirs", email: address, avatar_url: null };

    for (const [who, profile] of [
      [token, ourProfile],
      [theirs.token, theirProfile],
    ] as const) {
      expect((await h.call("GET", "/v1/me", { token: who })).body.data.user).toEqual(profile);
      expect((await h.call("GET", `/v1/members/${ours.id}`, { token: who })).body.data.user).toEqual(profile);
      const [entry] = (await h.call("GET", "/v1/time-entries", { token: who })).body.data;
      expect(entry.user).toEqual(profile);
      const summary = await h.call(
        "GET",
        `/v1/time-entries/summary?start_date=2026-11-01&end_date=2026-11-30&group_by=user&user_id=${ours.id}`,
        { token: who },
      );
      expect(summary.body.data.groups.map((g: { label: string }) => g.label)).toEqual([profile.full_name]);
      const csv = await h.call("GET", `/v1/time-entries/export?format=csv&user_id=${ours.id}`, { token: who });
      expect(csv.body).toContain(`,${ours.id},${profile.email},${profile.full_name},`);
    }
  });
});

describe("PATCH /v1/members/{userId} with a profile", () => {
  it("lets owners and admins rename a member and set or clear the avatar, bumping the version", async () => {
    const res = await h.call("PATCH", `/v1/members/${team.otherMember.id}`, {
      token: team.admin.token,
      body: { full_name: "Max Mustermann", avatar_url: "https://cdn.example/max.png" },
      headers: { "If-Match": '"1"' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBe('"2"');
    expect(res.body.data).toMatchObject({
      role: "member",
      version: 2,
      user: { full_name: "Max Mustermann", avatar_url: "https://cdn.example/max.png" },
    });
    const cleared = await h.call("PATCH", `/v1/members/${team.otherMember.id}`, {
      token: team.owner.token,
      body: { avatar_url: null },
    });
    expect(cleared.body.data.user).toMatchObject({ full_name: "Max Mustermann", avatar_url: null });
    expect(await profileOf(team.organizationId, team.otherMember.id)).toMatchObject({
      full_name: "Max Mustermann",
      avatar_url: null,
      version: 3,
    });
  });

  it("lets a member change their own profile, but not their role nor anyone else's profile", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner", "Olga");
    const member = await createMember(h, org, "member", "Mo");
    const colleague = await createMember(h, org, "member", "Cleo");
    const own = await h.call("PATCH", `/v1/members/${member.id}`, { token: member.token, body: { full_name: "Moe" } });
    expect([own.status, own.body.data?.user.full_name]).toEqual([200, "Moe"]);
    const refusals = [
      [member.id, { role: "admin" }],
      [member.id, { full_name: "Mo", role: "member" }],
      [colleague.id, { full_name: "Not Cleo" }],
    ] as const;
    for (const [target, body] of refusals) {
      const res = await h.call("PATCH", `/v1/members/${target}`, { token: member.token, body });
      expect(res.status).toBe(403);
      expect(res.body).toEqual({
        error: { code: "FORBIDDEN", message: "Members can only change their own name and avatar" },
      });
    }
    expect(await profileOf(org, colleague.id)).toMatchObject({ full_name: "Cleo", version: 1 });
    expect(await profileOf(org, member.id)).toMatchObject({ full_name: "Moe", version: 2 });
    // An owner's own profile is theirs to change too; an admin never changes an owner's.
    const admin = await createMember(h, org, "admin");
    const byAdmin = await h.call("PATCH", `/v1/members/${owner.id}`, { token: admin.token, body: { full_name: "X" } });
    expect([byAdmin.status, byAdmin.body.error?.code]).toEqual([403, "FORBIDDEN"]);
    const byOwner = await h.call("PATCH", `/v1/members/${owner.id}`, {
      token: owner.token,
      body: { full_name: "Olga K" },
    });
    expect(byOwner.body.data.user.full_name).toBe("Olga K");
  });

  it("changes nothing for the profile a member has, and announces a change with the old profile", async () => {
    const org = await createOrganization(h);
    const member = await createMember(h, org, "member", "Same Name");
    await expectNoOpPatch(h, {
      path: `/v1/members/${member.id}`,
      token: member.token,
      organizationId: org,
      same: { full_name: "Same Name", avatar_url: null },
      change: { full_name: "New Name" },
      changedEvent: "member.updated",
    });
    const [event] = (await eventsOf(h, org)).filter((e) => e.type === "member.updated");
    const address = (await profileOf(org, member.id)).email;
    expect(event?.data).toMatchObject({ user: { full_name: "New Name" } });
    expect(event?.previous_attributes).toEqual({
      user: { id: member.id, email: address, full_name: "Same Name", avatar_url: null },
    });
  });

  it("refuses an empty body, a blank name, a URL that is not http(s) and unknown fields", async () => {
    const patch = (body: object) => h.call("PATCH", `/v1/members/${team.member.id}`, { token: team.owner.token, body });
    const empty = await patch({});
    expect(empty.status).toBe(400);
    expect(empty.body.error.details).toEqual({ body: ["Provide at least one field to change"] });
    const invalid = await patch({ full_name: "  ", avatar_url: "javascript:alert(1)", email: "a@b.example" });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.details).toEqual({
      full_name: ["Must not be blank"],
      avatar_url: ["Must be an http(s) URL with a domain name (not an IP address) and without credentials"],
      email: ["Unknown field"],
    });
    expect(await profileOf(team.organizationId, team.member.id)).toMatchObject({ full_name: "Mia Member", version: 1 });
    const credentials = await patch({ avatar_url: "https://user:secret@cdn.example/a.png" });
    expect([credentials.status, credentials.body.error?.details]).toEqual([
      400,
      { avatar_url: ["Must be an http(s) URL with a domain name (not an IP address) and without credentials"] },
    ]);
    expect(await profileOf(team.organizationId, team.member.id)).toMatchObject({ avatar_url: null, version: 1 });
  });

  it("keeps the profile when a removed member is reinstated without one, and takes a new one given, null clearing", async () => {
    const org = await createOrganization(h);
    const owner = await createMember(h, org, "owner");
    const leaver = await createMember(h, org, "member", "Leaver");
    const address = (await profileOf(org, leaver.id))?.email as string;
    await h.call("DELETE", `/v1/members/${leaver.id}`, { token: owner.token });
    const back = await h.call("POST", "/v1/members", { token: owner.token, body: { email: address, role: "member" } });
    expect(back.body.data.user).toMatchObject({ full_name: "Leaver", email: address });
    await h.call("DELETE", `/v1/members/${leaver.id}`, { token: owner.token });
    const renamed = await h.call("POST", "/v1/members", {
      token: owner.token,
      body: { email: address, full_name: "Returner", avatar_url: "https://cdn.example/r.png", role: "member" },
    });
    expect(renamed.body.data.user).toMatchObject({ full_name: "Returner", avatar_url: "https://cdn.example/r.png" });
    await h.call("DELETE", `/v1/members/${leaver.id}`, { token: owner.token });
    const cleared = await h.call("POST", "/v1/members", {
      token: owner.token,
      body: { email: address, full_name: null, role: "member" },
    });
    expect(cleared.body.data.user).toMatchObject({ full_name: null, avatar_url: "https://cdn.example/r.png" });
  });
});
