import { sql } from "drizzle-orm";
import { invalidField } from "../lib/errors";
import type { Caller } from "../lib/verify-token";
import { postgresErrorOf } from "./errors";

/** SQL: the time zone a request names, or else its organization's (`organizations.timezone`, `UTC` unless changed). */
export const timeZoneOf = (caller: Caller, timezone: string | undefined) =>
  timezone === undefined
    ? sql`(select o.timezone from organizations o where o.id = ${caller.organizationId}::uuid)`
    : sql`${timezone}::text`;

/** A time zone name Intl knows but this Postgres does not is the client's error, named as such. */
export async function withTimeZoneErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const postgresError = postgresErrorOf(error);
    if (postgresError?.code === "22023" && /time zone/.test(postgresError.message)) {
      throw invalidField("timezone", "Unknown time zone");
    }
    throw error;
  }
}
