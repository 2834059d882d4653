import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { portIsFree } from "../dev/port";

describe("npm start's port check", () => {
  it("tells a port in use from a free one, and leaves the free one free", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };

    expect(await portIsFree(port)).toBe(false);
    await new Promise((resolve) => server.close(resolve));
    expect(await portIsFree(port)).toBe(true);
    expect(await portIsFree(port)).toBe(true);
  });
});
