// Apart from the Drizzle schema that uses it (src/db/schema/team.ts): the API's schemas and queries import this
// alone, and importing the schema would bundle drizzle-orm/pg-core's table builders into the Worker (~4 KiB gzipped).

/** The days a week may start on, Monday first as ISO 8601 has it. */
export const WEEK_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;
export type WeekDay = (typeof WEEK_DAYS)[number];
