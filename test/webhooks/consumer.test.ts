// The queue consumer in Node, with stand-ins for a batch's messages: what it does when our own database fails.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDb } from "../../src/db/client";
import { consumeWebhooks } from "../../src/webhooks/consumer";
import { recordAttempts } from "../../src/webhooks/delivery.queries";
import { DEAD_LETTER_QUEUE, DELIVERY_QUEUE, type DeliveryMessage } from "../../src/webhooks/queues";
import { createTeam } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { insertDelivery, startReceiver, subscribe } from "../support/webhooks";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

/** A batch of `queue` with one message per delivery id and `attempts`, recording what the consumer does to each. */
function batchOf(queue: string, messages: { id: string; attempts: number }[], requestedAt?: string) {
  const outcomes: Record<string, unknown> = {};
  const batch = {
    queue,
    messages: messages.map(({ id, attempts }) => ({
      id: crypto.randomUUID(),
      timestamp: new Date(),
      body: requestedAt ? { delivery_id: id, requested_at: requestedAt } : { delivery_id: id },
      attempts,
      ack: () => {
        outcomes[id] = "ack";
      },
      retry: (options: unknown) => {
        outcomes[id] = { retry: options };
      },
    })),
    ackAll: () => {
      for (const { id } of messages) outcomes[id] = "ack";
    },
    retryAll: (options: unknown) => {
      for (const { id } of messages) outcomes[id] = { retry: options };
    },
  };
  return { batch: batch as unknown as MessageBatch<DeliveryMessage>, outcomes };
}

describe("the consumer when the database cannot be reached", () => {
  it("retries each message with the backoff of its attempt instead of failing the batch (retried at once)", async () => {
    const team = await createTeam(h);
    const subscription = { organizationId: team.organizationId, id: (await subscribe(h, team.organizationId)).id };
    const [first, third, last] = [
      await insertDelivery(h, subscription),
      await insertDelivery(h, subscription),
      await insertDelivery(h, subscription),
    ];
    // A database endpoint that is down: every SQL request answers 503.
    const down = createServer((_req, res) => res.writeHead(503).end("unavailable"));
    await new Promise<void>((resolve) => down.listen(0, "127.0.0.1", resolve));
    const unreachable = { ...h.env, SQL_HTTP_ENDPOINT: `http://127.0.0.1:${(down.address() as AddressInfo).port}/sql` };
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const deliveries = batchOf(DELIVERY_QUEUE, [
        { id: first as string, attempts: 1 },
        { id: third as string, attempts: 3 },
        { id: last as string, attempts: 8 },
      ]);
      await expect(consumeWebhooks(deliveries.batch, unreachable)).resolves.toBeUndefined();
      expect(deliveries.outcomes).toEqual({
        [first as string]: { retry: { delaySeconds: 30 } },
        [third as string]: { retry: { delaySeconds: 480 } },
        // The last attempt: on to the dead-letter queue, as after a receiver's failure.
        [last as string]: { retry: {} },
      });

      const deadLetters = batchOf(DEAD_LETTER_QUEUE, [
        { id: first as string, attempts: 1 },
        { id: third as string, attempts: 4 },
        { id: last as string, attempts: 10 },
      ]);
      await expect(consumeWebhooks(deadLetters.batch, unreachable)).resolves.toBeUndefined();
      expect(deadLetters.outcomes).toEqual({
        [first as string]: { retry: { delaySeconds: 60 } },
        [third as string]: { retry: { delaySeconds: 3840 } },
        [last as string]: { retry: { delaySeconds: 43_200 } },
      });
      expect(errors).toHaveBeenCalled();
      // The statement's parameters stay out of the log.
      expect(JSON.stringify(errors.mock.calls)).not.toContain(first as string);
    } finally {
      errors.mockRestore();
      down.closeAllConnections();
      await new Promise((resolve) => down.close(resolve));
    }
    const rows = await h.sql("select status, attempts from webhook_deliveries where id = any($1::uuid[])", [
      `{${first},${third},${last}}`,
    ]);
    expect(rows).toEqual(Array(3).fill({ status: "pending", attempts: "0" }));
  });
});

