import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createCustomer,
  createInvoice,
  createMember,
  createTeam,
  createUser,
  type Member,
  type Team,
} from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { subscribe } from "../support/webhooks";
import { requestHash } from "./request-hash";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

const entry = (description: string) => ({
  start_time: "2026-11-28T09:00:00Z",
  end_time: "2026-11-28T10:00:00Z",
  description,
});
const post = (key: string, body: unknown, token = team.member.token) =>
  h.call("POST", "/v1/time-entries", { token, body, headers: { "Idempotency-Key": key } });

describe("Idempotency-Key on POST", () => {
  it("replays the first answer to a retry with the same key and body, writing once", async () => {
    const key = crypto.randomUUID();
    const first = await post(key, entry("once"));
    expect(first.status).toBe(201);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();

    const retry = await post(key, entry("once"));
    expect(retry.status).toBe(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.headers.get("Location")).toBe(first.headers.get("Location"));
    expect(await h.sql("select id from time_entries where description = 'once'")).toHaveLength(1);
  });

  it("answers 422 for the same key with another body, and writes nothing", async () => {
    const key = crypto.randomUUID();
    expect((await post(key, entry("first body"))).status).toBe(201);
    const other = await post(key, entry("second body"));
    expect(other.status).toBe(422);
    expect(other.body).toEqual({
      error: {
        code: "IDEMPOTENCY_KEY_MISMATCH",
        message: "This Idempotency-Key was already used with a different request",
      },
    });
    expect(await h.sql("select id from time_entries where description = 'second body'")).toEqual([]);
  });

  it("answers 409 while the first request with the key is still running", async () => {
    const key = crypto.randomUUID();
    const body = entry("in flight");
    const path = "/v1/time-entries";
    const hash = await requestHash("POST", path, body);
    await h.sql("insert into idempotency_keys (organization_id, user_id, key, request_hash) values ($1, $2, $3, $4)", [
      team.organizationId,
      team.member.id,
      key,
      hash,
    ]);
    const res = await post(key, body);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("IDEMPOTENCY_KEY_IN_USE");
    expect(res.headers.get("Retry-After")).toBe("1");
  });

  it("lets a retry take over a claim abandoned for over a minute by a request that died", async () => {
    const key = crypto.randomUUID();
    const body = entry("abandoned");
    const hash = await requestHash("POST", "/v1/time-entries", body);
    await h.sql(
      `insert into idempotency_keys (organization_id, user_id, key, request_hash, created_at)
       values ($1, $2, $3, $4, now() - interval '61 seconds')`,
      [team.organizationId, team.member.id, key, hash],
    );
    const retry = await post(key, body);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
    // The retry's answer is now the key's: a further retry replays it.
    const again = await post(key, body);
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.body).toEqual(retry.body);
    expect(await h.sql("select id from time_entries where description = 'abandoned'")).toHaveLength(1);
  });

  it("takes a retry that corrects the query string, the media type or a conditional header for another request: 422", async () => {
    const owner = team.owner.token;
    const customers = (key: string, path: string, headers: Record<string, string> = {}) =>
      h.call("POST", path, {
        token: owner,
        body: { name: `Corrected ${key}` },
        headers: { "Idempotency-Key": key, ...headers },
      });
    const mismatch = [422, "IDEMPOTENCY_KEY_MISMATCH"];
    const outcome = (res: Awaited<ReturnType<typeof h.call>>) => [res.status, res.body.error?.code];

    const query = crypto.randomUUID();
    expect(outcome(await customers(query, "/v1/customers?dry_run=true"))).toEqual([400, "VALIDATION_ERROR"]);
    expect(outcome(await customers(query, "/v1/customers"))).toEqual(mismatch);
    const replayed = await customers(query, "/v1/customers?dry_run=true");
    expect([...outcome(replayed), replayed.headers.get("Idempotent-Replayed")]).toEqual([
      400,
      "VALIDATION_ERROR",
      "true",
    ]);

    const type = crypto.randomUUID();
    expect(outcome(await customers(type, "/v1/customers", { "Content-Type": "text/plain" }))[0]).toBe(415);
    expect(outcome(await customers(type, "/v1/customers"))).toEqual(mismatch);
    // A body without any Content-Type (bytes, which fetch does not label): 415, then labelled JSON, another request.
    const unlabelled = crypto.randomUUID();
    const { default: app } = await import("../../src/app");
    const bare = await app.request(
      "/v1/customers",
      {
        method: "POST",
        headers: { Authorization: `Bearer ${owner}`, "Idempotency-Key": unlabelled },
        body: new TextEncoder().encode(JSON.stringify({ name: `Corrected ${unlabelled}` })),
      },
      h.env,
    );
    expect(bare.status).toBe(415);
    expect(outcome(await customers(unlabelled, "/v1/customers"))).toEqual(mismatch);
    // A body labelled compressed (415), then sent without the label; and a body that was taken, retried so labelled.
    const coded = crypto.randomUUID();
    expect(outcome(await customers(coded, "/v1/customers", { "Content-Encoding": "gzip" }))[0]).toBe(415);
    expect(outcome(await customers(coded, "/v1/customers"))).toEqual(mismatch);
    const taken = crypto.randomUUID();
    expect((await customers(taken, "/v1/customers")).status).toBe(201);
    expect(outcome(await customers(taken, "/v1/customers", { "Content-Encoding": "gzip" }))).toEqual(mismatch);
    expect((await customers(taken, "/v1/customers", { "Content-Encoding": "identity" })).status).toBe(201);

    const { id } = await subscribe(h, team.organizationId);
    const rotate = (key: string, ifMatch: string) =>
      h.call("POST", `/v1/webhooks/${id}/rotate-secret`, {
        token: owner,
        headers: { "Idempotency-Key": key, "If-Match": ifMatch },
      });
    const stale = crypto.randomUUID();
    expect(outcome(await rotate(stale, '"9"'))).toEqual([412, "PRECONDITION_FAILED"]);
    expect(outcome(await rotate(stale, '"1"'))).toEqual(mismatch);
    const dated = crypto.randomUUID();
    const since = { "If-Unmodified-Since": "Mon, 07 Dec 2026 10:00:00 GMT" };
    const ping = (headers: Record<string, string> = {}) =>
      h.call("POST", `/v1/webhooks/${id}/ping`, { token: owner, headers: { "Idempotency-Key": dated, ...headers } });
    expect(outcome(await ping(since))).toEqual([400, "VALIDATION_ERROR"]);
    expect(outcome(await ping())).toEqual(mismatch);
    // Beside an If-Match the route takes, the date is ignored (RFC 9110 §13.1.4), but sent or not it makes another
    // request: the key's answer is not replayed to what was not asked.
    const beside = crypto.randomUUID();
    const etag = (await h.call("GET", `/v1/webhooks/${id}`, { token: owner })).headers.get("ETag") as string;
    const rotated = await h.call("POST", `/v1/webhooks/${id}/rotate-secret`, {
      token: owner,
      headers: { "Idempotency-Key": beside, "If-Match": etag, ...since },
    });
    expect(rotated.status).toBe(200);
    expect(outcome(await rotate(beside, etag))).toEqual(mismatch);
    expect((await rotate(crypto.randomUUID(), '"2"')).status).toBe(200);
  });

  it("takes the JSON media types with parameters or a +json suffix for the same request: replayed, not 422", async () => {
    const key = crypto.randomUUID();
    const create = (type: string) =>
      h.call("POST", "/v1/customers", {
        token: team.owner.token,
        body: { name: `Same request ${key}` },
        headers: { "Idempotency-Key": key, "Content-Type": type },
      });
    const first = await create("application/json");
    expect(first.status).toBe(201);
    for (const type of [
      "application/json; charset=utf-8",
      "Application/JSON ;charset=UTF-8",
      "application/merge-patch+json",
    ]) {
      const retry = await create(type);
      expect([type, retry.status, retry.headers.get("Idempotent-Replayed")]).toEqual([type, 201, "true"]);
      expect(retry.body).toEqual(first.body);
    }
  });

  it("replays a refusal of the database (409 OVERLAP) as a request of its own, with its request id", async () => {
    const other = await createTeam(h);
    await h.sql("update organizations set prevent_overlaps = true where id = $1", [other.organizationId]);
    expect((await post(crypto.randomUUID(), entry("first"), other.member.token)).status).toBe(201);
    const key = crypto.randomUUID();
    const first = await post(key, entry("overlapping"), other.member.token);
    expect([first.status, first.body.error.code]).toEqual([409, "OVERLAP"]);
    const retry = await post(key, entry("overlapping"), other.member.token);
    expect([retry.status, retry.body]).toEqual([409, first.body]);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(retry.headers.get("X-Request-Id")).not.toBe(first.headers.get("X-Request-Id"));
    expect(retry.headers.get("X-Content-Type-Options")).toBe("nosniff");
  });

  it("keys are per operation: the same key on another path is a different request", async () => {
    const key = crypto.randomUUID();
    expect((await post(key, entry("per path"))).status).toBe(201);
    const other = await h.call("POST", "/v1/projects", {
      token: team.owner.token,
      body: { name: "Per path" },
      headers: { "Idempotency-Key": key },
    });
    expect(other.status).toBe(201);
    const mismatch = await h.call("POST", "/v1/projects", {
      token: team.member.token,
      body: { name: "Per path" },
      headers: { "Idempotency-Key": key },
    });
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.error.code).toBe("IDEMPOTENCY_KEY_MISMATCH");
  });

  it("replays errors too, and keeps keys apart per user", async () => {
    const key = crypto.randomUUID();
    const bad = { ...entry("x"), end_time: "2026-11-28T08:00:00Z" };
    const first = await post(key, bad);
    expect(first.status).toBe(400);
    const retry = await post(key, bad);
    expect(retry.status).toBe(400);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");

    const sameKeyOtherUser = await post(key, entry("other user"), team.otherMember.token);
    expect(sameKeyOtherUser.status).toBe(201);
    expect(sameKeyOtherUser.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("leaves a missing scope's 403 to the token: neither kept under the key nor replaced by the key's answer", async () => {
    const token = (scope: string) =>
      h.issuer.sign({ userId: team.member.id, organizationId: team.organizationId, scope });
    const readOnly = await token("entries:read");
    const scopeRefusal = {
      code: "INSUFFICIENT_SCOPE",
      message: "This operation needs the entries:write scope",
      details: { required_scope: "entries:write" },
    };

    const answeredKey = crypto.randomUUID();
    const bad = { ...entry("refused"), end_time: "2026-11-28T08:00:00Z" };
    expect((await post(answeredKey, bad)).status).toBe(400);
    const otherToken = await post(answeredKey, bad, readOnly);
    expect([otherToken.status, otherToken.headers.get("Idempotent-Replayed")]).toEqual([403, null]);
    expect(otherToken.body).toEqual({ error: scopeRefusal });
    expect(otherToken.headers.get("WWW-Authenticate")).toContain('error="insufficient_scope"');

    const key = crypto.randomUUID();
    const refused = await post(key, entry("once the token has the scope"), readOnly);
    expect(refused.body).toEqual({ error: scopeRefusal });
    expect(await h.sql("select key from idempotency_keys where key = $1", [key])).toEqual([]);
    const allowed = await post(key, entry("once the token has the scope"), await token("entries:read entries:write"));
    expect([allowed.status, allowed.headers.get("Idempotent-Replayed")]).toEqual([201, null]);
  });

  it("costs no extra round trip: the claim and the answer travel with the write, and a retry costs one", async () => {
    const key = crypto.randomUUID();
    expect(await h.roundTrips(() => post(key, entry("counted")))).toBe(1);
    expect(await h.roundTrips(() => post(key, entry("counted")))).toBe(1);
    expect(
      await h.roundTrips(() => h.call("POST", "/v1/time-entries", { token: team.member.token, body: entry("no key") })),
    ).toBe(1);
  });

  describe("a retry is answered for the caller as they are now", () => {
    const setMembership = (member: Member, change: "removed" | "member" | "admin") =>
      h.sql(
        change === "removed"
          ? "update organization_members set status = 'removed', removed_at = now() where organization_id = $1 and user_id = $2"
          : "update organization_members set role = $3 where organization_id = $1 and user_id = $2",
        change === "removed" ? [member.organizationId, member.id] : [member.organizationId, member.id, change],
      );
    const keyed = (member: Member, key: string, path: string, body: unknown) =>
      h.call("POST", path, { token: member.token, body, headers: { "Idempotency-Key": key } });

    it("is 403 once the caller is no longer a member, in one round trip, keeping nothing new", async () => {
      const admin = await createMember(h, team.organizationId, "admin");
      const key = crypto.randomUUID();
      const create = { url: "https://hooks.example.com/removed", events: ["*"] };
      const first = await keyed(admin, key, "/v1/webhooks", create);
      expect(first.status).toBe(201);
      expect(first.body.data.secret).toMatch(/^whsec_/);
      const webhookId = first.body.data.id;
      const rotateKey = crypto.randomUUID();
      const rotated = await keyed(admin, rotateKey, `/v1/webhooks/${webhookId}/rotate-secret`, undefined);
      expect(rotated.status).toBe(200);
      await setMembership(admin, "removed");

      for (const [retryKey, path, body] of [
        [key, "/v1/webhooks", create],
        [rotateKey, `/v1/webhooks/${webhookId}/rotate-secret`, undefined],
      ] as const) {
        const { trips, result: retry } = await h.counted(() => keyed(admin, retryKey, path, body));
        expect([retry.status, trips]).toEqual([403, 1]);
        expect(retry.body).toEqual({
          error: { code: "FORBIDDEN", message: "You are not a member of this organization" },
        });
        expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
      }
      expect(await h.sql("select key from idempotency_keys where user_id = $1", [admin.id])).toHaveLength(2);
    });

    it("keeps nothing under a key for someone who is not an active member: each retry is answered afresh", async () => {
      const removed = await createMember(h, team.organizationId, "admin");
      await setMembership(removed, "removed");
      const outsider = await createUser(h);
      const stranger = { ...removed, id: outsider, token: await h.sessionToken(outsider, team.organizationId) };
      for (const caller of [removed, stranger]) {
        const key = crypto.randomUUID();
        const invalid = { name: "x", [`padding_${"x".repeat(50)}`]: "y".repeat(5000) };
        for (let attempt = 0; attempt < 2; attempt++) {
          const refused = await keyed(caller, key, "/v1/customers", invalid);
          expect([refused.status, refused.headers.get("Idempotent-Replayed")]).toEqual([400, null]);
          const valid = await keyed(caller, crypto.randomUUID(), "/v1/customers", { name: "Acme" });
          expect(valid.status).toBe(403);
          expect(valid.body.error.code).toBe("FORBIDDEN");
        }
        expect(await h.sql("select key from idempotency_keys where user_id = $1", [caller.id])).toEqual([]);
      }
    });

    it("makes the answer again with the lesser role after a demotion: 403 for what the role no longer allows", async () => {
      const admin = await createMember(h, team.organizationId, "admin");
      const webhookKey = crypto.randomUUID();
      const webhook = { url: "https://hooks.example.com/demoted", events: ["*"] };
      expect((await keyed(admin, webhookKey, "/v1/webhooks", webhook)).status).toBe(201);
      const forOtherKey = crypto.randomUUID();
      const forOther = { ...entry("for a colleague"), user_id: team.member.id };
      expect((await keyed(admin, forOtherKey, "/v1/time-entries", forOther)).status).toBe(201);
      const ownKey = crypto.randomUUID();
      const own = await keyed(admin, ownKey, "/v1/time-entries", entry("their own"));
      expect(own.status).toBe(201);
      await setMembership(admin, "member");

      const webhookRetry = await keyed(admin, webhookKey, "/v1/webhooks", webhook);
      expect(webhookRetry.status).toBe(403);
      expect(webhookRetry.body).toEqual({
        error: { code: "FORBIDDEN", message: "Only owners and admins can create webhook subscriptions" },
      });
      const forOtherRetry = await keyed(admin, forOtherKey, "/v1/time-entries", forOther);
      expect(forOtherRetry.status).toBe(403);
      expect(forOtherRetry.body.error.code).toBe("FORBIDDEN");
      // What a member may do is replayed as it was.
      const ownRetry = await keyed(admin, ownKey, "/v1/time-entries", entry("their own"));
      expect(ownRetry.status).toBe(201);
      expect(ownRetry.body).toEqual(own.body);
      expect(ownRetry.headers.get("Idempotent-Replayed")).toBe("true");
      expect(
        await h.sql("select id from webhook_subscriptions where url = 'https://hooks.example.com/demoted'"),
      ).toHaveLength(1);
    });

    it("refuses the replay of an owner's grant of the owner role once the caller is only an admin", async () => {
      const owner = await createMember(h, team.organizationId, "owner");
      const key = crypto.randomUUID();
      const grant = { email: "granted-owner@example.com", role: "owner" };
      const first = await keyed(owner, key, "/v1/members", grant);
      expect(first.status).toBe(201);
      const toAdmin = { email: "granted-admin@example.com", role: "admin" };
      const adminKey = crypto.randomUUID();
      const admin = await keyed(owner, adminKey, "/v1/members", toAdmin);
      expect(admin.status).toBe(201);
      await setMembership(owner, "admin");

      const retry = await keyed(owner, key, "/v1/members", grant);
      expect(retry.status).toBe(403);
      expect(retry.body).toEqual({
        error: {
          code: "FORBIDDEN",
          message: "Only an owner can change an owner or grant the owner role; admins manage the others",
        },
      });
      expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
      // An admin may still add an admin: that answer is replayed as it was.
      const adminRetry = await keyed(owner, adminKey, "/v1/members", toAdmin);
      expect([adminRetry.status, adminRetry.headers.get("Idempotent-Replayed")]).toEqual([201, "true"]);
      expect(adminRetry.body).toEqual(admin.body);
    });

    it("replays a refusal of the database as it was after a demotion, and makes one drawn from the write's result again", async () => {
      const admin = await createMember(h, team.organizationId, "admin");
      const pingKey = crypto.randomUUID();
      const ping = `/v1/webhooks/${crypto.randomUUID()}/ping`;
      expect((await keyed(admin, pingKey, ping, undefined)).status).toBe(404);
      const number = `INV-${crypto.randomUUID().slice(0, 8)}`;
      const customerId = await createCustomer(h, team.organizationId);
      await createInvoice(h, team.organizationId, { customerId, number });
      const key = crypto.randomUUID();
      const invoice = { customer_id: customerId, number, date: "2026-11-30" };
      const first = await keyed(admin, key, "/v1/invoices", invoice);
      expect([first.status, first.body.error.code]).toEqual([409, "DUPLICATE_NUMBER"]);
      await setMembership(admin, "member");
      const retry = await keyed(admin, key, "/v1/invoices", invoice);
      expect([retry.status, retry.headers.get("Idempotent-Replayed")]).toEqual([409, "true"]);
      expect(retry.body).toEqual(first.body);
      expect((await keyed(admin, crypto.randomUUID(), "/v1/invoices", invoice)).status).toBe(403);
      // The 404 came from the statement's rows, which are judged again with the lesser role.
      const pingRetry = await keyed(admin, pingKey, ping, undefined);
      expect([pingRetry.status, pingRetry.headers.get("Idempotent-Replayed")]).toEqual([403, "true"]);
      expect(pingRetry.body).toEqual({
        error: { code: "FORBIDDEN", message: "Only owners and admins can ping webhook subscriptions" },
      });
    });

    it("replays a refusal as it was after a promotion: the request is not run again", async () => {
      const member = await createMember(h, team.organizationId, "member");
      const key = crypto.randomUUID();
      const first = await keyed(member, key, "/v1/projects", { name: "Before the promotion" });
      expect(first.status).toBe(403);
      await setMembership(member, "admin");
      const retry = await keyed(member, key, "/v1/projects", { name: "Before the promotion" });
      expect(retry.status).toBe(403);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
      expect(await h.sql("select id from projects where name = 'Before the promotion'")).toEqual([]);
    });
  });

  it("rejects a malformed key", async () => {
    for (const key of ["", "a b", "x".repeat(256), "é"]) {
      const res = await h.call("POST", "/v1/time-entries", {
        token: team.member.token,
        body: entry("bad key"),
        headers: { "Idempotency-Key": key },
      });
      expect(res.status, JSON.stringify(key)).toBe(400);
      expect(res.body.error.details).toEqual({ "Idempotency-Key": ["Must be 1 to 255 visible ASCII characters"] });
    }
    expect(await h.sql("select id from time_entries where description = 'bad key'")).toEqual([]);
  });
});
