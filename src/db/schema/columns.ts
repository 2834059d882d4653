import { integer, timestamp, uuid } from "drizzle-orm/pg-core";

// Millisecond precision: what the API stores is exactly what it returns, and
// keyset cursors built from returned timestamps are exact.
export const timestamptz = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

export const id = () => uuid("id").primaryKey().defaultRandom();
export const createdAt = () => timestamptz("created_at").notNull().defaultNow();
export const updatedAt = () => timestamptz("updated_at").notNull().defaultNow();

// Bumped by the bump_version trigger on every UPDATE, whoever runs it; the API's
// ETag and If-Match compare it.
export const version = () => integer("version").notNull().default(1);
