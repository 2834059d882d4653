// Two processes on one embedded database would each write to it unaware of the other, and one's writes
// are lost: the data directory is locked for the process that opened it.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openPglite } from "../dev/sql-backends";

const root = mkdtempSync(join(tmpdir(), "pglite-lock-"));
const dataDir = join(root, "pglite");
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the embedded database's directory", () => {
  it("is opened by one process at a time, and released on close or when its holder died", async () => {
    const first = await openPglite({ dataDir });
    try {
      await expect(openPglite({ dataDir })).rejects.toThrow(`is in use by process ${process.pid}`);
    } finally {
      await first.close();
    }
    expect(existsSync(`${dataDir}.lock`)).toBe(false);

    writeFileSync(`${dataDir}.lock`, "2147483646"); // a process that no longer exists
    const again = await openPglite({ dataDir });
    expect((await again.query({ query: "select 1 as one", params: [] })).rows).toEqual([["1"]]);
    await again.close();
  }, 60_000);

  it("is taken over from a dead holder whose pid this process now bears (a container restarted after a crash)", async () => {
    writeFileSync(`${dataDir}.lock`, String(process.pid)); // left by the process that had this pid before
    const db = await openPglite({ dataDir });
    try {
      await expect(openPglite({ dataDir })).rejects.toThrow(`is in use by process ${process.pid}`);
    } finally {
      await db.close();
    }
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  }, 60_000);
});