describe("the consumer under a configuration that does not parse", () => {
  it("retries each message with the default backoff, as in an outage, rather than failing the batch", async () => {
    const team = await createTeam(h);
    const subscription = { organizationId: team.organizationId, id: (await subscribe(h, team.organizationId)).id };
    const [first, second] = [await insertDelivery(h, subscription), await insertDelivery(h, subscription)];
    const misconfigured = { ...h.env, WEBHOOK_TIMEOUT_MS: "10s" };
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const deliveries = batchOf(DELIVERY_QUEUE, [
        { id: first as string, attempts: 1 },
        { id: second as string, attempts: 2 },
      ]);
      await expect(consumeWebhooks(deliveries.batch, misconfigured)).resolves.toBeUndefined();
      expect(deliveries.outcomes).toEqual({
        [first as string]: { retry: { delaySeconds: 30 } },
        [second as string]: { retry: { delaySeconds: 120 } },
      });
      const deadLetters = batchOf(DEAD_LETTER_QUEUE, [{ id: first as string, attempts: 1 }]);
      await expect(consumeWebhooks(deadLetters.batch, misconfigured)).resolves.toBeUndefined();
      expect(deadLetters.outcomes).toEqual({ [first as string]: { retry: { delaySeconds: 60 } } });
      expect(JSON.stringify(errors.mock.calls)).toContain("WEBHOOK_TIMEOUT_MS must be a positive whole number");
    } finally {
      errors.mockRestore();
    }
  });

  it("still delivers when only settings of the API's requests are broken (tokens, rate limits)", async () => {
    const team = await createTeam(h);
    const receiver = await startReceiver();
    const env = { ...h.env, WEBHOOK_ALLOW_LOOPBACK: "true", SESSION_JWT_SECRET: "short", RATE_LIMIT_REQUESTS: "-1" };
    try {
      const subscription = await subscribe(h, team.organizationId, { url: receiver.url, secret: receiver.secret });
      const id = (await insertDelivery(h, { organizationId: team.organizationId, id: subscription.id })) as string;
      const deliveries = batchOf(DELIVERY_QUEUE, [{ id, attempts: 1 }]);
      await consumeWebhooks(deliveries.batch, env);
      expect([deliveries.outcomes, receiver.received.length]).toEqual([{ [id]: "ack" }, 1]);
    } finally {
      await receiver.close();
    }
  });
});

describe("the consumer after a manual retry (a new schedule)", () => {
  it("drops the earlier schedule's messages: no second send, and its dead letter fails nothing", async () => {
    const team = await createTeam(h);
    const receiver = await startReceiver();
    const env = { ...h.env, WEBHOOK_ALLOW_LOOPBACK: "true" };
    try {
      const subscription = await subscribe(h, team.organizationId, { url: receiver.url, secret: receiver.secret });
      const id = (await insertDelivery(h, { organizationId: team.organizationId, id: subscription.id })) as string;
      const requestedAt = async () =>
        (
          await h.sql(
            `select to_char(requested_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at
             from webhook_deliveries where id = $1`,
            [id],
          )
        )[0]?.at as string;
      const earlier = await requestedAt();

      const retried = await h.call("POST", `/v1/webhooks/${subscription.id}/deliveries/${id}/retry`, {
        token: team.owner.token,
      });
      expect(retried.status).toBe(202);
      const current = await requestedAt();
      expect(current).not.toBe(earlier);

      // The earlier schedule's last attempt reaches the dead letters: the new schedule goes on.
      const dead = batchOf(DEAD_LETTER_QUEUE, [{ id, attempts: 1 }], earlier);
      await consumeWebhooks(dead.batch, env);
      expect(dead.outcomes).toEqual({ [id]: "ack" });
      const [afterDead] = await h.sql(
        "select d.status, s.status as subscription, s.consecutive_failures from webhook_deliveries d join webhook_subscriptions s on s.id = d.subscription_id where d.id = $1",
        [id],
      );
      expect(afterDead).toEqual({ status: "pending", subscription: "healthy", consecutive_failures: "0" });

      // A retry of the earlier schedule: acknowledged without a request.
      const stale = batchOf(DELIVERY_QUEUE, [{ id, attempts: 3 }], earlier);
      await consumeWebhooks(stale.batch, env);
      expect(stale.outcomes).toEqual({ [id]: "ack" });
      expect(receiver.received).toHaveLength(0);

      // The new schedule's message sends it, once.
      const fresh = batchOf(DELIVERY_QUEUE, [{ id, attempts: 1 }], current);
      await consumeWebhooks(fresh.batch, env);
      expect(fresh.outcomes).toEqual({ [id]: "ack" });
      expect(receiver.received).toHaveLength(1);
      const [delivered] = await h.sql("select status, attempts from webhook_deliveries where id = $1", [id]);
      expect(delivered).toEqual({ status: "delivered", attempts: "1" });
    } finally {
      await receiver.close();
    }
  });
});

