// Stored answers of POSTs with an Idempotency-Key.
import { sql } from "drizzle-orm";
import { check, index, integer, json, pgTable, primaryKey, text, uuid } from "drizzle-orm/pg-core";
import { createdAt } from "./columns";
import { organizationId } from "./team";

/**
 * Idempotency-Key (IETF draft): the first response to a POST with a key, per
 * organization and user, so a retry replays it. `response_status` is null while
 * the first request runs. Purged after 24 hours by the scheduled handler.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    organizationId: organizationId(),
    userId: uuid("user_id").notNull(),
    key: text("key").notNull(),
    requestHash: text("request_hash").notNull(),
    responseStatus: integer("response_status"),
    responseBody: text("response_body"),
    responseLocation: text("response_location"),
    // The result rows of the request's statement, stored by that very statement (see idempotency_claim);
    // a retry runs the handler's post-processing on them. The response_* columns hold answers given
    // without such a statement (a 400 before any SQL, say).
    result: json("result"),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.organizationId, t.userId, t.key] }),
    index("idempotency_keys_created_at_idx").on(t.createdAt),
    check("idempotency_keys_key_check", sql`length(${t.key}) between 1 and 255`),
  ],
);
