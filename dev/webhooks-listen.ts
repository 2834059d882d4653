// `npm run webhooks:listen`: a webhook receiver on 127.0.0.1 for local development. It verifies each delivery
// with the `standardwebhooks` package (as an integrator would), prints it, and answers 204; a repeated
// `webhook-id` (at-least-once delivery) is acknowledged and not processed again. With a token (`--token`, else the
// TOKEN that `npm start`'s export line sets, which keeps it out of `ps`), it subscribes itself to the API first
// (`npm start` lets subscriptions name http://127.0.0.1:PORT) and unsubscribes on Ctrl-C.
//
//   npm run webhooks:listen [-- --token "$TOKEN"] [--events time_entry.created,timer.started] [--port 8788]
//   npm run webhooks:listen -- --secret whsec_… [--port 8788]      (a subscription you made yourself)
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { stopWhenOrphaned } from "./supervise-worker";

const usage =
  "usage: npm run webhooks:listen -- [--token <token>, else TOKEN] [--events a,b] [--port 8788] [--api URL]\n" +
  "       npm run webhooks:listen -- --secret whsec_… [--port 8788]";

function optionsOf(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "8788" },
      secret: { type: "string" },
      token: { type: "string" },
      // The API as `npm start`'s export line names it, else as PORT does.
      api: { type: "string", default: process.env.API?.trim() || `http://127.0.0.1:${process.env.PORT ?? 8787}` },
      events: { type: "string", default: "*" },
    },
  });
  const port = /^[0-9]{1,5}$/.test(values.port) ? Number(values.port) : Number.NaN;
  if (!(port >= 1 && port <= 65535))
    throw new Error(`--port must be a whole number from 1 to 65535, not "${values.port}"`);
  if (!URL.canParse(values.api)) throw new Error(`--api (or API) must be the API's URL, not "${values.api}"`);
  const token = values.token ?? (values.secret ? undefined : process.env.TOKEN?.trim() || undefined);
  return { ...values, port, token };
}

let options: ReturnType<typeof optionsOf>;
try {
  options = optionsOf(process.argv.slice(2));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : error}\n${usage}`);
  process.exit(2);
}

const url = `http://127.0.0.1:${options.port}/webhooks`;

async function api(method: string, path: string, body?: unknown) {
  const target = new URL(path, options.api);
  const response = await fetch(target, {
    method,
    headers: { Authorization: `Bearer ${options.token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error) => {
    throw new Error(
      `${method} ${target} failed (is npm start running there? --api or API names it): ${error.cause?.message ?? error}`,
    );
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

async function main() {
  if (!options.secret && !options.token) {
    throw new Error(`Give an owner's or admin's token (TOKEN, or --token) to subscribe, or --secret whsec_…\n${usage}`);
  }
  let verifier: Webhook | undefined = options.secret ? new Webhook(options.secret) : undefined;
  let subscriptionId: string | undefined;
  const seen = new Set<string>();

  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
    try {
      if (!verifier) throw new Error("not subscribed yet");
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
  // Listening first: a port in use then stops us before a subscription is made that nothing would receive.
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE" ? new Error(`Port ${options.port} is in use: give another with --port`) : error,
      ),
    );
    server.listen(options.port, "127.0.0.1", resolve);
  });
  if (!verifier) {
    const events = options.events.split(",").map((event) => event.trim());
    const { data } = await api("POST", "/v1/webhooks", { url, events, description: "npm run webhooks:listen" }).catch(
      (error) => {
        server.close();
        throw error;
      },
    );
    verifier = new Webhook(data.secret as string);
    subscriptionId = data.id as string;
    console.log(`Subscribed ${url} to ${events.join(", ")} (webhook ${subscriptionId})`);
  }
  console.log(`Listening on ${url}; Ctrl-C to stop`);

  const stop = async () => {
    server.close();
    if (subscriptionId) {
      try {
        await api("DELETE", `/v1/webhooks/${subscriptionId}`);
        console.log(`Unsubscribed (webhook ${subscriptionId} deleted)`);
      } catch (error) {
        console.error(
          `Could not unsubscribe: ${error instanceof Error ? error.message : error}\nDelete it later: curl -X DELETE -H "Authorization: Bearer $TOKEN" "${new URL(`/v1/webhooks/${subscriptionId}`, options.api)}"`,
        );
      }
    }
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  stopWhenOrphaned(stop);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