describe("a subscription whose stored URL the rules refuse", () => {
  it("fails the delivery without a request and disables the subscription, as a 410 does", async () => {
    const team = await createTeam(h);
    const subscription = await subscribe(h, team.organizationId);
    // Written in SQL, past the API's rules (or refused by a rule newer than the subscription).
    await h.sql("update webhook_subscriptions set url = 'https://10.0.0.1/hook' where id = $1", [subscription.id]);
    const id = (await insertDelivery(h, { organizationId: team.organizationId, id: subscription.id })) as string;
    const batch = batchOf(DELIVERY_QUEUE, [{ id, attempts: 1 }]);
    await consumeWebhooks(batch.batch, h.env);
    expect(batch.outcomes).toEqual({ [id]: "ack" });
    const [row] = await h.sql(
      `select d.status, d.attempts, d.error, d.last_attempt_at, s.active, s.status as subscription
       from webhook_deliveries d join webhook_subscriptions s on s.id = d.subscription_id where d.id = $1`,
      [id],
    );
    expect(row).toEqual({
      status: "failed",
      attempts: "0",
      error:
        "The URL is refused: Must not be a private address; the subscription is disabled: change its URL and set it active again",
      last_attempt_at: null,
      active: "f",
      subscription: "disabled",
    });

    // Not set active again on that URL: a new one (checked by the rules) must come with it.
    const patch = (body: object) =>
      h.call("PATCH", `/v1/webhooks/${subscription.id}`, { token: team.owner.token, body });
    const again = await patch({ active: true });
    expect([again.status, again.body]).toEqual([
      400,
      {
        error: {
          code: "VALIDATION_ERROR",
          message: "Invalid url",
          details: {
            url: [
              "The stored URL was refused when an event was to be delivered (must not be a private address); send a url the rules take, with active: true",
            ],
          },
        },
      },
    ]);
    const unchanged = await h.sql("select active, version from webhook_subscriptions where id = $1", [subscription.id]);
    expect(unchanged).toEqual([{ active: "f", version: "3" }]);
    // The refused URL sent again is refused by the rules as it comes.
    expect((await patch({ active: true, url: "https://10.0.0.1/hook" })).status).toBe(400);
    const renamed = await patch({ url: "https://hooks.example.com/moved" });
    expect([renamed.status, renamed.body.data?.active]).toEqual([200, false]);
    const enabled = await patch({ active: true });
    expect([enabled.status, enabled.body.data?.active, enabled.body.data?.status]).toEqual([200, true, "healthy"]);
  });
});

describe("an attempt recorded after the subscription's URL changed", () => {
  it("neither disables it nor keeps a URL as refused: the attempt judged the URL it had", async () => {
    const team = await createTeam(h);
    const db = createDb(h.env.DATABASE_URL as string, h.env.SQL_HTTP_ENDPOINT);
    for (const outcome of ["refused", "gone"] as const) {
      const subscription = await subscribe(h, team.organizationId);
      const id = (await insertDelivery(h, { organizationId: team.organizationId, id: subscription.id })) as string;
      // The consumer read https://10.0.0.1/hook; the owner gave a new URL before the batch was recorded.
      await h.sql("update webhook_subscriptions set url = 'https://hooks.example.com/fixed' where id = $1", [
        subscription.id,
      ]);
      await recordAttempts(db, [
        {
          id,
          outcome,
          attempted: outcome === "gone",
          attempted_at: null,
          response_status: outcome === "gone" ? 410 : null,
          duration_ms: null,
          error: "then",
          retry_in_seconds: null,
          url: "https://10.0.0.1/hook",
        },
      ]);
      const rows = await h.sql("select active, status, refused_url from webhook_subscriptions where id = $1", [
        subscription.id,
      ]);
      expect([outcome, rows]).toEqual([outcome, [{ active: "t", status: "healthy", refused_url: null }]]);
    }
  });

  it("that was delivered to the old URL leaves a failing subscription failing: the new one has not answered yet", async () => {
    const team = await createTeam(h);
    const db = createDb(h.env.DATABASE_URL as string, h.env.SQL_HTTP_ENDPOINT);
    const subscription = await subscribe(h, team.organizationId);
    const id = (await insertDelivery(h, { organizationId: team.organizationId, id: subscription.id })) as string;
    await h.sql(
      "update webhook_subscriptions set url = 'https://hooks.example.com/fixed', status = 'failing', consecutive_failures = 3 where id = $1",
      [subscription.id],
    );
    const attemptedAt = new Date().toISOString();
    await recordAttempts(db, [
      {
        id,
        outcome: "delivered",
        attempted: true,
        attempted_at: attemptedAt,
        response_status: 200,
        duration_ms: 5,
        error: null,
        retry_in_seconds: null,
        url: "https://hooks.example.com/time-entries",
      },
    ]);
    const rows = await h.sql("select status, consecutive_failures from webhook_subscriptions where id = $1", [
      subscription.id,
    ]);
    expect(rows).toEqual([{ status: "failing", consecutive_failures: "3" }]);
  });
});

