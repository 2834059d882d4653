import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createEntry, createMember, createOrganization, createTeam, type Team } from "./support/factories";
import { type Harness, startHarness, TEST_SESSION_SECRET } from "./support/harness";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

const secretKey = new TextEncoder().encode(TEST_SESSION_SECRET);
const now = () => Math.floor(Date.now() / 1000);
const list = (token?: string, headers: Record<string, string> = {}) =>
  h.call("GET", "/v1/time-entries", { token, headers });

function sessionJwt(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT", ...header }).sign(secretKey);
}
const validClaims = () => ({ sub: team.member.id, org_id: team.organizationId, iat: now(), exp: now() + 600 });

function expectInvalidToken(res: Awaited<ReturnType<typeof list>>, message: string) {
  expect(res.status).toBe(401);
  expect(res.body).toEqual({ error: { code: "UNAUTHORIZED", message } });
  expect(res.headers.get("WWW-Authenticate")).toBe(
    `Bearer realm="time-entries-api", error="invalid_token", error_description="${message}"`,
  );
}

describe("the bearer token", () => {
  it("is required: 401 with a WWW-Authenticate challenge", async () => {
    const res = await list();
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: { code: "UNAUTHORIZED", message: "A bearer token is required: Authorization: Bearer <token>" },
    });
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="time-entries-api"');
  });

  it.each([["Basic dXNlcjpwYXNz"], ["Bearer"], ["Bearer "], ["Token abc"]])(
    "must come as 'Bearer <token>', not %j: a challenge, as for none",
    async (authorization) => {
      const res = await list(undefined, { Authorization: authorization });
      expect(res.status).toBe(401);
      expect(res.body.error).toEqual({
        code: "UNAUTHORIZED",
        message: "A bearer token is required: Authorization: Bearer <token>",
      });
      expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="time-entries-api"');
    },
  );

  it.each([["Bearer a b"], ["Bearer\tabc"], ["Bearer abc,def"], ["bearer  a.b.c x"]])(
    "says a Bearer credential that is not one token is malformed: %j",
    (authorization) =>
      list(undefined, { Authorization: authorization }).then((res) =>
        expectInvalidToken(res, "The Authorization header is malformed: send Bearer, one space and the token"),
      ),
  );

  it("accepts the scheme name in any case", async () => {
    const token = await sessionJwt(validClaims());
    expect((await list(undefined, { Authorization: `bearer ${token}` })).status).toBe(200);
  });

  it("must be a JWT", async () => {
    expectInvalidToken(await list("not-a-jwt"), "The bearer token is not a JWT");
  });

  it("must be written as RFC 7515 writes it: base64url without padding, so that a token has one spelling", async () => {
    const token = await sessionJwt(validClaims());
    expect((await list(token)).status).toBe(200);
    // The signature's last character with its spare low bits set decodes to the same bytes: another spelling.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const signature = token.split(".")[2] as string;
    const last = alphabet.indexOf(signature.at(-1) as string);
    const spareBits = signature.length % 4 === 3 ? 0b11 : 0b1111;
    const otherSpelling = `${token.slice(0, -1)}${alphabet[last | spareBits]}`;
    expect(otherSpelling).not.toBe(token);
    for (const respelled of [`${token}=`, `${token}==`, otherSpelling])
      expectInvalidToken(await list(respelled), "The bearer token is not a JWT");
  });

  it.each([[123], [true], [null], [{}], [["at+jwt"]]])(
    "must have a string typ header, not %j: 401 on either path, never a 500",
    async (typ) => {
      expectInvalidToken(
        await list(await sessionJwt(validClaims(), { typ })),
        "The token's typ header is not accepted",
      );
    },
  );
});

