// The per-caller rate limit on the Workers runtime: the built Worker in
// workerd with wrangler.toml's own `[[ratelimits]]` binding, which Miniflare
// simulates. The limit is counted after authentication and before any database
// work, so the requests here are cheap ones (a malformed id is a 400).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMIT } from "../../src/lib/config";
import { createOrganization, createTeam, type Team } from "../support/factories";
import { startWorkerdHarness, type WorkerdHarness } from "../workerd/workerd-harness";

let h: WorkerdHarness;
let team: Team;

beforeAll(async () => {
  h = await startWorkerdHarness();
  team = await createTeam(h);
});
afterAll(() => h?.close());

const cheapRequest = (token: string) =>
  fetch(new URL("/v1/time-entries/not-an-id", h.url), { headers: { Authorization: `Bearer ${token}` } });

describe("rate limiting in workerd (wrangler.toml's binding, simulated by Miniflare)", () => {
  it("lets a caller make its quota of requests, then answers 429 RATE_LIMITED, the other members and organizations unaffected", async () => {
    const { requests, periodSeconds } = DEFAULT_RATE_LIMIT;
    // Miniflare's windows are aligned to the wall clock: start early in one, so
    // that the whole run falls inside it.
    const intoWindow = Date.now() % (periodSeconds * 1000);
    if (intoWindow > periodSeconds * 1000 - 20_000) {
      await new Promise((resolve) => setTimeout(resolve, periodSeconds * 1000 - intoWindow + 100));
    }
    const policy = `"per-caller";q=${requests};w=${periodSeconds}`;
    const statuses: number[] = [];
    // In batches, all from the owner: the limit is the caller's.
    for (let sent = 0; sent < requests; sent += 50) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(50, requests - sent) }, () => cheapRequest(team.owner.token)),
      );
      for (const res of batch) {
        statuses.push(res.status);
        expect(res.headers.get("RateLimit-Policy")).toBe(policy);
        await res.body?.cancel();
      }
    }
    expect(statuses.filter((s) => s !== 400)).toEqual([]);

    const limited = await cheapRequest(team.owner.token);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("Retry-After")).toBe(String(periodSeconds));
    expect(limited.headers.get("RateLimit-Policy")).toBe(policy);
    expect(await limited.json()).toEqual({
      error: {
        code: "RATE_LIMITED",
        message: `Too many requests for this user; retry in ${periodSeconds} seconds`,
      },
    });

    const colleague = await cheapRequest(team.member.token);
    expect(colleague.status, "another member of the organization keeps their quota").toBe(400);
    await colleague.body?.cancel();

    const other = await createTeam(h);
    const elsewhere = await cheapRequest(other.owner.token);
    expect(elsewhere.status).toBe(400);
    await elsewhere.body?.cancel();

    // A token for an organization the caller is not in is counted under that organization's key,
    // and still needs a membership: it gets 403, not the quota of the caller it names.
    const outsider = await h.sessionToken(team.owner.id, await createOrganization(h));
    const res = await fetch(new URL("/v1/time-entries", h.url), { headers: { Authorization: `Bearer ${outsider}` } });
    expect(res.status).toBe(403);
    await res.body?.cancel();
  }, 90_000);
});
