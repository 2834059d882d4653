// Token attacks (RFC 8725, RFC 9068) that test/auth.test.ts does not already
// cover: algorithm confusion with the issuer's public key, forged key headers,
// claim edges on the OAuth path, key rotation, and a key set that is down, slow
// or garbage. Each asserts the exact status and code.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type OAuthIssuer, startOAuthIssuer } from "../../dev/oauth-issuer";
import app from "../../src/app";
import type { Bindings } from "../../src/lib/types";
import { createMember, createOrganization, createTeam, type Team } from "../support/factories";
import { type ApiResponse, type Harness, startHarness, TEST_SESSION_SECRET } from "../support/harness";

let h: Harness;
let team: Team;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  await h?.close();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** The 503s below are logged as server errors, as they should be; keep them out of the test output. */
const quietErrorLog = () => vi.spyOn(console, "error").mockImplementation(() => {});

const now = () => Math.floor(Date.now() / 1000);

async function list(token: string, env: Bindings = h.env) {
  const started = performance.now();
  const res = await app.request("/v1/time-entries", { headers: { Authorization: `Bearer ${token}` } }, env);
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as ApiResponse["body"],
    elapsedMs: performance.now() - started,
  };
}

function expectUnauthorized(res: Awaited<ReturnType<typeof list>>, message: string) {
  expect(res.body).toEqual({ error: { code: "UNAUTHORIZED", message } });
  expect(res.status).toBe(401);
  expect(res.headers.get("WWW-Authenticate")).toBe(
    `Bearer realm="time-entries-api", error="invalid_token", error_description="${message}"`,
  );
}

function expectIssuerUnavailable(res: Awaited<ReturnType<typeof list>>) {
  expect(res.body).toEqual({
    error: { code: "SERVICE_UNAVAILABLE", message: "The token issuer's key set is unavailable; retry shortly" },
  });
  expect(res.status).toBe(503);
  expect(res.headers.get("Retry-After")).toBe("5");
}

/** A fresh issuer (so the verifier's key cache for it starts empty) and the env that trusts it. */
async function freshIssuer() {
  const issuer = await startOAuthIssuer();
  cleanups.push(issuer.close);
  const env: Bindings = {
    ...h.env,
    OAUTH_ISSUER: issuer.issuer,
    OAUTH_AUDIENCE: issuer.audience,
    OAUTH_JWKS_URL: issuer.jwksUrl,
  };
  return { issuer, env };
}

const readerClaims = () => ({ userId: team.member.id, organizationId: team.organizationId, scope: "entries:read" });

/** The public keys the issuer publishes, as an attacker would download them. */
async function publishedKeys(issuer: OAuthIssuer): Promise<(JWK & { kid: string; alg: string })[]> {
  const jwks = (await (await fetch(issuer.jwksUrl)).json()) as { keys: (JWK & { kid: string; alg: string })[] };
  return jwks.keys;
}

/**
 * An issuer whose every claim and header a test controls: one ES256 key (or
 * `keys` of them, all published under the same kid), its JWKS served locally.
 * For claims and key sets dev/oauth-issuer.ts cannot shape (nbf, iat, kids…).
 */
