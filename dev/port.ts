// Whether a local port is free, so that `npm start` can say so before it opens the
// database or starts wrangler: a second `npm start` would otherwise open the same
// .data/pglite, find the first one's /healthz and print "ready" before wrangler fails.
import { createServer } from "node:net";

export function portIsFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** The first free port after `port` (up to 20 further), to suggest when `port` is taken. */
export async function nextFreePort(port: number) {
  for (let candidate = port + 1; candidate <= Math.min(port + 20, 65535); candidate++) {
    if (await portIsFree(candidate)) return candidate;
  }
  return undefined;
}
