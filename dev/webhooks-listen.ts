// `npm run webhooks:listen`: a webhook receiver on 127.0.0.1 for local development. It verifies each delivery
// with the `standardwebhooks` package (as an integrator would), prints it, and answers 204; a repeated
// `webhook-id` (at-least-once delivery) is acknowledged and not processed again. With `--token`, it subscribes
// itself to the API first (`npm start` lets subscriptions name http://127.0.0.1:PORT) and unsubscribes on Ctrl-C.
//
//   npm run webhooks:listen -- --token "$TOKEN" [--events time_entry.created,timer.started] [--port 8788]
//   npm run webhooks:listen -- --secret whsec_… [--port 8788]      (a subscription you made yourself)
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { Webhook, WebhookVerificationError } from "standardwebhooks";

const { values: options } = parseArgs({
  options: {
    port: { type: "string", default: "8788" },
    secret: { type: "string" },
    token: { type: "string" },
    api: { type: "string", default: `http://127.0.0.1:${process.env.PORT ?? 8787}` },
    events: { type: "string", default: "*" },
  },
});

const url = `http://127.0.0.1:${options.port}/webhooks`;

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(new URL(path, options.api), {
    method,
    headers: { Authorization: `Bearer ${options.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function main() {
  let secret = options.secret;
  let subscriptionId: string | undefined;
  if (!secret) {
    if (!options.token) throw new Error("Give --token <an owner's or admin's token> to subscribe, or --secret whsec_…");
    const events = options.events.split(",").map((event) => event.trim());
    const { data } = await api("POST", "/v1/webhooks", { url, events, description: "npm run webhooks:listen" });
    secret = data.secret as string;
    subscriptionId = data.id as string;
    console.log(`Subscribed ${url} to ${events.join(", ")} (webhook ${subscriptionId})`);
  }
  const verifier = new Webhook(secret);
  const seen = new Set<string>();

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
    try {
      const event = verifier.verify(body, headers) as { id: string; type: string; data: unknown };
      const id = headers["webhook-id"] ?? "";
      if (seen.has(id)) {
        console.log(`↺ ${event.type} ${id}: seen before, acknowledged and ignored`);
      } else {
        seen.add(id);
        console.log(`✓ ${event.type} ${id} (signature verified)\n${JSON.stringify(event, null, 2)}`);
      }
      res.writeHead(204).end();
    } catch (error) {
      const reason = error instanceof WebhookVerificationError ? error.message : String(error);
      console.log(`✗ refused a request: ${reason}`);
      res.writeHead(400).end();
    }
  });
  server.listen(Number(options.port), "127.0.0.1", () => console.log(`Listening on ${url}; Ctrl-C to stop`));

  const stop = async () => {
    server.close();
    if (subscriptionId) {
      await api("DELETE", `/v1/webhooks/${subscriptionId}`).catch((error) => console.error(String(error)));
      console.log(`Unsubscribed (webhook ${subscriptionId} deleted)`);
    }
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