describe("session tokens (HS256)", () => {
  it("are accepted with sub, org_id and exp", async () => {
    const res = await list(await sessionJwt(validClaims()));
    expect(res.status).toBe(200);
  });

  it("are accepted without a typ header", async () => {
    const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: "HS256" }).sign(secretKey);
    expect((await list(token)).status).toBe(200);
  });

  it("are refused once expired beyond the 30 s clock tolerance, and accepted within it", async () => {
    expectInvalidToken(await list(await sessionJwt({ ...validClaims(), exp: now() - 31 })), "The token has expired");
    expect((await list(await sessionJwt({ ...validClaims(), exp: now() - 20 }))).status).toBe(200);
  });

  it("are refused before nbf beyond the tolerance", async () => {
    expectInvalidToken(
      await list(await sessionJwt({ ...validClaims(), nbf: now() + 120 })),
      "The token is not valid yet",
    );
  });

  it.each(["exp", "sub", "org_id"])("are refused without %s", async (claim) => {
    const claims: Record<string, unknown> = validClaims();
    delete claims[claim];
    expectInvalidToken(await list(await sessionJwt(claims)), `The token lacks the required ${claim} claim`);
  });

  it("are refused when sub or org_id is not a UUID", async () => {
    expectInvalidToken(
      await list(await sessionJwt({ ...validClaims(), sub: "alice" })),
      "The sub claim must be a user id (UUID)",
    );
    expectInvalidToken(
      await list(await sessionJwt({ ...validClaims(), org_id: 42 })),
      "The org_id claim must be an organization id (UUID)",
    );
  });

  it("are refused when signed with another secret", async () => {
    const token = await new SignJWT(validClaims())
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode("another-secret-of-at-least-thirty-two-bytes"));
    expectInvalidToken(await list(token), "The token's signature is invalid");
  });

  it("are refused unsigned (alg: none)", async () => {
    const token = new UnsecuredJWT(validClaims()).encode();
    expectInvalidToken(await list(token), "The token's signing algorithm is not accepted");
  });

  it("are refused with an algorithm other than HS256", async () => {
    const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: "HS512" }).sign(secretKey);
    expectInvalidToken(await list(token), "The token's signing algorithm is not accepted");
  });

  it("are refused when tampered with", async () => {
    const token = await sessionJwt(validClaims());
    const [header, , signature] = token.split(".");
    const payload = Buffer.from(JSON.stringify({ ...validClaims(), sub: team.owner.id })).toString("base64url");
    expectInvalidToken(await list(`${header}.${payload}.${signature}`), "The token's signature is invalid");
  });
});

describe("tokens verified before (kept per isolate, so a signature is checked once)", () => {
  it("are refused once they expire, as if never seen", async () => {
    const token = await sessionJwt({ ...validClaims(), exp: now() + 5 });
    expect((await list(token)).status).toBe(200);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 20_000);
      expect((await list(token)).status).toBe(200);
      vi.setSystemTime(Date.now() + 20_000);
      expectInvalidToken(await list(token), "The token has expired");
    } finally {
      vi.useRealTimers();
    }
  });

  it("are refused under another secret", async () => {
    const { default: app } = await import("../src/app");
    const token = await sessionJwt(validClaims());
    expect((await list(token)).status).toBe(200);
    const res = await app.request(
      "/v1/time-entries",
      { headers: { Authorization: `Bearer ${token}` } },
      { ...h.env, SESSION_JWT_SECRET: "a-rotated-session-secret-of-at-least-32-bytes" },
    );
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: { code: "UNAUTHORIZED", message: "The token's signature is invalid" } });
  });
});