async function ownIssuer({ keys = 1 } = {}) {
  const pairs = await Promise.all(Array.from({ length: keys }, () => generateKeyPair("ES256")));
  const kid = `own-${crypto.randomUUID()}`;
  const jwks = await Promise.all(
    pairs.map(async ({ publicKey }) => ({ ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" })),
  );
  const server = createServer((_, res) => {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: jwks }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const env: Bindings = { ...h.env, OAUTH_ISSUER: url, OAUTH_AUDIENCE: "api", OAUTH_JWKS_URL: `${url}/jwks.json` };
  const privateKeys = pairs.map(({ privateKey }) => privateKey);
  const sign = (payload: JWTPayload, header: Record<string, unknown> = {}, privateKey = privateKeys[0] as CryptoKey) =>
    new SignJWT({
      iss: url,
      aud: "api",
      sub: team.member.id,
      org_id: team.organizationId,
      client_id: "c",
      scope: "entries:read",
      iat: now(),
      jti: crypto.randomUUID(),
      exp: now() + 300,
      ...payload,
    })
      .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid, ...header })
      .sign(privateKey);
  return { env, sign, kid, privateKeys };
}

describe("algorithm confusion", () => {
  it("refuses an HS256 access token signed with the issuer's published public key (PEM or JWK)", async () => {
    for (const published of await publishedKeys(h.issuer)) {
      const publicKey = await importJWK(published, published.alg, { extractable: true });
      const secrets = [await exportSPKI(publicKey as CryptoKey), JSON.stringify(published)];
      for (const secret of secrets) {
        const payload = {
          iss: h.issuer.issuer,
          aud: h.issuer.audience,
          sub: team.member.id,
          org_id: team.organizationId,
          client_id: "c",
          scope: "entries:read",
          exp: now() + 300,
        };
        const hmac = new TextEncoder().encode(secret);
        const asAccessToken = await new SignJWT(payload)
          .setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: published.kid })
          .sign(hmac);
        expectUnauthorized(await list(asAccessToken), "The token's signing algorithm is not accepted");
        // Without typ at+jwt it takes the session path, where only the session secret verifies.
        const asSessionToken = await new SignJWT(payload).setProtectedHeader({ alg: "HS256" }).sign(hmac);
        expectUnauthorized(await list(asSessionToken), "The token's signature is invalid");
      }
    }
  });

  it("refuses alg none on the access token path", async () => {
    const token = new UnsecuredJWT({
      iss: h.issuer.issuer,
      aud: h.issuer.audience,
      sub: team.member.id,
      org_id: team.organizationId,
      client_id: "c",
      scope: "entries:read",
      exp: now() + 300,
    }).encode();
    const [, payload] = token.split(".");
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "at+jwt" })).toString("base64url");
    expectUnauthorized(await list(`${header}.${payload}.`), "The token's signing algorithm is not accepted");
  });

  it("refuses an ES256 access token without typ at+jwt: it takes the session path", async () => {
    const token = await h.issuer.sign(readerClaims(), { alg: "ES256", typ: "JWT" });
    expectUnauthorized(await list(token), "The token's signing algorithm is not accepted");
  });

  it("refuses a session token (HS256, session secret) sent with typ at+jwt", async () => {
    const token = await new SignJWT({ sub: team.member.id, org_id: team.organizationId, exp: now() + 300 })
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .sign(new TextEncoder().encode(TEST_SESSION_SECRET));
    expectUnauthorized(await list(token), "The token's signing algorithm is not accepted");
  });
});

describe("key headers", () => {
  it("ignore a key embedded in the token (jwk, jku, x5u): only the issuer's key set counts", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const attackerJwk = await exportJWK(publicKey);
    const [published] = await publishedKeys(h.issuer);
    for (const header of [
      { kid: "attacker", jwk: attackerJwk },
      { kid: published?.kid, jwk: attackerJwk },
      { kid: "attacker", jku: "http://127.0.0.1:9/evil-jwks.json" },
      { kid: published?.kid, x5u: "http://127.0.0.1:9/evil.pem" },
    ]) {
      const token = await new SignJWT({ org_id: team.organizationId, client_id: "c", scope: "entries:read" })
        .setProtectedHeader({ alg: "ES256", typ: "at+jwt", ...header })
        .setIssuer(h.issuer.issuer)
        .setAudience(h.issuer.audience)
        .setSubject(team.member.id)
        .setExpirationTime("5m")
        .sign(privateKey);
      const res = await list(token);
      expect(res.status, JSON.stringify(header)).toBe(401);
      expect(res.body.error.code).toBe("UNAUTHORIZED");
    }
  });

  it("refuse an unknown kid, and a flood of them costs the issuer at most one refetch", async () => {
    const { issuer, env } = await freshIssuer();
    expect((await list(await issuer.sign(readerClaims()), env)).status).toBe(200);
    const fetchesBefore = issuer.jwksRequests;
    for (const kid of ["../../etc/passwd", "' or 1=1 --", crypto.randomUUID(), "", "x".repeat(2000)]) {
      const res = await list(await issuer.sign(readerClaims(), { kid }), env);
      expectUnauthorized(res, "No key of the issuer matches the token");
    }
    expect(issuer.jwksRequests - fetchesBefore).toBeLessThanOrEqual(1);
  });

  it("treat kid as a hint: where several published keys share it (or none is given), the one that signed verifies", async () => {
    const own = await ownIssuer({ keys: 3 });
    for (const privateKey of own.privateKeys) {
      expect((await list(await own.sign({}, {}, privateKey), own.env)).status).toBe(200);
      expect((await list(await own.sign({}, { kid: undefined }, privateKey), own.env)).status).toBe(200);
    }
    const { privateKey: stranger } = await generateKeyPair("ES256");
    expectUnauthorized(await list(await own.sign({}, {}, stranger), own.env), "The token's signature is invalid");
    // Claims are still checked with the key that signed.
    const expired = await own.sign({ exp: now() - 120 }, {}, own.privateKeys[1]);
    expectUnauthorized(await list(expired, own.env), "The token has expired");
  });

  it("refuse a token whose kid names a key of another algorithm", async () => {
    const { issuer, env } = await freshIssuer();
    const keys = await publishedKeys(issuer);
    const rsaKid = keys.find((k) => k.alg === "RS256")?.kid;
    const res = await list(await issuer.sign(readerClaims(), { alg: "ES256", kid: rsaKid }), env);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("UNAUTHORIZED");
  });
});

