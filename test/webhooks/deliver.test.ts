// What a failed attempt tells the subscription's owner in the deliveries log: readable reasons, not the runtime's.
import { afterEach, describe, expect, it, vi } from "vitest";
import { attemptDelivery } from "../../src/webhooks/deliver";
import type { DueDelivery } from "../../src/webhooks/delivery.queries";

const delivery: DueDelivery = {
  id: crypto.randomUUID(),
  status: "pending",
  requested_at: "2026-12-01T00:00:00.000Z",
  active: true,
  url: "https://hooks.example.com/receiver",
  secrets: [`whsec_${Buffer.from(new Uint8Array(32)).toString("base64")}`],
  event: {
    id: crypto.randomUUID(),
    type: "webhook.ping",
    created_at: "2026-12-01T00:00:00.000Z",
    data: {},
    previous_attributes: null,
  } as unknown as DueDelivery["event"],
};
const settings = { allowLoopback: false, timeoutMs: 1000, retryBaseSeconds: 30, disableAfterFailures: 5 };

afterEach(() => vi.unstubAllGlobals());

describe("a delivery attempt that reaches no receiver", () => {
  it.each([
    [
      "workerd's connection error",
      () => Promise.reject(new Error("internal error; reference = 1m94j4heo344v5h9a848vorj")),
      null,
      "The receiver could not be reached (no connection: its host did not resolve, or refused it)",
    ],
    [
      "Cloudflare's 530 for an origin it cannot reach",
      () => Promise.resolve(new Response("error code: 1016", { status: 530 })),
      530,
      "The receiver could not be reached (530: its host did not resolve or answer)",
    ],
    [
      "workerd's refused or dropped connection",
      () => Promise.reject(new TypeError("Network connection lost.")),
      null,
      "The receiver could not be reached (the connection was refused, or lost before an answer)",
    ],
    [
      "any other failure",
      () => Promise.reject(new TypeError("fetch failed")),
      null,
      "The request failed: fetch failed",
    ],
    [
      "a receiver's own 503",
      () => Promise.resolve(new Response("", { status: 503 })),
      503,
      "The receiver answered 503",
    ],
  ])("says why in words: %s", async (_, fetch, status, error) => {
    vi.stubGlobal("fetch", vi.fn(fetch));
    const before = Date.now();
    const result = await attemptDelivery(delivery, 1, settings);
    expect(result).toMatchObject({ outcome: "retry", attempted: true, response_status: status, error });
    // When the request went out, not when the batch's outcomes are written.
    expect(Date.parse(result.attempted_at ?? "")).toBeGreaterThanOrEqual(before);
    expect(Date.parse(result.attempted_at ?? "")).toBeLessThanOrEqual(Date.now());
  });
});

describe("a delivery that cannot be signed", () => {
  it("is a failed attempt of its own, retried on schedule, never an error thrown at the batch", async () => {
    const send = vi.fn();
    vi.stubGlobal("fetch", send);
    const unsigned = { ...delivery, secrets: ["whsec_not base64!"] };
    const result = await attemptDelivery(unsigned, 2, settings);
    expect(result).toEqual({
      id: delivery.id,
      outcome: "retry",
      attempted: false,
      attempted_at: null,
      response_status: null,
      duration_ms: null,
      error: expect.stringMatching(/^The delivery could not be signed: /),
      retry_in_seconds: 120,
    });
    expect(send).not.toHaveBeenCalled();
  });
});