describe("OAuth access tokens (RFC 9068)", () => {
  const claims = () => ({
    userId: team.member.id,
    organizationId: team.organizationId,
    scope: "entries:read entries:write",
  });

  it("are accepted signed ES256 or RS256 with typ at+jwt", async () => {
    for (const alg of ["ES256", "RS256"] as const) {
      const res = await list(await h.issuer.sign(claims(), { alg }));
      expect(res.status).toBe(200);
    }
  });

  it("are accepted with typ application/at+jwt", async () => {
    expect((await list(await h.issuer.sign(claims(), { typ: "application/at+jwt" }))).status).toBe(200);
  });

  it("are refused with the wrong issuer or audience", async () => {
    expectInvalidToken(
      await list(await h.issuer.sign(claims(), { issuer: "https://evil.example" })),
      "The token's iss claim is not accepted",
    );
    expectInvalidToken(
      await list(await h.issuer.sign(claims(), { audience: "another-api" })),
      "The token's aud claim is not accepted",
    );
  });

  it("are refused when expired", async () => {
    expectInvalidToken(await list(await h.issuer.sign(claims(), { expiresIn: now() - 60 })), "The token has expired");
  });

  it("are refused without typ at+jwt: such a token takes the session path, where RS256 is not allowed", async () => {
    expectInvalidToken(
      await list(await h.issuer.sign(claims(), { typ: "JWT", alg: "RS256" })),
      "The token's signing algorithm is not accepted",
    );
  });

  it("are refused when signed by a key the issuer does not publish", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const kid = (await exportJWK(publicKey)).x;
    const token = await new SignJWT({ org_id: team.organizationId, client_id: "c", scope: "entries:read" })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid })
      .setIssuer(h.issuer.issuer)
      .setAudience(h.issuer.audience)
      .setSubject(team.member.id)
      .setExpirationTime("5m")
      .sign(privateKey);
    expectInvalidToken(await list(token), "No key of the issuer matches the token");
  });

  it("are refused when an HS256 token claims to be an access token (signed with the session secret)", async () => {
    const token = await new SignJWT({ org_id: team.organizationId, client_id: "c", scope: "entries:read" })
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .setIssuer(h.issuer.issuer)
      .setAudience(h.issuer.audience)
      .setSubject(team.member.id)
      .setExpirationTime("5m")
      .sign(secretKey);
    expectInvalidToken(await list(token), "The token's signing algorithm is not accepted");
  });

  it("need entries:read to read and entries:write to change", async () => {
    const reader = await h.issuer.sign({ ...claims(), scope: "entries:read" });
    const writer = await h.issuer.sign({ ...claims(), scope: "entries:write" });
    const entryId = await createEntry(h, team.member);

    expect((await list(reader)).status).toBe(200);
    expect((await h.call("GET", `/v1/time-entries/${entryId}`, { token: reader })).status).toBe(200);
    const denied = await h.call("PATCH", `/v1/time-entries/${entryId}`, { token: reader, body: { description: "x" } });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      error: {
        code: "INSUFFICIENT_SCOPE",
        message: "This operation needs the entries:write scope",
        details: { required_scope: "entries:write" },
      },
    });
    expect(denied.headers.get("WWW-Authenticate")).toBe(
      'Bearer realm="time-entries-api", error="insufficient_scope", scope="entries:write"',
    );

    expect(
      (await h.call("PATCH", `/v1/time-entries/${entryId}`, { token: writer, body: { description: "x" } })).status,
    ).toBe(200);
    const cannotRead = await list(writer);
    expect(cannotRead.status).toBe(403);
    expect(cannotRead.body.error.details).toEqual({ required_scope: "entries:read" });
    expect((await h.call("DELETE", `/v1/time-entries/${entryId}`, { token: writer })).status).toBe(204);
  });

  it("without a scope claim can do nothing", async () => {
    const token = await h.issuer.sign({ userId: team.member.id, organizationId: team.organizationId });
    const res = await list(token);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("INSUFFICIENT_SCOPE");
  });

  it("check scope before the request is validated", async () => {
    const reader = await h.issuer.sign({ ...claims(), scope: "entries:read" });
    const res = await h.call("POST", "/v1/time-entries", { token: reader, body: { nonsense: true } });
    expect(res.status).toBe(403);
  });

  it("act with the member's role: scopes never widen it", async () => {
    const entryId = await createEntry(h, team.otherMember);
    const token = await h.issuer.sign(claims());
    expect((await h.call("GET", `/v1/time-entries/${entryId}`, { token })).status).toBe(404);
  });
});

describe("membership", () => {
  it("is required in the token's organization", async () => {
    const otherOrg = await createOrganization(h);
    const res = await list(await h.sessionToken(team.member.id, otherOrg));
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: { code: "FORBIDDEN", message: "You are not a member of this organization" } });
  });

  it("is checked on every request, so removing a member takes effect at once", async () => {
    const leaver = await createMember(h, team.organizationId, "admin");
    expect((await list(leaver.token)).status).toBe(200);
    await h.sql("delete from organization_members where organization_id = $1 and user_id = $2", [
      team.organizationId,
      leaver.id,
    ]);
    const res = await list(leaver.token);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("FORBIDDEN");
  });

  it("is read fresh, so a demotion takes effect at once", async () => {
    const demoted = await createMember(h, team.organizationId, "admin");
    const entryId = await createEntry(h, team.member);
    expect((await h.call("GET", `/v1/time-entries/${entryId}`, { token: demoted.token })).status).toBe(200);
    await h.sql("update organization_members set role = 'member' where user_id = $1", [demoted.id]);
    expect((await h.call("GET", `/v1/time-entries/${entryId}`, { token: demoted.token })).status).toBe(404);
  });

  it("applies to OAuth tokens too", async () => {
    const outsider = await createMember(h, await createOrganization(h), "owner");
    const token = await h.issuer.sign({
      userId: outsider.id,
      organizationId: team.organizationId,
      scope: "entries:read",
    });
    expect((await list(token)).status).toBe(403);
  });
});