describe("access token claims", () => {
  it("expire with 30 s of tolerance", async () => {
    const own = await ownIssuer();
    expectUnauthorized(await list(await own.sign({ exp: now() - 31 }), own.env), "The token has expired");
    expect((await list(await own.sign({ exp: now() - 20 }), own.env)).status).toBe(200);
  });

  it("are refused before nbf beyond the tolerance", async () => {
    const own = await ownIssuer();
    expectUnauthorized(await list(await own.sign({ nbf: now() + 120 }), own.env), "The token is not valid yet");
    expect((await list(await own.sign({ nbf: now() + 20 }), own.env)).status).toBe(200);
  });

  it("are refused when issued in the future beyond the tolerance", async () => {
    const own = await ownIssuer();
    expectUnauthorized(await list(await own.sign({ iat: now() + 3600 }), own.env), "The token is not valid yet");
    expect((await list(await own.sign({ iat: now() + 20 }), own.env)).status).toBe(200);
    const session = (iat: number) =>
      new SignJWT({ sub: team.member.id, org_id: team.organizationId, iat, exp: now() + 7200 })
        .setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode(TEST_SESSION_SECRET));
    expectUnauthorized(await list(await session(now() + 3600)), "The token is not valid yet");
    expect((await list(await session(now() - 60))).status).toBe(200);
  });

  it.each([
    ["iss", { iss: "https://evil.example" }, "The token's iss claim is not accepted"],
    ["aud", { aud: "another-api" }, "The token's aud claim is not accepted"],
    ["aud (list without ours)", { aud: ["a", "b"] }, "The token's aud claim is not accepted"],
  ])("are refused with the wrong %s", async (_, claims, message) => {
    const own = await ownIssuer();
    expectUnauthorized(await list(await own.sign(claims), own.env), message);
  });

  it("accept an aud list that contains ours", async () => {
    const own = await ownIssuer();
    expect((await list(await own.sign({ aud: ["other", "api"] }), own.env)).status).toBe(200);
  });

  it.each(["exp", "iat", "jti", "iss", "aud", "sub", "org_id", "client_id"])(
    "are refused without %s, saying it is missing",
    async (claim) => {
      const own = await ownIssuer();
      const res = await list(await own.sign({ [claim]: undefined }), own.env);
      expectUnauthorized(res, `The token lacks the required ${claim} claim`);
    },
  );

  it.each([
    ["iat", "tomorrow"],
    ["nbf", "tomorrow"],
  ])("are refused when %s is no number, saying it is malformed", async (claim, value) => {
    const own = await ownIssuer();
    const res = await list(await own.sign({ [claim]: value } as JWTPayload), own.env);
    expectUnauthorized(res, `The token's ${claim} claim is malformed`);
  });

  it("are refused with an empty client_id", async () => {
    const own = await ownIssuer();
    expectUnauthorized(await list(await own.sign({ client_id: "" }), own.env), "The client_id claim must be a string");
  });

  it.each([
    ["a number", 7],
    ["empty", ""],
    ["an object", { id: 1 }],
  ])("are refused when jti is %s (RFC 9068 §2.2: a string)", async (_, jti) => {
    const own = await ownIssuer();
    expectUnauthorized(await list(await own.sign({ jti } as JWTPayload), own.env), "The jti claim must be a string");
  });

  it("are accepted with every claim RFC 9068 requires", async () => {
    const own = await ownIssuer();
    expect((await list(await own.sign({}), own.env)).status).toBe(200);
  });

  it("are refused when scope is not a string", async () => {
    const own = await ownIssuer();
    expectUnauthorized(
      await list(await own.sign({ scope: ["entries:read"] }), own.env),
      "The scope claim must be a space-separated string",
    );
  });
});

