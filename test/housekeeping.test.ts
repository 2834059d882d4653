import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDb } from "../src/db/client";
import { purgeExpired } from "../src/housekeeping";
import { createOrganization, createUser } from "./support/factories";
import { type Harness, startHarness } from "./support/harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.close());

describe("the hourly housekeeping", () => {
  it("runs each purge on its own: one that fails is logged by name and fails the run, the others are done", async () => {
    const organizationId = await createOrganization(h);
    const userId = await createUser(h);
    const key = `old-${crypto.randomUUID()}`;
    await h.sql(
      `insert into idempotency_keys (organization_id, user_id, key, request_hash, created_at)
       values ($1, $2, $3, 'x', now() - interval '25 hours')`,
      [organizationId, userId, key],
    );
    await h.sql(`create function refuse_purge() returns trigger language plpgsql as $$
      begin raise exception 'purge refused'; end $$`);
    await h.sql("create trigger refuse_purge before delete on webhook_events execute function refuse_purge()");
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      await expect(purgeExpired(createDb(h.env.DATABASE_URL as string, h.env.SQL_HTTP_ENDPOINT))).rejects.toThrow(
        "housekeeping: webhook_events failed",
      );
      expect(log).toHaveBeenCalledOnce();
      expect(JSON.parse(String(log.mock.calls[0]?.[0]))).toMatchObject({
        level: "error",
        purge: "webhook_events",
        database: { code: "P0001", message: "purge refused" },
      });
      expect(await h.sql("select key from idempotency_keys where key = $1", [key])).toEqual([]);
    } finally {
      log.mockRestore();
      await h.sql("drop trigger refuse_purge on webhook_events");
      await h.sql("drop function refuse_purge()");
    }
  });
});
