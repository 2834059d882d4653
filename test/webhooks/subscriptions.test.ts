import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import app from "../../src/app";
import { Webhook, WebhookWithSecret } from "../../src/routes/webhooks/webhooks.schemas";
import { EVENT_TYPES } from "../../src/webhooks/event-types";
import { createMember, createOrganization, createTeam, type Team } from "../support/factories";
import { type CallOptions, callWith, type Harness, isoFromPostgres, startHarness } from "../support/harness";
import { expectNoOpPatch } from "../support/no-op";
import { allowSubscriptions, subscribe } from "../support/webhooks";

let h: Harness;
let team: Team;

beforeAll(async () => {
  h = await startHarness();
});
// Each test its own organization: an organization keeps at most 20 subscriptions, and the tests make more.
beforeEach(async () => {
  team = await createTeam(h);
});
afterAll(() => h?.close());

const url = "https://hooks.example.com/time-entries";
const create = (body: object, token = team.owner.token) => h.call("POST", "/v1/webhooks", { token, body });
const stored = async (id: string) => (await h.sql("select * from webhook_subscriptions where id = $1", [id]))[0];
const secretPattern = /^whsec_[A-Za-z0-9+/]{43}=$/;
const eventsMessage = `Give ["*"] alone, or 1 to ${EVENT_TYPES.length} distinct event types`;

describe("POST /v1/webhooks", () => {
  it("subscribes a URL and shows its secret, once: 201 with Location and ETag", async () => {
    // A set of event types, kept in alphabetical order.
    const res = await create({ url, events: ["time_entry.updated", "time_entry.created"], description: "Payroll" });
    expect(res.status).toBe(201);
    const id = res.body.data.id;
    const row = await stored(id);
    expect(res.headers.get("Location")).toBe(`/v1/webhooks/${id}`);
    expect(res.headers.get("ETag")).toBe('"1"');
    expect(res.body).toEqual({
      data: {
        id,
        url,
        events: ["time_entry.created", "time_entry.updated"],
        description: "Payroll",
        active: true,
        status: "healthy",
        version: 1,
        secret: row?.secret,
        created_at: isoFromPostgres(row?.created_at),
        updated_at: isoFromPostgres(row?.updated_at),
      },
    });
    expect(WebhookWithSecret.parse(res.body.data)).toEqual(res.body.data);
    expect(res.body.data.secret).toMatch(secretPattern);
    expect(Buffer.from(res.body.data.secret.slice(6), "base64")).toHaveLength(32);

    const read = await h.call("GET", `/v1/webhooks/${id}`, { token: team.admin.token });
    expect(read.status).toBe(200);
    const { secret: _, ...withoutSecret } = res.body.data;
    expect(read.body).toEqual({ data: withoutSecret });
    expect(Webhook.strict().parse(read.body.data)).toEqual(read.body.data);
    const list = await h.call("GET", "/v1/webhooks?limit=100", { token: team.owner.token });
    expect(list.body.data).toContainEqual(withoutSecret);
    expect(JSON.stringify(list.body)).not.toContain("whsec_");
  });

  it("gives every subscription its own secret, and starts an inactive one disabled", async () => {
    const first = await create({ url, events: ["*"] });
    const second = await create({ url, events: ["*"], active: false });
    expect(first.body.data.secret).not.toBe(second.body.data.secret);
    expect(second.body.data).toMatchObject({ active: false, status: "disabled" });
  });

  it("refuses malformed event lists and unknown fields with 400 VALIDATION_ERROR", async () => {
    const cases: [object, Record<string, string[]>][] = [
      [{ url, events: [] }, { events: [eventsMessage] }],
      [{ url, events: ["*", "timer.started"] }, { events: [eventsMessage] }],
      [{ url, events: ["timer.started", "timer.started"] }, { events: ["Must not repeat an event type"] }],
      [{ url, events: ["webhook.ping"] }, { "events.0": [expect.stringMatching(/^Must be \* or one of: /)] }],
      [{ url }, { events: [expect.any(String)] }],
      [{ url, events: ["*"], secret: "whsec_mine" }, { secret: ["Unknown field"] }],
    ];
    for (const [body, details] of cases) {
      const res = await create(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error).toEqual({ code: "VALIDATION_ERROR", message: "Invalid request body", details });
    }
  });

  it("keeps an organization to 20 subscriptions, disabled ones included: creations racing for the last places get them once, the others 409 WEBHOOK_LIMIT_REACHED", async () => {
    const owner = await createMember(h, await createOrganization(h, "Many hooks"), "owner");
    const count = async () =>
      Number(
        (
          await h.sql("select count(*) from webhook_subscriptions where organization_id = $1", [owner.organizationId])
        )[0]?.count,
      );
    for (let i = 0; i < 17; i++) await subscribe(h, owner.organizationId, { active: i % 2 === 0 });
    const racing = await Promise.all(Array.from({ length: 6 }, () => create({ url, events: ["*"] }, owner.token)));
    expect(racing.map((res) => res.status).sort()).toEqual([201, 201, 201, 409, 409, 409]);
    for (const refused of racing.filter((res) => res.status === 409)) {
      expect(refused.body).toEqual({
        error: {
          code: "WEBHOOK_LIMIT_REACHED",
          message: "The organization has reached its limit of 20 webhook subscriptions; delete one first",
          details: { limit: 20 },
        },
      });
    }
    expect(await count()).toBe(20);
    await expect(subscribe(h, owner.organizationId)).rejects.toThrow(/20 at most/);

    // Another organization is not counted, and deleting one makes room again.
    expect((await create({ url, events: ["*"] })).status).toBe(201);
    const created = racing.find((res) => res.status === 201)?.body.data.id;
    expect((await h.call("DELETE", `/v1/webhooks/${created}`, { token: owner.token })).status).toBe(204);
    expect((await create({ url, events: ["*"] }, owner.token)).status).toBe(201);
    expect(await count()).toBe(20);

    // An operator raises one organization's limit in SQL; the answer names the limit it has.
    await allowSubscriptions(h, owner.organizationId, 21);
    expect((await create({ url, events: ["*"] }, owner.token)).status).toBe(201);
    const over = await create({ url, events: ["*"] }, owner.token);
    expect([over.status, over.body.error.details]).toEqual([409, { limit: 21 }]);
    expect(await count()).toBe(21);
  });
});

