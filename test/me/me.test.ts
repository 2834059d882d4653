import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Me } from "../../src/routes/me/me.routes";
import { createTeam, type Team } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

describe("GET /v1/me", () => {
  it("describes the caller of a session token, with every scope", async () => {
    const res = await h.call("GET", "/v1/me", { token: team.admin.token });
    expect(res.status).toBe(200);
    const [user] = await h.sql("select email from users where id = $1", [team.admin.id]);
    expect(res.body).toEqual({
      data: {
        user: { id: team.admin.id, full_name: "Adam Admin", email: user?.email, avatar_url: null },
        organization: {
          id: team.organizationId,
          name: "Org",
          timezone: "UTC",
          week_start: "monday",
          prevent_overlaps: false,
        },
        role: "admin",
        scopes: [
          "entries:read",
          "entries:write",
          "invoices:read",
          "invoices:write",
          "team:read",
          "team:admin",
          "webhooks:read",
          "webhooks:write",
        ],
        token_type: "session",
        client_id: null,
      },
    });
  });

  it("shows the organization's settings a client needs to show days and weeks, and a name it may lack", async () => {
    const { organizationId, owner } = await createTeam(h);
    await h.sql(
      "update organizations set name = null, timezone = 'America/New_York', week_start = 'sunday' where id = $1",
      [organizationId],
    );
    const res = await h.call("GET", "/v1/me", { token: owner.token });
    expect(res.body.data.organization).toEqual({
      id: organizationId,
      name: null,
      timezone: "America/New_York",
      week_start: "sunday",
      prevent_overlaps: false,
    });
    expect(Me.parse(res.body.data)).toEqual(res.body.data);
  });

  it("answers any valid OAuth token with the scopes it grants, whatever they are", async () => {
    const token = await h.issuer.sign({
      userId: team.member.id,
      organizationId: team.organizationId,
      scope: "invoices:read",
    });
    const res = await h.call("GET", "/v1/me", { token });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      role: "member",
      scopes: ["invoices:read"],
      token_type: "oauth",
      client_id: expect.any(String),
    });
  });

  it("lists the token's scopes the API knows, each once, in the API's order", async () => {
    const token = await h.issuer.sign({
      userId: team.member.id,
      organizationId: team.organizationId,
      scope: "team:read  foo team:read TEAM:ADMIN entries:read",
    });
    const res = await h.call("GET", "/v1/me", { token });
    expect(res.body.data.scopes).toEqual(["entries:read", "team:read"]);
  });

  it("is 403 for a user who is no longer a member", async () => {
    const { organizationId, member } = await createTeam(h);
    await h.sql("delete from organization_members where organization_id = $1 and user_id = $2", [
      organizationId,
      member.id,
    ]);
    const res = await h.call("GET", "/v1/me", { token: member.token });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: "FORBIDDEN", message: "You are not a member of this organization" } });
  });
});
