import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { createApp } from "./lib/create-app";
import { configureOpenApi } from "./lib/openapi";
import { authenticate } from "./middleware/auth";
import { database } from "./middleware/database";
import { idempotency } from "./middleware/idempotency";
import { rateLimit } from "./middleware/rate-limit";
import { dispatchWebhooks } from "./middleware/webhook-dispatch";
import customers from "./routes/customers/customers.index";
import invoices from "./routes/invoices/invoices.index";
import me from "./routes/me/me.index";
import members from "./routes/members/members.index";
import organizations from "./routes/organizations/organizations.index";
import projects from "./routes/projects/projects.index";
import timeEntries from "./routes/time-entries/time-entries.index";
import webhooks from "./routes/webhooks/webhooks.index";

const MAX_BODY_BYTES = 64 * 1024;

const app = createApp();

app.get("/", (c) => c.redirect("/docs"));
// A liveness check: no token, no database, never answered by a cache in between (described in /openapi.json's info).
app.get("/healthz", (c) => c.json({ status: "ok" }, 200, { "Cache-Control": "no-store" }));

app.use("/v1/*", async (c, next) => {
  await next();
  // Authenticated data must never sit in a shared cache.
  c.header("Cache-Control", "no-store");
});
const limitBody = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new HTTPException(413);
  },
});
// A GET's body means nothing (RFC 9110 §9.3.1) and is never read: ignored whatever its size, not a 413 that no GET
// documents.
app.use("/v1/*", (c, next) => (c.req.method === "GET" || c.req.method === "HEAD" ? next() : limitBody(c, next)));
app.use("/v1/*", authenticate, rateLimit, database, dispatchWebhooks, idempotency);

const routes = [timeEntries, projects, customers, invoices, members, organizations, webhooks, me] as const;
for (const route of routes) app.route("/", route);

configureOpenApi(app);

export type AppType = (typeof routes)[number];
export default app;
