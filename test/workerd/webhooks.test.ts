// Webhook delivery on the Workers runtime: the production bundle in workerd with wrangler.toml's queues (the
// producer, the consumer and the dead-letter queue, delays and retries included), POSTing to receivers on
// 127.0.0.1 that verify every delivery with the `standardwebhooks` package. Retries start at once here
// (WEBHOOK_RETRY_BASE_SECONDS=0) and a receiver that never answers times out after 300 ms; the number of attempts
// is wrangler.toml's own.

import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { unstable_readConfig } from "wrangler";
import { DEAD_LETTER_QUEUE, DELIVERY_QUEUE } from "../../src/webhooks/queues";
import { MAX_DELIVERY_ATTEMPTS } from "../../src/webhooks/retry-schedule";
import { SWEEP_CRON } from "../../src/webhooks/sweeper";
import { ROOT } from "../support/build-worker";
import { createTeam, type Team } from "../support/factories";
import { insertDelivery, startReceiver } from "../support/webhooks";
import { cronTriggers, startWorkerdHarness, type WorkerdHarness } from "./workerd-harness";

let h: WorkerdHarness;
let team: Team;
const receivers: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  h = await startWorkerdHarness({
    WEBHOOK_ALLOW_LOOPBACK: "true",
    WEBHOOK_RETRY_BASE_SECONDS: "0",
    WEBHOOK_TIMEOUT_MS: "300",
    WEBHOOK_DISABLE_AFTER_FAILURES: "2",
  });
});
afterAll(async () => {
  for (const receiver of receivers) await receiver.close();
  await h?.close();
});
// An organization per test: one test's subscriptions never see another's events.
beforeEach(async () => {
  team = await createTeam(h);
});

const waitFor = (assertion: () => void | Promise<void>, timeout = 20_000) =>
  vi.waitFor(assertion, { timeout, interval: 100 });

/** A receiver, and a subscription of the team to `events` at it, made through the API (which shows the secret). */
async function subscribedReceiver(answer?: Parameters<typeof startReceiver>[0], events = ["*"]) {
  const receiver = await startReceiver(answer);
  receivers.push(receiver);
  const created = await h.call("POST", "/v1/webhooks", {
    token: team.owner.token,
    body: { url: receiver.url, events },
  });
  expect(created.status).toBe(201);
  receiver.secret = created.body.data.secret;
  return { receiver, id: created.body.data.id as string, secret: created.body.data.secret as string };
}

const deliveriesOf = (subscription: string) =>
  h.sql(
    `select d.id, d.event_id, d.status, d.attempts, d.response_status, d.error, d.enqueued_at is not null as enqueued
     from webhook_deliveries d where d.subscription_id = $1 order by d.created_at`,
    [subscription],
  );

const newEntry = (description: string) =>
  h.call("POST", "/v1/time-entries", {
    token: team.owner.token,
    body: { start_time: "2026-11-28T09:00:00Z", end_time: "2026-11-28T10:00:00Z", description },
  });