describe("membership, on both token kinds", () => {
  it("a removed member's still-valid tokens are 403 FORBIDDEN on the next request", async () => {
    const leaver = await createMember(h, team.organizationId, "owner");
    const oauth = await h.issuer.sign({
      userId: leaver.id,
      organizationId: team.organizationId,
      scope: "entries:read",
    });
    expect((await list(leaver.token)).status).toBe(200);
    expect((await list(oauth)).status).toBe(200);
    await h.sql("delete from organization_members where user_id = $1", [leaver.id]);
    for (const token of [leaver.token, oauth]) {
      const res = await list(token);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: { code: "FORBIDDEN", message: "You are not a member of this organization" } });
    }
  });

  it("a token for an organization the user is not in (or that does not exist) is 403 FORBIDDEN", async () => {
    for (const organizationId of [await createOrganization(h), crypto.randomUUID()]) {
      for (const token of [
        await h.sessionToken(team.owner.id, organizationId),
        await h.issuer.sign({ userId: team.owner.id, organizationId, scope: "entries:read" }),
      ]) {
        const res = await list(token);
        expect(res.status).toBe(403);
        expect(res.body).toEqual({
          error: { code: "FORBIDDEN", message: "You are not a member of this organization" },
        });
      }
    }
  });
});

describe("the issuer's key set", () => {
  it("rotates without a restart: once the 30 s refetch cooldown has passed, new keys verify and old ones do not", async () => {
    const { issuer, env } = await freshIssuer();
    const before = await issuer.sign(readerClaims());
    expect((await list(before, env)).status).toBe(200);

    await issuer.rotate();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 31_000);
    const after = await issuer.sign(readerClaims());
    expect((await list(after, env)).status).toBe(200);
    expect(issuer.jwksRequests).toBe(2);
    expectUnauthorized(await list(before, env), "No key of the issuer matches the token");
  });

  it("keeps verifying with cached keys while the issuer is down", async () => {
    const { issuer, env } = await freshIssuer();
    expect((await list(await issuer.sign(readerClaims()), env)).status).toBe(200);
    issuer.setMode("error");
    expect((await list(await issuer.sign(readerClaims()), env)).status).toBe(200);
  });

  it.each([
    ["returns garbage", "garbage"],
    ["answers 500", "error"],
  ] as const)("is 503 with Retry-After, never 500, when it %s, and recovers by itself", async (_, mode) => {
    const log = quietErrorLog();
    const { issuer, env } = await freshIssuer();
    issuer.setMode(mode);
    const res = await list(await issuer.sign(readerClaims()), env);
    expectIssuerUnavailable(res);
    expect(log).toHaveBeenCalledOnce();
    issuer.setMode("ok");
    expect((await list(await issuer.sign(readerClaims()), env)).status).toBe(200);
  });

  it("is 503 within 5 s, not a hang, when it does not answer", async () => {
    quietErrorLog();
    const { issuer, env } = await freshIssuer();
    issuer.setMode("hang");
    const res = await list(await issuer.sign(readerClaims()), env);
    expectIssuerUnavailable(res);
    expect(res.elapsedMs).toBeLessThan(5000);
    issuer.setMode("ok");
    expect((await list(await issuer.sign(readerClaims()), env)).status).toBe(200);
  });

  it("being down does not affect session tokens", async () => {
    const { issuer, env } = await freshIssuer();
    issuer.setMode("hang");
    const res = await list(team.member.token, env);
    expect(res.status).toBe(200);
    expect(res.elapsedMs).toBeLessThan(2000);
  });
});
