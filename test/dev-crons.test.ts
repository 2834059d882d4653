// `npm start` fires wrangler.toml's crons itself, since `wrangler dev` never does: the sweep of lost
// webhook enqueues and the housekeeping must run locally as they do once deployed.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cronMatches, wranglerCrons } from "../dev/crons";

const at = (iso: string) => new Date(iso);

describe("the local cron scheduler", () => {
  it("reads wrangler.toml's crons: the sweep every minute and the hourly housekeeping", () => {
    expect(wranglerCrons(readFileSync("wrangler.toml", "utf8"))).toEqual(["17 * * * *", "* * * * *"]);
  });

  it("fires every minute for * * * * *, and at minute 17 of each hour for 17 * * * *", () => {
    expect(cronMatches("* * * * *", at("2026-12-03T08:00:00Z"))).toBe(true);
    expect(cronMatches("17 * * * *", at("2026-12-03T08:17:30Z"))).toBe(true);
    expect(cronMatches("17 * * * *", at("2026-12-03T08:16:59Z"))).toBe(false);
    expect(cronMatches("17 * * * *", at("2026-12-03T08:18:00Z"))).toBe(false);
  });

  it("reads lists, ranges and steps, in UTC", () => {
    expect(cronMatches("*/15 * * * *", at("2026-12-03T08:45:00Z"))).toBe(true);
    expect(cronMatches("*/15 * * * *", at("2026-12-03T08:46:00Z"))).toBe(false);
    expect(cronMatches("0 9-17/2 * * *", at("2026-12-03T11:00:00Z"))).toBe(true);
    expect(cronMatches("0 9-17/2 * * *", at("2026-12-03T12:00:00Z"))).toBe(false);
    expect(cronMatches("0 0 1,15 * *", at("2026-12-15T00:00:00Z"))).toBe(true);
    expect(cronMatches("0 0 * 12 *", at("2026-11-01T00:00:00Z"))).toBe(false);
  });

  it("takes 0 and 7 for Sunday, and either day field when both are restricted", () => {
    // 2026-12-06 is a Sunday.
    expect(cronMatches("0 0 * * 7", at("2026-12-06T00:00:00Z"))).toBe(true);
    expect(cronMatches("0 0 * * 0", at("2026-12-06T00:00:00Z"))).toBe(true);
    expect(cronMatches("0 0 * * 1-5", at("2026-12-06T00:00:00Z"))).toBe(false);
    expect(cronMatches("0 0 1 * 0", at("2026-12-06T00:00:00Z"))).toBe(true);
    expect(cronMatches("0 0 1 * 1", at("2026-12-06T00:00:00Z"))).toBe(false);
  });

  it("refuses what it does not read rather than skip a cron silently", () => {
    expect(() => cronMatches("0 0 * * MON", at("2026-12-03T00:00:00Z"))).toThrow('"MON" is not read');
    expect(() => cronMatches("* * * *", at("2026-12-03T00:00:00Z"))).toThrow("five fields expected");
    expect(() => cronMatches("60 * * * *", at("2026-12-03T00:00:00Z"))).toThrow("out of range");
  });
});
