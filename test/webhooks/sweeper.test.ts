import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import type { DeliveryMessage } from "../../src/webhooks/queues";
import { sweepLostDeliveries } from "../../src/webhooks/sweeper";
import { createTeam } from "../support/factories";
import { type Harness, startHarness } from "../support/harness";
import { insertDelivery, subscribe } from "../support/webhooks";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

/** A queue binding's stand-in that keeps what it is sent. */
function recordingQueue() {
  const sent: DeliveryMessage[] = [];
  const queue = {
    sendBatch: async (messages: { body: DeliveryMessage }[]) => {
      sent.push(...messages.map(({ body }) => body));
    },
  } as unknown as Queue<DeliveryMessage>;
  return { queue, sent };
}

describe("the sweep of lost deliveries", () => {
  it("enqueues again a delivery the queues let go, still pending a week after its enqueue, once", async () => {
    const team = await createTeam(h);
    const subscription = { organizationId: team.organizationId, id: (await subscribe(h, team.organizationId)).id };
    const [letGo, recent, delivered] = [
      await insertDelivery(h, subscription, { age: "9 days" }),
      await insertDelivery(h, subscription, { age: "3 days" }),
      await insertDelivery(h, subscription, { age: "9 days" }),
    ];
    await h.sql("update webhook_deliveries set enqueued_at = now() - interval '8 days' where id = any($1::uuid[])", [
      `{${letGo},${delivered}}`,
    ]);
    await h.sql("update webhook_deliveries set enqueued_at = now() - interval '2 days' where id = $1", [recent]);
    await h.sql("update webhook_deliveries set status = 'delivered', delivered_at = now() where id = $1", [delivered]);

    const db = createDb(h.env.DATABASE_URL as string, h.env.SQL_HTTP_ENDPOINT);
    const first = recordingQueue();
    expect(await sweepLostDeliveries(db, first.queue)).toBe(1);
    expect(first.sent).toEqual([{ delivery_id: letGo, requested_at: expect.any(String) }]);
    const [row] = await h.sql(
      "select enqueued_at > now() - interval '1 minute' as noted from webhook_deliveries where id = $1",
      [letGo],
    );
    expect(row).toEqual({ noted: "t" });

    const second = recordingQueue();
    expect(await sweepLostDeliveries(db, second.queue)).toBe(0);
  });
});
