// Webhook test tools: subscriptions made in SQL (as an operator would), the outbox as the database holds it, and
// a receiver on 127.0.0.1 that verifies every delivery with the `standardwebhooks` package, an implementation
// independent of ours.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import type { Harness } from "./harness";

/** A signing secret as the API makes them: `whsec_` and the base64 of 32 random bytes. */
export const testSecret = () => `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;

/**
 * Sets how many subscriptions `organizationId` may keep (20 by default), as an operator would: for tests that make
 * one per operation they walk.
 */
export async function allowSubscriptions(h: Pick<Harness, "sql">, organizationId: string, limit: number) {
  await h.sql("update organizations set webhook_subscriptions_limit = $2 where id = $1", [
    organizationId,
    String(limit),
  ]);
}

/** An active subscription of `organizationId` to `events`, written in SQL. */
export async function subscribe(
  h: Pick<Harness, "sql">,
  organizationId: string,
  options: { events?: string[]; url?: string; secret?: string; active?: boolean } = {},
) {
  const secret = options.secret ?? testSecret();
  const active = options.active ?? true;
  const [row] = await h.sql(
    `insert into webhook_subscriptions (organization_id, url, events, secret, active, status)
     values ($1, $2, $3::text[], $4, $5, $6) returning id`,
    [
      organizationId,
      options.url ?? "https://hooks.example.com/time-entries",
      `{${(options.events ?? ["*"]).join(",")}}`,
      secret,
      String(active),
      active ? "healthy" : "disabled",
    ],
  );
  return { id: row?.id as string, secret };
}

/**
 * An event and its delivery to `subscriptionId`, written in SQL as if `age` ago (`"2 minutes"`), never enqueued:
 * what the outbox holds when the Worker stopped before the queue.
 */
export async function insertDelivery(
  h: Pick<Harness, "sql">,
  subscription: { organizationId: string; id: string },
  options: { type?: string; data?: unknown; age?: string } = {},
) {
  const [row] = await h.sql(
    `with event as (
       insert into webhook_events (organization_id, type, data, created_at)
       values ($1, $2, $3::json, now() - $4::interval) returning id, organization_id, created_at
     )
     insert into webhook_deliveries (organization_id, event_id, subscription_id, requested_at, created_at)
     select organization_id, id, $5, created_at, created_at from event returning id`,
    [
      subscription.organizationId,
      options.type ?? "time_entry.created",
      JSON.stringify(options.data ?? {}),
      options.age ?? "0 seconds",
      subscription.id,
    ],
  );
  return row?.id as string;
}

export type StoredEvent = {
  id: string;
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests compare the stored JSON with API answers exactly.
  data: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above.
  previous_attributes: any;
  deliveries: number;
};

/** The events of an organization in the outbox, oldest first (by type within one statement), with delivery counts. */
export async function eventsOf(h: Pick<Harness, "sql">, organizationId: string): Promise<StoredEvent[]> {
  const rows = await h.sql(
    `select e.id, e.type, e.data::text as data, e.previous_attributes::text as previous_attributes,
       (select count(*) from webhook_deliveries d where d.event_id = e.id)::int as deliveries
     from webhook_events e where e.organization_id = $1 order by e.created_at, e.type, e.data->>'id'`,
    [organizationId],
  );
  return rows.map((row) => ({
    id: row.id as string,
    type: row.type as string,
    data: JSON.parse(row.data as string),
    previous_attributes: row.previous_attributes === null ? null : JSON.parse(row.previous_attributes as string),
    deliveries: Number(row.deliveries),
  }));
}

/** The types of an organization's events, in order. */
export const eventTypesOf = async (h: Pick<Harness, "sql">, organizationId: string) =>
  (await eventsOf(h, organizationId)).map((event) => event.type);

export type ReceivedDelivery = {
  headers: Record<string, string>;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: the verified payload, asserted field by field.
  payload: any;
};

/**
 * A webhook receiver on 127.0.0.1. Each request is verified with `standardwebhooks` against `receiver.secret`
 * (settable: what a receiver's configuration holds; a failed verification answers 400 and is recorded in
 * `rejected`); `answer` decides the status of the verified ones (`"hang"`: never answers).
 */
export async function startReceiver(
  answer: (delivery: ReceivedDelivery, index: number) => number | "hang" = () => 200,
) {
  const received: ReceivedDelivery[] = [];
  const rejected: string[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
    try {
      const payload = new Webhook(receiver.secret).verify(body, headers);
      const delivery = { headers, body, payload };
      received.push(delivery);
      const status = answer(delivery, received.length - 1);
      if (status === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(status).end();
    } catch (error) {
      rejected.push(String(error));
      res.writeHead(400).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const receiver = {
    url: `http://127.0.0.1:${port}/hooks`,
    secret: testSecret(),
    received,
    rejected,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return receiver;
}
