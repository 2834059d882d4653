// What a migration does to rows that existed before it, on an in-memory database migrated up to the one before it.
import { readMigrationFiles } from "drizzle-orm/migrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER } from "../../dev/migrate";
import { openPglite, type PgliteBackend } from "../../dev/sql-backends";
import { signatureHeader } from "../../src/webhooks/signature";

const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
const indexOf = (tag: string) => migrations.findIndex((migration) => migration.sql.join("").includes(tag));

let db: PgliteBackend;

async function apply(from: number, to: number) {
  for (const migration of migrations.slice(from, to)) {
    for (const statement of migration.sql) if (statement.trim()) await db.pglite.exec(statement);
  }
}

beforeAll(async () => {
  db = await openPglite();
});
afterAll(() => db?.pglite.close());

describe("0033, signing secrets padded", () => {
  it("pads the secrets written without their padding, the same keys, and then refuses them unpadded", async () => {
    const padding = indexOf('"secret" || repeat(');
    expect(padding).toBeGreaterThan(0);
    await apply(0, padding);
    const { rows } = await db.pglite.query<{ id: string }>(
      `with o as (insert into organizations (name) values ('Acme') returning id)
       insert into webhook_subscriptions (organization_id, url, events, secret, previous_secret, previous_secret_expires_at)
       select id, 'https://example.com/hook', '{*}', s, p, case when p is not null then now() + interval '1 day' end from o,
         (values ('whsec_dGVzdA', 'whsec_dGVzdDE'), ('whsec_dGVzdDEy', null), ('whsec_dGVzdA==', 'whsec_dGVzdDE=')) v(s, p)
       returning id`,
    );
    type Row = { id: string; secret: string; previous_secret: string | null; version: number; updated_at: string };
    const signed = async () =>
      (
        await db.pglite.query<Row>(
          "select id, secret, previous_secret, version, updated_at::text from webhook_subscriptions order by id",
        )
      ).rows;
    const before = await signed();
    await apply(padding, padding + 1);
    const after = await signed();
    expect(after.map((row) => [row.secret, row.previous_secret]).sort()).toEqual(
      [
        ["whsec_dGVzdA==", "whsec_dGVzdDE="],
        ["whsec_dGVzdA==", "whsec_dGVzdDE="],
        ["whsec_dGVzdDEy", null],
      ].sort(),
    );
    const secretsOf = (row: Row) => [row.secret, row.previous_secret].filter((secret) => secret !== null) as string[];
    for (const [index, row] of before.entries()) {
      const padded = after[index] as Row;
      // The same keys, so the same signatures; and no change of the subscription: same version and updated_at.
      expect(await signatureHeader(secretsOf(padded), "msg_1", 1_700_000_000, "{}")).toBe(
        await signatureHeader(secretsOf(row), "msg_1", 1_700_000_000, "{}"),
      );
      expect([padded.id, padded.version, padded.updated_at]).toEqual([row.id, row.version, row.updated_at]);
    }
    await expect(
      db.pglite.query("update webhook_subscriptions set secret = 'whsec_dGVzdA' where id = $1", [rows[0]?.id]),
    ).rejects.toThrow(/webhook_subscriptions_secret_format_check/);
  });
});
