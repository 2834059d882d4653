// Tools for race and outage tests: start many requests at the same instant, and
// put a switchable proxy between the app and the local SQL endpoint to take the
// database away mid-run and bring it back.
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** Runs `count` calls of `action` at once (all started before any is awaited). */
export async function concurrently<T>(count: number, action: (index: number) => Promise<T>): Promise<T[]> {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const runs = Array.from({ length: count }, async (_, index) => {
    await gate;
    return action(index);
  });
  release();
  return Promise.all(runs);
}

export type SqlProxyState = "up" | "refusing" | "gone";

/**
 * Forwards `POST /sql` to `target`. `refusing`: every new request has its
 * connection reset before anything reaches the database (requests already
 * forwarded finish normally); `gone`: nothing listens on the port at all. `up`
 * listens again on the same port, as a restarted service would. `failNext(n, code)`:
 * the next n requests are answered with that SQLSTATE, as Neon relays a Postgres error.
 */
export async function startSqlProxy(target: string) {
  let state: SqlProxyState = "up";
  let forwarded = 0;
  let refused = 0;
  let failed = 0;
  let failures: { left: number; code: string } = { left: 0, code: "" };
  const sockets = new Set<Socket>(); // to end them on close
  let server: Server;
  let port = 0;

  const listen = async () => {
    server = createServer(async (req, res) => {
      if (state !== "up") {
        refused++;
        req.socket.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      if (failures.left > 0) {
        failures.left--;
        failed++;
        const body = JSON.stringify({ message: "the database aborted the statement", code: failures.code });
        res.writeHead(400, { "content-type": "application/json" }).end(body);
        return;
      }
      forwarded++;
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === "string" && name !== "host" && name !== "connection") headers.set(name, value);
      }
      const answer = await fetch(target, { method: "POST", headers, body: Buffer.concat(chunks) });
      const body = Buffer.from(await answer.arrayBuffer());
      res.writeHead(answer.status, {
        "content-type": answer.headers.get("content-type") ?? "application/json",
        "content-length": body.length,
      });
      res.end(body);
    });
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  };
  // Requests already forwarded get their answer (so a 503 always means "never
  // reached the database"); idle connections are cut at once.
  const stopListening = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });

  await listen();
  return {
    url: `http://127.0.0.1:${port}/sql`,
    get state() {
      return state;
    },
    get forwarded() {
      return forwarded;
    },
    get refused() {
      return refused;
    },
    get failed() {
      return failed;
    },
    failNext(count: number, code: string) {
      failures = { left: count, code };
    },
    async set(next: SqlProxyState) {
      const previous = state;
      if (next === previous) return;
      state = next;
      if (next === "gone") await stopListening();
      if (previous === "gone") await listen();
    },
    async close() {
      const previous = state;
      state = "gone";
      if (previous !== "gone") await stopListening();
      for (const socket of sockets) socket.destroy();
    },
  };
}