describe("webhook delivery in workerd", () => {
  it("wrangler.toml's queues match the code: producer, consumers, attempts, dead-letter queue, sweep cron", () => {
    const { queues } = unstable_readConfig({ config: `${ROOT}/wrangler.toml` });
    expect(queues.producers).toEqual([
      expect.objectContaining({ binding: "WEBHOOK_DELIVERIES", queue: DELIVERY_QUEUE }),
    ]);
    const consumers: { queue: string }[] = queues.consumers ?? [];
    const consumer = consumers.find((c) => c.queue === DELIVERY_QUEUE);
    expect(consumer).toMatchObject({ max_retries: MAX_DELIVERY_ATTEMPTS - 1, dead_letter_queue: DEAD_LETTER_QUEUE });
    expect(consumers.map((c) => c.queue).sort()).toEqual([DEAD_LETTER_QUEUE, DELIVERY_QUEUE].sort());
    expect(cronTriggers()).toContain(SWEEP_CRON);
  });

  it("delivers a created entry, signed, with the entry as GET shows it", async () => {
    const { receiver, id } = await subscribedReceiver();
    const created = await newEntry("Delivered");
    expect(created.status).toBe(201);
    await waitFor(() => expect(receiver.received).toHaveLength(1));
    const [delivery] = receiver.received;
    const [event] = await h.sql(
      `select id, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
       from webhook_events where organization_id = $1 and type = 'time_entry.created'`,
      [team.organizationId],
    );
    const read = await h.call("GET", `/v1/time-entries/${created.body.data.id}`, { token: team.owner.token });
    expect(delivery?.payload).toEqual({
      id: event?.id,
      type: "time_entry.created",
      created_at: event?.created_at,
      organization_id: team.organizationId,
      data: read.body.data,
    });
    expect(delivery?.headers).toMatchObject({
      "content-type": "application/json",
      "webhook-id": event?.id,
      "webhook-timestamp": expect.stringMatching(/^\d{10}$/),
      "webhook-signature": expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
    });
    expect(Math.abs(Number(delivery?.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
    expect(receiver.rejected).toEqual([]);
    await waitFor(async () =>
      expect(await deliveriesOf(id)).toEqual([
        expect.objectContaining({ status: "delivered", attempts: "1", response_status: "200", enqueued: "t" }),
      ]),
    );
  });

  it("retries a receiver that answered 302 (not followed) and 500: delivered on the third attempt, same webhook-id", async () => {
    const elsewhere = await startReceiver();
    receivers.push(elsewhere);
    const { receiver, id } = await subscribedReceiver((_, index) => [302, 500][index] ?? 200);
    await newEntry("Retried");
    await waitFor(() => expect(receiver.received).toHaveLength(3));
    const ids = receiver.received.map((delivery) => delivery.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(1);
    expect(elsewhere.received).toEqual([]);
    await waitFor(async () =>
      expect(await deliveriesOf(id)).toEqual([
        expect.objectContaining({ event_id: ids[0], status: "delivered", attempts: "3", response_status: "200" }),
      ]),
    );
  });

  it("dead-letters an event a receiver never answers: failing, and disabled after WEBHOOK_DISABLE_AFTER_FAILURES in a row", async () => {
    const { receiver, id, secret } = await subscribedReceiver(() => "hang", ["time_entry.created"]);
    // A second subscription at the same receiver, one dead-lettered event away from being disabled.
    const other = await subscribedReceiver(undefined, ["time_entry.created"]);
    await h.sql(
      "update webhook_subscriptions set url = $2, secret = $3, status = 'failing', consecutive_failures = 1 where id = $1",
      [other.id, receiver.url, secret],
    );
    await newEntry("Never answered");
    const deadLettered = expect.objectContaining({
      status: "failed",
      attempts: String(MAX_DELIVERY_ATTEMPTS),
      response_status: null,
      error: "No answer within 300 ms",
    });
    await waitFor(async () => {
      expect(await deliveriesOf(id)).toEqual([deadLettered]);
      expect(await deliveriesOf(other.id)).toEqual([deadLettered]);
    }, 40_000);
    expect(receiver.received).toHaveLength(2 * MAX_DELIVERY_ATTEMPTS);
    expect(new Set(receiver.received.map((delivery) => delivery.headers["webhook-id"])).size).toBe(1);
    const first = await h.call("GET", `/v1/webhooks/${id}`, { token: team.owner.token });
    expect(first.body.data).toMatchObject({ active: true, status: "failing" });
    const second = await h.call("GET", `/v1/webhooks/${other.id}`, { token: team.owner.token });
    expect(second.body.data).toMatchObject({ active: false, status: "disabled" });
    await newEntry("Not for a disabled subscription");
    await waitFor(async () => expect(await deliveriesOf(id)).toHaveLength(2));
    expect(await deliveriesOf(other.id)).toHaveLength(1);
  }, 60_000);

  it("signs with both secrets for 24 hours after a rotation, then with the new one only", async () => {
    const { receiver, id, secret } = await subscribedReceiver(undefined, ["time_entry.updated"]);
    const rotated = (await h.call("POST", `/v1/webhooks/${id}/rotate-secret`, { token: team.owner.token })).body.data;
    const entry = (await newEntry("Rotation")).body.data.id;
    await h.call("PATCH", `/v1/time-entries/${entry}`, { token: team.owner.token, body: { description: "Both" } });
    await waitFor(() => expect(receiver.received).toHaveLength(1));
    const [both] = receiver.received;
    expect(both?.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
    // The receiver verified it with the old secret; the new one verifies the same message.
    expect(new Webhook(rotated.secret).verify(both?.body ?? "", both?.headers ?? {})).toEqual(both?.payload);

    receiver.secret = rotated.secret;
    await h.sql(
      "update webhook_subscriptions set previous_secret_expires_at = now() - interval '1 second' where id = $1",
      [id],
    );
    await h.call("PATCH", `/v1/time-entries/${entry}`, { token: team.owner.token, body: { description: "New only" } });
    await waitFor(() => expect(receiver.received).toHaveLength(2));
    const newOnly = receiver.received[1];
    expect(newOnly?.headers["webhook-signature"]?.split(" ")).toHaveLength(1);
    expect(() => new Webhook(secret).verify(newOnly?.body ?? "", newOnly?.headers ?? {})).toThrow(
      "No matching signature found",
    );
    expect(receiver.rejected).toEqual([]);
  });

  it("pings, and sends a delivery again on demand with the same webhook-id", async () => {
    const { receiver, id } = await subscribedReceiver(undefined, ["project.created"]);
    const ping = await h.call("POST", `/v1/webhooks/${id}/ping`, { token: team.owner.token });
    expect(ping.status).toBe(202);
    await waitFor(() => expect(receiver.received).toHaveLength(1));
    expect(receiver.received[0]?.payload).toMatchObject({ type: "webhook.ping", data: { id } });
    await waitFor(async () => expect((await deliveriesOf(id))[0]?.status).toBe("delivered"));
    const again = await h.call("POST", `/v1/webhooks/${id}/deliveries/${ping.body.data.id}/retry`, {
      token: team.owner.token,
    });
    expect(again.status).toBe(202);
    await waitFor(() => expect(receiver.received).toHaveLength(2));
    expect(receiver.received[1]?.headers["webhook-id"]).toBe(receiver.received[0]?.headers["webhook-id"]);
    await waitFor(async () =>
      expect((await deliveriesOf(id))[0]).toMatchObject({ status: "delivered", attempts: "2" }),
    );
  });

  it("the sweep enqueues a delivery whose enqueue was lost", async () => {
    const { receiver, id } = await subscribedReceiver(undefined, ["customer.deleted"]);
    // As if the Worker stopped between the commit and the queue: the outbox rows, never enqueued.
    const deleted = { id: crypto.randomUUID(), version: 2, deleted_at: "2026-11-28T09:00:00.000Z" };
    await insertDelivery(
      h,
      { organizationId: team.organizationId, id },
      { type: "customer.deleted", data: deleted, age: "2 minutes" },
    );
    expect(await deliveriesOf(id)).toEqual([expect.objectContaining({ status: "pending", enqueued: "f" })]);
    const result = await h.worker.scheduled({ cron: SWEEP_CRON, scheduledTime: new Date() });
    expect(result.outcome).toBe("ok");
    await waitFor(() => expect(receiver.received).toHaveLength(1));
    expect(receiver.received[0]?.payload).toMatchObject({ type: "customer.deleted", data: deleted });
    await waitFor(async () =>
      expect(await deliveriesOf(id)).toEqual([expect.objectContaining({ status: "delivered", enqueued: "t" })]),
    );
  });
});