describe("configuration", () => {
  it("answers 500 without details when the session secret is missing or too short, and logs why", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const { default: app } = await import("../src/app");
    const token = await sessionJwt(validClaims());
    for (const SESSION_JWT_SECRET of [undefined, "short"]) {
      const res = await app.request(
        "/v1/time-entries",
        { headers: { Authorization: `Bearer ${token}` } },
        { ...h.env, SESSION_JWT_SECRET },
      );
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: { code: "INTERNAL_ERROR", message: "The service is misconfigured" } });
    }
    expect(log).toHaveBeenCalledWith(expect.stringContaining("SESSION_JWT_SECRET must be at least 32 bytes"));
    log.mockRestore();
  });

  it("answers 500, not an endless 503, when DATABASE_URL is no postgres URL (a secret pasted with its quotes)", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const { default: app } = await import("../src/app");
    const token = await sessionJwt(validClaims());
    for (const DATABASE_URL of ["'postgresql://user:pw@ep-x.neon.tech/db'", "https://ep-x.neon.tech/db"]) {
      const res = await app.request(
        "/v1/time-entries",
        { headers: { Authorization: `Bearer ${token}` } },
        { ...h.env, DATABASE_URL },
      );
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: { code: "INTERNAL_ERROR", message: "The service is misconfigured" } });
    }
    expect(log).toHaveBeenCalledWith(
      expect.stringContaining("DATABASE_URL must be a postgres:// or postgresql:// URL"),
    );
    expect(JSON.stringify(log.mock.calls)).not.toContain("pw@");
    log.mockRestore();
  });

  it("answers 500 when the JWKS would be fetched in clear text from another machine", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const { configurationProblems } = await import("../src/lib/config");
    const oauth = (OAUTH_JWKS_URL: string) =>
      configurationProblems({ ...h.env, OAUTH_ISSUER: "https://id.example", OAUTH_AUDIENCE: "api", OAUTH_JWKS_URL });
    const problem = "OAUTH_JWKS_URL must be an https:// URL (http:// only for 127.0.0.1, localhost or [::1])";
    for (const url of ["http://id.example/jwks.json", "http://10.0.0.7/jwks.json", "ftp://id.example/jwks.json"]) {
      expect(oauth(url)).toEqual([problem]);
    }
    for (const url of ["https://id.example/jwks.json", "http://127.0.0.1:8788/jwks.json", "http://localhost/jwks"]) {
      expect(oauth(url)).toEqual([]);
    }
    const { default: app } = await import("../src/app");
    const res = await app.request(
      "/v1/time-entries",
      { headers: { Authorization: `Bearer ${await sessionJwt(validClaims())}` } },
      { ...h.env, OAUTH_JWKS_URL: "http://id.example/jwks.json" },
    );
    expect([res.status, await res.json()]).toEqual([
      500,
      { error: { code: "INTERNAL_ERROR", message: "The service is misconfigured" } },
    ]);
    expect(log).toHaveBeenCalledWith(expect.stringContaining(problem));
    log.mockRestore();
  });

  it("refuses OAuth tokens when no issuer is configured", async () => {
    const { default: app } = await import("../src/app");
    const token = await h.issuer.sign({
      userId: team.member.id,
      organizationId: team.organizationId,
      scope: "entries:read",
    });
    const res = await app.request(
      "/v1/time-entries",
      { headers: { Authorization: `Bearer ${token}` } },
      { ...h.env, OAUTH_ISSUER: "", OAUTH_AUDIENCE: "", OAUTH_JWKS_URL: "" },
    );
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      error: { code: "UNAUTHORIZED", message: "OAuth access tokens are not accepted by this deployment" },
    });
  });
});