describe("a receiver that answers 410 Gone", () => {
  it("fails the delivery at once (no retry) and disables the subscription", async () => {
    const team = await createTeam(h);
    const receiver = await startReceiver(() => 410);
    const env = { ...h.env, WEBHOOK_ALLOW_LOOPBACK: "true" };
    try {
      const subscription = await subscribe(h, team.organizationId, { url: receiver.url, secret: receiver.secret });
      const id = (await insertDelivery(h, { organizationId: team.organizationId, id: subscription.id })) as string;
      const batch = batchOf(DELIVERY_QUEUE, [{ id, attempts: 1 }]);
      await consumeWebhooks(batch.batch, env);
      expect(batch.outcomes).toEqual({ [id]: "ack" });
      expect(receiver.received).toHaveLength(1);
      const [row] = await h.sql(
        `select d.status, d.attempts, d.response_status, d.error, d.next_retry_at, s.active, s.status as subscription
         from webhook_deliveries d join webhook_subscriptions s on s.id = d.subscription_id where d.id = $1`,
        [id],
      );
      expect(row).toEqual({
        status: "failed",
        attempts: "1",
        response_status: "410",
        error: "The receiver answered 410 Gone: the subscription is disabled",
        next_retry_at: null,
        active: "f",
        subscription: "disabled",
      });
    } finally {
      await receiver.close();
    }
  });
});

describe("retries in a batch with a slow receiver", () => {
  it("count each retry's delay from its own attempt, not from the end of the batch", async () => {
    const team = await createTeam(h);
    const failing = await startReceiver(() => 500);
    const slow = await startReceiver(() => "hang");
    const env = { ...h.env, WEBHOOK_ALLOW_LOOPBACK: "true", WEBHOOK_TIMEOUT_MS: "2500" };
    try {
      const deliveryTo = async (receiver: typeof failing) => {
        const { id } = await subscribe(h, team.organizationId, { url: receiver.url, secret: receiver.secret });
        return insertDelivery(h, { organizationId: team.organizationId, id });
      };
      const [toFailing, toSlow] = [await deliveryTo(failing), await deliveryTo(slow)];
      const batch = batchOf(DELIVERY_QUEUE, [
        { id: toFailing, attempts: 1 },
        { id: toSlow, attempts: 1 },
      ]);
      await consumeWebhooks(batch.batch, env);
      // Both went out together; the batch ended 2.5 s later, when the slow one timed out: 30 s from the attempts.
      const retryOf = (id: string) => (batch.outcomes[id] as { retry: { delaySeconds: number } }).retry.delaySeconds;
      for (const id of [toFailing, toSlow]) {
        expect(retryOf(id)).toBeGreaterThanOrEqual(27);
        expect(retryOf(id)).toBeLessThanOrEqual(28);
      }
      const rows = await h.sql(
        `select d.id, extract(epoch from d.next_retry_at - d.last_attempt_at)::int as due_after, d.response_status
         from webhook_deliveries d where d.id = any($1::uuid[]) order by d.id = $2 desc`,
        [`{${toFailing},${toSlow}}`, toFailing],
      );
      expect(rows).toEqual([
        { id: toFailing, due_after: "30", response_status: "500" },
        { id: toSlow, due_after: "30", response_status: null },
      ]);
    } finally {
      await failing.close();
      await slow.close();
    }
  });

  it("keeps the last attempt's answer beside its time when the next is not sent (the subscription disabled)", async () => {
    const team = await createTeam(h);
    const receiver = await startReceiver(() => 500);
    const env = { ...h.env, WEBHOOK_ALLOW_LOOPBACK: "true" };
    try {
      const subscription = await subscribe(h, team.organizationId, { url: receiver.url, secret: receiver.secret });
      const id = await insertDelivery(h, { organizationId: team.organizationId, id: subscription.id });
      await consumeWebhooks(batchOf(DELIVERY_QUEUE, [{ id, attempts: 1 }]).batch, env);
      const row = () =>
        h.sql(
          "select status, attempts, response_status, error, last_attempt_at from webhook_deliveries where id = $1",
          [id],
        );
      const [afterAttempt] = await row();
      expect(afterAttempt).toMatchObject({ attempts: "1", response_status: "500", error: "The receiver answered 500" });
      await h.sql("update webhook_subscriptions set active = false, status = 'disabled' where id = $1", [
        subscription.id,
      ]);
      await consumeWebhooks(batchOf(DELIVERY_QUEUE, [{ id, attempts: 2 }]).batch, env);
      expect(await row()).toEqual([
        {
          status: "failed",
          attempts: "1",
          response_status: "500",
          error: "The subscription is disabled",
          last_attempt_at: afterAttempt?.last_attempt_at,
        },
      ]);
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });
});
