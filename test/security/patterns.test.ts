// Every pattern the API validates input with, and publishes in /openapi.json for clients to validate with too, must
// refuse a string in time linear in its length: a pattern with two places for one run of characters backtracks, and
// an If-Match of 120,000 spaces took seconds of the Worker's CPU to refuse. recheck analyses each (and fuzzes it).
import { checkSync } from "recheck";
import { describe, expect, it } from "vitest";
import app from "../../src/app";

async function documentPatterns() {
  const doc = await (await app.request("/openapi.json")).json();
  const patterns = new Set<string>();
  const walk = (value: unknown) => {
    if (Array.isArray(value)) for (const item of value) walk(item);
    else if (value && typeof value === "object") {
      for (const [key, item] of Object.entries(value)) {
        if (key === "pattern" && typeof item === "string") patterns.add(item);
        else walk(item);
      }
    }
  };
  walk(doc);
  return [...patterns];
}

describe("the patterns of /openapi.json", () => {
  it("of If-Match takes an entity tag of any character beyond ASCII, in a validator's unicode mode as in ours", async () => {
    type Operation = { parameters?: { name: string; schema: { pattern: string } }[] };
    const doc = (await (await app.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const patterns = new Set<string>();
    for (const item of Object.values(doc.paths)) {
      for (const operation of Object.values(item)) {
        for (const parameter of operation.parameters ?? []) {
          if (parameter.name === "If-Match" || parameter.name === "If-None-Match")
            patterns.add(parameter.schema.pattern);
        }
      }
    }
    expect(patterns.size).toBe(1);
    const [pattern] = [...patterns] as [string];
    for (const flags of ["", "u"]) {
      for (const tag of ['"3"', '"é"', '"\u{1F600}"', '"\uFFFD", W/"1"']) {
        expect([flags, tag, new RegExp(pattern, flags).test(tag)]).toEqual([flags, tag, true]);
      }
      for (const tag of ['"a b"', '"\u007f"', "3"]) {
        expect([flags, tag, new RegExp(pattern, flags).test(tag)]).toEqual([flags, tag, false]);
      }
    }
  });

  it("are all safe from catastrophic backtracking: none worse than linear", async () => {
    const patterns = await documentPatterns();
    // If-Match, Idempotency-Key, dates, ids, time zones, invoice numbers, group_by, blank text, URLs
    expect(patterns.length).toBeGreaterThanOrEqual(10);
    const unsafe = patterns
      .map((pattern) => ({ pattern, diagnostics: checkSync(pattern, "") }))
      .filter(({ diagnostics }) => diagnostics.status !== "safe")
      .map(({ pattern, diagnostics }) => ({
        pattern,
        status: diagnostics.status,
        complexity: diagnostics.status === "vulnerable" ? diagnostics.complexity.summary : undefined,
      }));
    expect(unsafe).toEqual([]);
  }, 60_000);
});