describe("URLs that could reach a private network (SSRF)", () => {
  const refused: [string, string][] = [
    ["http://hooks.example.com/", "Must be an https URL"],
    ["ftp://hooks.example.com/", "Must be an https URL"],
    ["https://user:secret@hooks.example.com/", "Must not contain credentials"],
    ["https://10.0.0.8/hooks", "Must not be a private address"],
    ["https://172.16.5.4/hooks", "Must not be a private address"],
    ["https://192.168.1.1/hooks", "Must not be a private address"],
    ["https://[fd00:ec2::254]/latest", "Must not be a private address"],
    ["https://127.0.0.1:8787/hooks", "Must not be a loopback address"],
    ["https://0x7f.1/hooks", "Must not be a loopback address"],
    ["https://2130706433/hooks", "Must not be a loopback address"],
    ["https://[::1]/hooks", "Must not be a loopback address"],
    ["https://[::ffff:127.0.0.1]/hooks", "Must not be a loopback address"],
    ["https://[::ffff:0:127.0.0.1]/hooks", "Must not be a loopback address"],
    ["https://[64:ff9b:1::a9fe:a9fe]/latest", "Must not be a private address"],
    ["https://169.254.169.254/latest/meta-data", "Must not be a link-local or cloud metadata address"],
    ["https://[fe80::1]/hooks", "Must not be a link-local or cloud metadata address"],
    ["https://100.64.0.1/hooks", "Must not be a shared (CGNAT) address"],
    ["https://0.0.0.0/hooks", "Must not be an unspecified, multicast or reserved address"],
    ["https://224.0.0.1/hooks", "Must not be an unspecified, multicast or reserved address"],
    ["https://192.0.2.10/hooks", "Must not be an unspecified, multicast or reserved address"],
    ["https://203.0.113.7/hooks", "Must not be an unspecified, multicast or reserved address"],
    ["https://[2001:db8::1]/hooks", "Must not be an unspecified, multicast or reserved address"],
    ["https://[3fff::1]/hooks", "Must not be an unspecified, multicast or reserved address"],
    ["https://[3fff:fff:ffff::1]/hooks", "Must not be an unspecified, multicast or reserved address"],
    ["https://[2001:2::1]/hooks", "Must not be an unspecified, multicast or reserved address"],
    ["https://[2001:1f:ffff::1]/hooks", "Must not be an unspecified, multicast or reserved address"],
    ["https://[5f00::1]/hooks", "Must not be an unspecified, multicast or reserved address"],
    ["https://192.88.99.1/hooks", "Must not be an unspecified, multicast or reserved address"],
    [
      "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hooks",
      "Must not be an unspecified, multicast or reserved address",
    ],
    ["https://localhost/hooks", "Must not be localhost"],
    ["https://api.localhost/hooks", "Must not be localhost"],
    ["https://metadata.google.internal/computeMetadata", "Must not be an .internal or .local name"],
    ["https://printer.local/hooks", "Must not be an .internal or .local name"],
    ["https://intranet/hooks", "Must be a public domain name"],
    ["https://a..example/hooks", "Must be a public domain name"],
    ["https://-a.example/hooks", "Must be a public domain name"],
    ["https://a-.example/hooks", "Must be a public domain name"],
    [`https://${"a".repeat(64)}.example/hooks`, "Must be a public domain name"],
    [`https://${`${"a".repeat(63)}.`.repeat(4)}com/hooks`, "Must be a public domain name"],
    ["not a url", "Must be an absolute URL"],
    ["https://hooks.example.com:0/hooks", "Must name a port from 1 to 65535"],
    ["https://hooks.example.com:65536/hooks", "Must name a port from 1 to 65535"],
    ["https://user@hooks.example.com:99999999", "Must name a port from 1 to 65535"],
  ];

  it.each(refused)("refuses %s with 400 on url: %s", async (target, message) => {
    const expected = { code: "VALIDATION_ERROR", message: "Invalid url", details: { url: [message] } };
    const created = await create({ url: target, events: ["*"] });
    expect(created.status).toBe(400);
    expect(created.body.error).toEqual(expected);
    const { id } = await subscribe(h, team.organizationId);
    const patched = await h.call("PATCH", `/v1/webhooks/${id}`, { token: team.owner.token, body: { url: target } });
    expect(patched.status).toBe(400);
    expect(patched.body.error).toEqual(expected);
    expect((await stored(id))?.url).toBe(url);
  });

  it("accepts public addresses and names", async () => {
    for (const target of [
      "https://8.8.8.8/hooks",
      "https://[2606:4700::1111]/hooks",
      // Just outside 3fff::/20, RFC 9637's documentation range.
      "https://[3fff:1000::1]/hooks",
      "https://[3ff0::1]/hooks",
      // Beside the benchmarking and ORCHID ranges: 2001:2:1::/48 and 2001:20::/28 are public.
      "https://[2001:2:1::1]/hooks",
      "https://[2001:20::1]/hooks",
      "https://192.88.98.1/hooks",
      "https://hooks.example.com:8443/x",
      `https://${"a".repeat(63)}.example/x`,
      "https://xn--bcher-kva.example/x",
      "https://my_hooks.example.com/x",
    ]) {
      expect((await create({ url: target, events: ["*"] })).status, target).toBe(201);
    }
  });

  it("holds the stored, normalised URL to 2000 characters: what GET answers can be written back", async () => {
    // 1,970 é are 1,996 characters as sent and 11,846 once percent-encoded.
    const long = `https://hooks.example.com/${"é".repeat(1970)}`;
    const refused = await create({ url: long, events: ["*"] });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual({ url: ["Must be at most 2000 characters, as stored (normalised)"] });
    const fits = await create({ url: `https://hooks.example.com/${"é".repeat(320)}`, events: ["*"] });
    expect(fits.status).toBe(201);
    expect(fits.body.data.url).toHaveLength(26 + 320 * 6);
    const again = await h.call("PATCH", `/v1/webhooks/${fits.body.data.id}`, {
      token: team.owner.token,
      body: { url: fits.body.data.url },
    });
    expect([again.status, again.body.data?.version]).toEqual([200, 1]);
  });

  it("stores and answers the URL as it will be called: normalised, spaces and tabs gone", async () => {
    const res = await create({ url: " https://Hooks.Example.COM:443/a\tb/../c?x=1 ", events: ["*"] });
    expect(res.status).toBe(201);
    expect(res.body.data.url).toBe("https://hooks.example.com/c?x=1");
    expect((await stored(res.body.data.id))?.url).toBe("https://hooks.example.com/c?x=1");
    const patched = await h.call("PATCH", `/v1/webhooks/${res.body.data.id}`, {
      token: team.owner.token,
      body: { url: "https://HOOKS.example.com/%7Euser/\n" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.data.url).toBe("https://hooks.example.com/%7Euser/");
  });

  it("accepts http://127.0.0.1:PORT only with the local-development switch (on under npm start)", async () => {
    const local = { url: "http://127.0.0.1:9999/hooks", events: ["*"] };
    expect((await create(local)).body.error.details).toEqual({ url: ["Must be an https URL"] });
    const env = { ...h.env, WEBHOOK_ALLOW_LOOPBACK: "true" };
    const callLocally = (options: CallOptions) =>
      callWith((init) => app.request("/v1/webhooks", init, env), "POST", options);
    expect((await callLocally({ token: team.owner.token, body: local })).status).toBe(201);
    const localhost = { url: "http://localhost:9999/hooks", events: ["*"] };
    expect((await callLocally({ token: team.owner.token, body: localhost })).status).toBe(400);
  });
});

describe("GET /v1/webhooks and /v1/webhooks/{id}", () => {
  it("answers the event types a subscription written in SQL is delivered: a NULL among them matches none", async () => {
    // In an array literal the bare word NULL is a null element, and no check refuses it: it went out as null in
    // `events`, a list of strings in the contract.
    const { id } = await subscribe(h, team.organizationId, { events: ["time_entry.created", "NULL"] });
    expect((await stored(id))?.events).toBe("{time_entry.created,NULL}");
    const read = await h.call("GET", `/v1/webhooks/${id}`, { token: team.owner.token });
    expect(Webhook.parse(read.body.data)).toEqual(read.body.data);
    expect(read.body.data.events).toEqual(["time_entry.created"]);
    const list = await h.call("GET", "/v1/webhooks", { token: team.owner.token });
    expect(list.body.data.map((webhook: { events: string[] }) => webhook.events)).toEqual([["time_entry.created"]]);
  });
});

describe("PATCH and DELETE /v1/webhooks/{id}", () => {
  it("disables and re-enables a subscription; re-enabling forgets its failures", async () => {
    const { id } = await subscribe(h, team.organizationId);
    await h.sql("update webhook_subscriptions set status = 'failing', consecutive_failures = 3 where id = $1", [id]);
    const off = await h.call("PATCH", `/v1/webhooks/${id}`, { token: team.owner.token, body: { active: false } });
    expect(off.status).toBe(200);
    expect(off.body.data).toMatchObject({ active: false, status: "disabled", version: 3 });
    expect(off.headers.get("ETag")).toBe('"3"');
    const on = await h.call("PATCH", `/v1/webhooks/${id}`, {
      token: team.admin.token,
      body: { active: true, events: ["timer.started"], description: null },
      headers: { "If-Match": '"3"' },
    });
    expect(on.status).toBe(200);
    expect(on.body.data).toMatchObject({
      active: true,
      status: "healthy",
      events: ["timer.started"],
      description: null,
    });
    expect(await stored(id)).toMatchObject({ consecutive_failures: "0" });
  });

  it("changes nothing when every given field has that value: a failing subscription stays failing", async () => {
    const own = await createTeam(h);
    const { id } = await subscribe(h, own.organizationId, { events: ["timer.started", "timer.stopped"] });
    await h.sql("update webhook_subscriptions set status = 'failing', consecutive_failures = 2 where id = $1", [id]);
    await expectNoOpPatch(h, {
      path: `/v1/webhooks/${id}`,
      token: own.admin.token,
      organizationId: own.organizationId,
      // The URL as it is stored once normalised, the same event types in another order (a set); true for an active
      // subscription does not re-enable it.
      same: {
        url: " HTTPS://Hooks.Example.COM/time-entries",
        events: ["timer.stopped", "timer.started"],
        active: true,
      },
      change: { events: ["timer.stopped"], description: null },
    });
    expect(await stored(id)).toMatchObject({ status: "failing", consecutive_failures: "2" });
    const member = await h.call("PATCH", `/v1/webhooks/${id}`, { token: own.member.token, body: { active: true } });
    expect(member.status).toBe(403);
  });

  it("answers 412 to a stale If-Match and changes nothing", async () => {
    const { id } = await subscribe(h, team.organizationId);
    const res = await h.call("PATCH", `/v1/webhooks/${id}`, {
      token: team.owner.token,
      body: { active: false },
      headers: { "If-Match": '"2"' },
    });
    expect(res.status).toBe(412);
    expect(res.body.error.code).toBe("PRECONDITION_FAILED");
    expect(await stored(id)).toMatchObject({ active: "t", version: "1" });
  });

  it("deletes a subscription with its deliveries log", async () => {
    const { id } = await subscribe(h, team.organizationId);
    await h.call("POST", `/v1/webhooks/${id}/ping`, { token: team.owner.token });
    expect(await h.sql("select id from webhook_deliveries where subscription_id = $1", [id])).toHaveLength(1);
    expect((await h.call("DELETE", `/v1/webhooks/${id}`, { token: team.owner.token })).status).toBe(204);
    expect((await h.call("GET", `/v1/webhooks/${id}`, { token: team.owner.token })).status).toBe(404);
    expect(await h.sql("select id from webhook_deliveries where subscription_id = $1", [id])).toEqual([]);
  });
});

describe("POST /v1/webhooks/{id}/rotate-secret", () => {
  it("issues a new secret and keeps the previous one signing for 24 hours", async () => {
    const { id, secret } = await subscribe(h, team.organizationId);
    const res = await h.call("POST", `/v1/webhooks/${id}/rotate-secret`, { token: team.admin.token });
    expect(res.status).toBe(200);
    expect(res.body.data.secret).toMatch(secretPattern);
    expect(res.body.data.secret).not.toBe(secret);
    expect(res.body.data.version).toBe(2);
    expect(res.headers.get("ETag")).toBe('"2"');
    const [row] = await h.sql(
      `select secret, previous_secret,
         extract(epoch from previous_secret_expires_at - now()) between 86390 and 86400 as in_24_hours
       from webhook_subscriptions where id = $1`,
      [id],
    );
    expect(row).toEqual({ secret: res.body.data.secret, previous_secret: secret, in_24_hours: "t" });
    const again = await h.call("POST", `/v1/webhooks/${id}/rotate-secret`, { token: team.owner.token });
    expect((await stored(id))?.previous_secret).toBe(res.body.data.secret);
    expect((await stored(id))?.secret).toBe(again.body.data.secret);
  });

  it("honours If-Match: a stale version is 412 and keeps the secrets, the current one rotates", async () => {
    const { id, secret } = await subscribe(h, team.organizationId);
    const rotate = (ifMatch: string) =>
      h.call("POST", `/v1/webhooks/${id}/rotate-secret`, { token: team.owner.token, headers: { "If-Match": ifMatch } });
    const stale = await rotate('"2"');
    expect([stale.status, stale.body.error?.code]).toEqual([412, "PRECONDITION_FAILED"]);
    expect(await stored(id)).toMatchObject({ secret, previous_secret: null, version: "1" });
    const current = await rotate('"1"');
    expect([current.status, current.body.data?.version]).toEqual([200, 2]);
    expect((await stored(id))?.previous_secret).toBe(secret);
  });
});

describe("ping, deliveries and retry", () => {
  it("pings a subscription whatever its events: a webhook.ping event and its pending delivery, 202", async () => {
    const { id } = await subscribe(h, team.organizationId, { events: ["invoice.created"] });
    const res = await h.call("POST", `/v1/webhooks/${id}/ping`, { token: team.owner.token });
    expect(res.status).toBe(202);
    const [delivery] = await h.sql("select * from webhook_deliveries where subscription_id = $1", [id]);
    const [event] = await h.sql("select type, data::text from webhook_events where id = $1", [delivery?.event_id]);
    expect(res.body).toEqual({
      data: {
        id: delivery?.id,
        event_id: delivery?.event_id,
        event_type: "webhook.ping",
        status: "pending",
        attempts: 0,
        response_status: null,
        duration_ms: null,
        error: null,
        next_retry_at: null,
        last_attempt_at: null,
        delivered_at: null,
        created_at: isoFromPostgres(delivery?.created_at),
      },
    });
    const subscription = (await h.call("GET", `/v1/webhooks/${id}`, { token: team.owner.token })).body.data;
    expect({ type: event?.type, data: JSON.parse(event?.data ?? "") }).toEqual({
      type: "webhook.ping",
      data: subscription,
    });
  });

  it("refuses to ping or retry for a disabled subscription: 409 WEBHOOK_DISABLED", async () => {
    const { id } = await subscribe(h, team.organizationId);
    await h.call("POST", `/v1/webhooks/${id}/ping`, { token: team.owner.token });
    const [delivery] = await h.sql("select id from webhook_deliveries where subscription_id = $1", [id]);
    await h.call("PATCH", `/v1/webhooks/${id}`, { token: team.owner.token, body: { active: false } });
    const disabled = {
      code: "WEBHOOK_DISABLED",
      message: "The webhook subscription is disabled; PATCH it with active: true first",
    };
    const ping = await h.call("POST", `/v1/webhooks/${id}/ping`, { token: team.owner.token });
    expect([ping.status, ping.body.error]).toEqual([409, disabled]);
    const retry = await h.call("POST", `/v1/webhooks/${id}/deliveries/${delivery?.id}/retry`, {
      token: team.owner.token,
    });
    expect([retry.status, retry.body.error]).toEqual([409, disabled]);
    expect(await h.sql("select id from webhook_deliveries where subscription_id = $1", [id])).toHaveLength(1);
  });

  it("lists deliveries newest first with a cursor and a status filter, and retries one", async () => {
    const { id } = await subscribe(h, team.organizationId);
    for (let i = 0; i < 3; i++) await h.call("POST", `/v1/webhooks/${id}/ping`, { token: team.owner.token });
    const rows = await h.sql(
      "select id from webhook_deliveries where subscription_id = $1 order by created_at desc, id desc",
      [id],
    );
    await h.sql(
      "update webhook_deliveries set status = 'failed', attempts = 8, response_status = 500, error = 'The receiver answered 500' where id = $1",
      [rows[2]?.id],
    );
    const first = await h.call("GET", `/v1/webhooks/${id}/deliveries?limit=2`, { token: team.admin.token });
    expect(first.body.data.map((d: { id: string }) => d.id)).toEqual([rows[0]?.id, rows[1]?.id]);
    const next = await h.call("GET", `/v1/webhooks/${id}/deliveries?limit=2&cursor=${first.body.meta.next_cursor}`, {
      token: team.admin.token,
    });
    expect(next.body).toMatchObject({ data: [{ id: rows[2]?.id, status: "failed" }], meta: { next_cursor: null } });
    const failed = await h.call("GET", `/v1/webhooks/${id}/deliveries?status=failed`, { token: team.owner.token });
    expect(failed.body.data.map((d: { id: string }) => d.id)).toEqual([rows[2]?.id]);

    const retried = await h.call("POST", `/v1/webhooks/${id}/deliveries/${rows[2]?.id}/retry`, {
      token: team.owner.token,
    });
    expect(retried.status).toBe(202);
    expect(retried.body.data).toMatchObject({ id: rows[2]?.id, status: "pending", attempts: 8, next_retry_at: null });
    const [row] = await h.sql(
      "select enqueued_at, requested_at > now() - interval '1 minute' as fresh from webhook_deliveries where id = $1",
      [rows[2]?.id],
    );
    expect(row).toEqual({ enqueued_at: null, fresh: "t" });
  });

  it("answers 404 for another subscription's delivery, and for an unknown one", async () => {
    const mine = await subscribe(h, team.organizationId);
    const other = await subscribe(h, team.organizationId);
    await h.call("POST", `/v1/webhooks/${other.id}/ping`, { token: team.owner.token });
    const [delivery] = await h.sql("select id from webhook_deliveries where subscription_id = $1", [other.id]);
    for (const deliveryId of [delivery?.id, crypto.randomUUID()]) {
      const res = await h.call("POST", `/v1/webhooks/${mine.id}/deliveries/${deliveryId}/retry`, {
        token: team.owner.token,
      });
      expect(res.status).toBe(404);
      expect(res.body.error).toEqual({ code: "NOT_FOUND", message: "Delivery not found" });
    }
  });
});

describe("who may manage webhooks", () => {
  it("refuses members, even reading: 403 FORBIDDEN", async () => {
    const { id } = await subscribe(h, team.organizationId);
    for (const [method, path] of [
      ["GET", "/v1/webhooks"],
      ["GET", `/v1/webhooks/${id}`],
      ["GET", `/v1/webhooks/${id}/deliveries`],
      ["POST", `/v1/webhooks/${id}/ping`],
      ["POST", `/v1/webhooks/${id}/rotate-secret`],
      ["DELETE", `/v1/webhooks/${id}`],
    ] as const) {
      const res = await h.call(method, path, { token: team.member.token });
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.code).toBe("FORBIDDEN");
    }
    expect((await create({ url, events: ["*"] }, team.member.token)).status).toBe(403);
  });

  it("answers 404 for another organization's subscription, and leaves it alone", async () => {
    const stranger = await createMember(h, await createOrganization(h, "Elsewhere"), "owner");
    const { id } = await subscribe(h, stranger.organizationId);
    for (const [method, path, body] of [
      ["GET", `/v1/webhooks/${id}`, undefined],
      ["PATCH", `/v1/webhooks/${id}`, { active: false }],
      ["POST", `/v1/webhooks/${id}/rotate-secret`, undefined],
      ["POST", `/v1/webhooks/${id}/ping`, undefined],
      ["GET", `/v1/webhooks/${id}/deliveries`, undefined],
      ["DELETE", `/v1/webhooks/${id}`, undefined],
    ] as const) {
      const res = await h.call(method, path, { token: team.owner.token, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error).toEqual({ code: "NOT_FOUND", message: "Webhook subscription not found" });
    }
    expect(await stored(id)).toMatchObject({ active: "t", version: "1" });
    expect(await h.sql("select id from webhook_deliveries where subscription_id = $1", [id])).toEqual([]);
  });
});
